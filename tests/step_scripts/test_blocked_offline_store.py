"""A feature group whose role may not write its offline store's bucket: Feature Store reports the
offline store Blocked with the reason, and fetch_data.py stops at once saying so instead of waiting
(and billing an instance) until its timeout."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from support import GUARD_SITE, REPO, wait_until
from support.featurestore import create_group
from support.iam import SAGEMAKER_FULL_ACCESS, create_role

import local_aws

GROUP = "blocked-customers"


def test_a_bucket_the_role_may_not_write_blocks_the_offline_store_and_fetch_fails_fast(aws):
    role = create_role(aws, "FullAccessOnly", [SAGEMAKER_FULL_ACCESS])  # bucket actions only on *sagemaker*
    aws.client("s3").create_bucket(Bucket="my-data")
    create_group(aws, GROUP, RoleArn=role, OfflineStoreConfig={"S3StorageConfig": {"S3Uri": "s3://my-data/fs"}})
    aws.client("sagemaker-featurestore-runtime").put_record(
        FeatureGroupName=GROUP,
        Record=[
            {"FeatureName": "customer_id", "ValueAsString": "1"},
            {"FeatureName": "event_time", "ValueAsString": "2024-05-01T00:00:00Z"},
            {"FeatureName": "age", "ValueAsString": "30"},
            {"FeatureName": "balance", "ValueAsString": "1.5"},
        ],
    )
    local_aws.flush()
    status = wait_until(
        lambda: aws.client("sagemaker").describe_feature_group(FeatureGroupName=GROUP),
        lambda d: d["OfflineStoreStatus"]["Status"] == "Blocked",
    )["OfflineStoreStatus"]
    assert (
        "AccessDenied User: arn:aws:sts::123456789012:assumed-role/FullAccessOnly/SageMaker is not authorized "
        'to perform: s3:GetBucketAcl on resource: "arn:aws:s3:::my-data"' in status["BlockedReason"]
    )
    assert aws.client("s3").list_objects_v2(Bucket="my-data").get("KeyCount") == 0

    started = time.monotonic()
    env = {
        **os.environ,
        "AWS_REGION": "us-east-1",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(GUARD_SITE), str(REPO), os.environ.get("PYTHONPATH")])),
    }
    result = subprocess.run(
        [
            sys.executable,
            str(REPO / "step_scripts" / "fetch_data.py"),
            "--feature-group-name",
            GROUP,
            "--expected-rows",
            "1",
            "--timeout-seconds",
            "600",
            "--output-dir",
            "/tmp/unused",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=REPO,
    )
    assert result.returncode == 1, result.stderr
    assert time.monotonic() - started < 60
    errors = [line for line in result.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and f"the offline store of feature group '{GROUP}' is Blocked" in errors[0], result.stderr
    assert f"the group's role {role} needs s3:PutObject, s3:PutObjectAcl and s3:GetBucketAcl" in errors[0]
