"""Fixtures of the SageMaker Pipelines tests: clients from the `aws` fixture's session (never boto3's
default session, which another test may have pointed elsewhere)."""

from __future__ import annotations

import boto3
import pytest
from support.pipelines import BUCKET, SDK_BUCKET, SDK_MODEL_GROUP


@pytest.fixture()
def clients(aws: boto3.Session) -> tuple:
    """(s3, sagemaker) clients, with the bucket the steps' jobs read and write."""
    s3, sm = aws.client("s3"), aws.client("sagemaker")
    s3.create_bucket(Bucket=BUCKET)
    return s3, sm


@pytest.fixture()
def session(aws: boto3.Session):
    """A SageMaker SDK v3 PipelineSession on the `aws` session (whose PipelineRole the SDK checks), with its
    default bucket and a model package group."""
    from sagemaker.core.workflow.pipeline_context import PipelineSession

    aws.client("s3").create_bucket(Bucket=SDK_BUCKET)
    aws.client("sagemaker").create_model_package_group(ModelPackageGroupName=SDK_MODEL_GROUP)
    return PipelineSession(boto_session=aws, default_bucket=SDK_BUCKET)
