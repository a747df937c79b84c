"""The Model Registry survives a restart: groups, versions with their approval status and metrics, group
policies, and version numbers that go on from the highest a group ever had."""

from __future__ import annotations

import json
import signal
import time

import pytest
from support import error_of
from support.pipelines import SPEC
from support.restart import OwnServer

GROUP = "abalone-models"
POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Share",
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::210987654321:root"},
                "Action": "sagemaker:DescribeModelPackage",
                "Resource": f"arn:aws:sagemaker:us-east-1:123456789012:model-package/{GROUP}/*",
            }
        ],
    }
)


def register(sm, status: str = "PendingManualApproval") -> str:
    return sm.create_model_package(
        ModelPackageGroupName=GROUP,
        InferenceSpecification=SPEC,
        ModelApprovalStatus=status,
        ModelMetrics={
            "ModelQuality": {"Statistics": {"ContentType": "application/json", "S3Uri": "s3://bucket/evaluation.json"}}
        },
    )["ModelPackageArn"]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["stop", "kill-9"])
def test_versions_policies_and_numbering_survive_a_restart(own_server: OwnServer, sig: int):
    sm = own_server.session().client("sagemaker")
    sm.create_model_package_group(ModelPackageGroupName=GROUP, ModelPackageGroupDescription="abalone")
    first, second, third = register(sm), register(sm), register(sm)
    sm.update_model_package(ModelPackageArn=second, ModelApprovalStatus="Approved")
    sm.delete_model_package(ModelPackageName=third)  # the highest version ever stays 3
    sm.put_model_package_group_policy(ModelPackageGroupName=GROUP, ResourcePolicy=POLICY)
    before = {arn: sm.describe_model_package(ModelPackageName=arn) for arn in (first, second)}
    time.sleep(1.5)  # a kill -9 keeps what was saved (every LOCAL_AWS_SAVE_SECONDS, 1 s)

    own_server.stop(sig)
    sm = own_server.start().session().client("sagemaker")

    assert sm.describe_model_package_group(ModelPackageGroupName=GROUP)["ModelPackageGroupDescription"] == "abalone"
    for arn, described in before.items():
        after = sm.describe_model_package(ModelPackageName=arn)
        assert {**after, "ResponseMetadata": None} == {**described, "ResponseMetadata": None}
    listed = sm.list_model_packages(ModelPackageGroupName=GROUP)["ModelPackageSummaryList"]
    assert sorted((p["ModelPackageVersion"], p["ModelApprovalStatus"]) for p in listed) == [
        (1, "PendingManualApproval"),
        (2, "Approved"),
    ]
    assert sm.get_model_package_group_policy(ModelPackageGroupName=GROUP)["ResourcePolicy"] == POLICY
    assert error_of(lambda: sm.describe_model_package(ModelPackageName=third))[0] == "ValidationException"
    assert register(sm).endswith(f"/{GROUP}/4")
