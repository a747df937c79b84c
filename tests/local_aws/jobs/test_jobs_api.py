"""The jobs service's in-process API (what a pipeline's step calls), run in the test process itself.

The jobs here need no S3 (no inputs, no outputs): their command is `python3 -c ...`, so they run
against this process's moto state without a server.
"""

from __future__ import annotations

import time

import pytest
from support.iam import ADMINISTRATOR, SAGEMAKER_TRUST
from support.jobs import IMAGE, ROLE

import local_aws
from local_aws import jobs
from local_aws.core.gateway.context import RequestContext
from local_aws.core.gateway.errors import ValidationException
from local_aws.core.moto import iam as moto_iam
from local_aws.jobs import JobKind, describe_job, start_job, stop_job, wait_for_job


@pytest.fixture()
def ctx(tmp_path, monkeypatch) -> RequestContext:
    """The caller of an in-process call, with its jobs' work directories under tmp_path; jobs are
    forgotten (and stopped) afterwards as a reset forgets them."""
    monkeypatch.setenv("LOCAL_AWS_HOME", str(tmp_path))
    if moto_iam.role(ROLE) is None:  # the job's role must exist and trust SageMaker, as on AWS
        moto_iam.create_role(ROLE.rsplit("/", 1)[-1], "/", SAGEMAKER_TRUST, [ADMINISTRATOR])
    yield RequestContext(endpoint_url=local_aws.endpoint_url(local_aws.free_port()))
    for hook in jobs.SERVICE.on_reset:
        hook()


def processing_request(name: str, code: str) -> dict:
    return {
        "ProcessingJobName": name,
        "RoleArn": ROLE,
        "ProcessingResources": {
            "ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 5}
        },
        "AppSpecification": {"ImageUri": IMAGE, "ContainerEntrypoint": ["python3", "-c", code]},
    }


def test_start_job_validates_as_the_api_does(ctx):
    with pytest.raises(ValidationException) as err:
        start_job(JobKind.PROCESSING, processing_request("bad_name", "print('x')"), ctx)
    assert err.value.message.startswith("1 validation error detected: Value 'bad_name' at 'processingJobName'")
    with pytest.raises(ValidationException) as err:
        describe_job(JobKind.PROCESSING, "bad_name", ctx)
    assert err.value.message == "Could not find requested job with name bad_name"


def test_start_and_wait_for_a_processing_job(ctx):
    arn = start_job(JobKind.PROCESSING, processing_request("api-ok", "print('hello')"), ctx)
    assert arn == f"arn:aws:sagemaker:{ctx.region}:{ctx.account_id}:processing-job/api-ok"
    assert wait_for_job(JobKind.PROCESSING, "api-ok", ctx, timeout=60) == "Completed"
    described = describe_job(JobKind.PROCESSING, "api-ok", ctx)
    assert described["ProcessingJobArn"] == arn and described["ProcessingJobStatus"] == "Completed"


def test_wait_returns_at_the_timeout_and_stop_ends_the_job(ctx):
    start_job(JobKind.PROCESSING, processing_request("api-slow", "import time; time.sleep(60)"), ctx)
    started = time.monotonic()
    assert wait_for_job(JobKind.PROCESSING, "api-slow", ctx, timeout=0.2) == "InProgress"
    assert time.monotonic() - started < 5
    stop_job(JobKind.PROCESSING, "api-slow", ctx)
    assert wait_for_job(JobKind.PROCESSING, "api-slow", ctx, timeout=60) == "Stopped"
    with pytest.raises(ValidationException) as err:
        stop_job(JobKind.PROCESSING, "api-slow", ctx)
    assert err.value.message == "The request was rejected because the processing job is in status Stopped."


def test_a_failed_training_job_through_the_api(ctx):
    request = {
        "TrainingJobName": "api-fit",
        "RoleArn": ROLE,
        "AlgorithmSpecification": {
            "TrainingImage": IMAGE,
            "TrainingInputMode": "File",
            "ContainerEntrypoint": ["python3", "-c", "import sys; sys.exit(3)"],
        },
        "OutputDataConfig": {"S3OutputPath": "s3://no-bucket/models"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 5},
        "StoppingCondition": {"MaxRuntimeInSeconds": 60},
    }
    start_job(JobKind.TRAINING, request, ctx)
    assert wait_for_job(JobKind.TRAINING, "api-fit", ctx, timeout=60) == "Failed"
    described = describe_job(JobKind.TRAINING, "api-fit", ctx)
    assert described["FailureReason"].startswith("AlgorithmError: See job logs for more information. ExitCode 3.")
    assert [t["Status"] for t in described["SecondaryStatusTransitions"]] == [
        "Starting",
        "Downloading",
        "Training",
        "Failed",
    ]
