"""Model Registry through boto3: moto's records plus the calls local_aws adds."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

SPEC = {
    "Containers": [
        {
            "Image": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3",
            "ModelDataUrl": "s3://bucket/model.tar.gz",
        }
    ],
    "SupportedContentTypes": ["text/csv"],
    "SupportedResponseMIMETypes": ["text/csv"],
}


def register(sm, group: str, status: str = "PendingManualApproval") -> str:
    return sm.create_model_package(
        ModelPackageGroupName=group,
        InferenceSpecification=SPEC,
        ModelApprovalStatus=status,
        ModelMetrics={
            "ModelQuality": {"Statistics": {"ContentType": "application/json", "S3Uri": "s3://bucket/evaluation.json"}}
        },
    )["ModelPackageArn"]


def test_versions_count_up_and_never_reuse_a_deleted_number(aws):
    sm = aws.client("sagemaker")
    sm.create_model_package_group(ModelPackageGroupName="abalone-models")
    first, second = register(sm, "abalone-models"), register(sm, "abalone-models")
    assert first.endswith("/1") and second.endswith("/2")
    sm.delete_model_package(ModelPackageName=second)
    third = register(sm, "abalone-models", status="Approved")
    assert third.endswith("/3")
    described = sm.describe_model_package(ModelPackageName=third)
    assert described["ModelPackageVersion"] == 3
    assert described["ModelApprovalStatus"] == "Approved"
    assert described["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"] == "s3://bucket/evaluation.json"
    listed = sm.list_model_packages(ModelPackageGroupName="abalone-models")["ModelPackageSummaryList"]
    assert sorted(p["ModelPackageVersion"] for p in listed) == [1, 3]


def test_group_cannot_be_deleted_while_versions_remain(aws):
    sm = aws.client("sagemaker")
    sm.create_model_package_group(ModelPackageGroupName="g1")
    arn = register(sm, "g1")
    with pytest.raises(ClientError) as err:
        sm.delete_model_package_group(ModelPackageGroupName="g1")
    assert err.value.response["Error"]["Code"] == "ConflictException"
    assert "DeleteModelPackage" in err.value.response["Error"]["Message"]
    sm.delete_model_package(ModelPackageName=arn)
    sm.delete_model_package_group(ModelPackageGroupName="g1")
    assert sm.list_model_package_groups()["ModelPackageGroupSummaryList"] == []


def test_missing_group_and_package_are_validation_errors(aws):
    sm = aws.client("sagemaker")
    for call in (
        lambda: sm.delete_model_package_group(ModelPackageGroupName="nope"),
        lambda: sm.delete_model_package(
            ModelPackageName="arn:aws:sagemaker:us-east-1:123456789012:model-package/nope/1"
        ),
        lambda: register(sm, "nope"),
    ):
        with pytest.raises(ClientError) as err:
            call()
        assert err.value.response["Error"]["Code"] == "ValidationException"
        assert "nope" in err.value.response["Error"]["Message"]


def test_bad_approval_status_is_rejected(aws):
    sm = aws.client("sagemaker")
    sm.create_model_package_group(ModelPackageGroupName="g2")
    with pytest.raises(ClientError, match="modelApprovalStatus"):
        register(sm, "g2", status="Maybe")


def test_approval_update_and_batch_describe(aws):
    sm = aws.client("sagemaker")
    sm.create_model_package_group(ModelPackageGroupName="g3")
    arn = register(sm, "g3")
    sm.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")
    result = sm.batch_describe_model_package(ModelPackageArnList=[arn, arn[:-1] + "9"])
    assert result["ModelPackageSummaries"][arn]["ModelApprovalStatus"] == "Approved"
    assert list(result["BatchDescribeModelPackageErrorMap"]) == [arn[:-1] + "9"]


def test_group_resource_policy_round_trip(aws):
    sm = aws.client("sagemaker")
    sm.create_model_package_group(ModelPackageGroupName="g4")
    policy = json.dumps({"Version": "2012-10-17", "Statement": []})
    sm.put_model_package_group_policy(ModelPackageGroupName="g4", ResourcePolicy=policy)
    assert sm.get_model_package_group_policy(ModelPackageGroupName="g4")["ResourcePolicy"] == policy
    sm.delete_model_package_group_policy(ModelPackageGroupName="g4")
    with pytest.raises(ClientError):
        sm.get_model_package_group_policy(ModelPackageGroupName="g4")
