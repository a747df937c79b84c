"""Fixtures of the jobs tests: clients from the `aws` fixture's session (never boto3's default
session, which another test may have pointed elsewhere), with the jobs' buckets made."""

from __future__ import annotations

import boto3
import pytest
from support.jobs import PROCESSING_BUCKET, TRAINING_BUCKET

SDK_BUCKET = "sagemaker-us-east-1-123456789012"


@pytest.fixture()
def clients(aws: boto3.Session) -> tuple:
    """(s3, sagemaker, logs) clients, with the processing and training buckets created."""
    s3, sm = aws.client("s3"), aws.client("sagemaker")
    s3.create_bucket(Bucket=PROCESSING_BUCKET)
    s3.create_bucket(Bucket=TRAINING_BUCKET)
    return s3, sm, aws.client("logs")


@pytest.fixture()
def sdk(aws: boto3.Session):
    """A SageMaker SDK v3 session on the `aws` session (whose SageMakerRole ModelTrainer checks), with a data
    bucket."""
    from sagemaker.core.helper.session_helper import Session

    aws.client("s3").create_bucket(Bucket="data-bucket")
    return Session(boto_session=aws, default_bucket=SDK_BUCKET)
