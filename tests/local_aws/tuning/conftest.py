"""Fixtures of the tuning tests: clients from the `aws` fixture's session, with the training bucket made."""

from __future__ import annotations

import boto3
import pytest
from support.jobs import TRAINING_BUCKET


@pytest.fixture()
def clients(aws: boto3.Session) -> tuple:
    """(s3, sagemaker, logs) clients, with the training bucket created."""
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=TRAINING_BUCKET)
    return s3, aws.client("sagemaker"), aws.client("logs")
