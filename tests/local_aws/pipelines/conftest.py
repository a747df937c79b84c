"""Fixtures of the SageMaker Pipelines tests: clients from the `aws` fixture's session (never boto3's
default session, which another test may have pointed elsewhere)."""
from __future__ import annotations

import json

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
    """A SageMaker SDK v3 PipelineSession on the `aws` session, with the role the SDK checks, its default
    bucket and a model package group."""
    from sagemaker.core.workflow.pipeline_context import PipelineSession

    # The SDK validates the role (it must exist, trust SageMaker and allow the pipeline's and jobs' actions).
    iam = aws.client("iam")
    iam.create_role(RoleName="PipelineRole", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"Service": "sagemaker.amazonaws.com"}}]}))
    iam.attach_role_policy(RoleName="PipelineRole", PolicyArn="arn:aws:iam::aws:policy/AmazonSageMakerFullAccess")
    aws.client("s3").create_bucket(Bucket=SDK_BUCKET)
    aws.client("sagemaker").create_model_package_group(ModelPackageGroupName=SDK_MODEL_GROUP)
    return PipelineSession(boto_session=aws, default_bucket=SDK_BUCKET)
