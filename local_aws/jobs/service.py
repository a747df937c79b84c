"""The SageMaker API of processing and training jobs: Create, Describe, List and Stop.

Requests arrive validated against botocore's model. Create starts the job's run (see runner) and
returns its ARN at once; Describe echoes the request back with the times, statuses, FailureReason,
ExitMessage and, for training, the artifacts, SecondaryStatusTransitions and final metrics AWS fills
in; List filters, sorts and pages through local_aws.core.gateway.paging. `local_aws.jobs.api` offers the same
functions to code inside local_aws (a pipeline's steps).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from local_aws.core.gateway import paging
from local_aws.core.gateway.context import RequestContext
from local_aws.core.service import Api, drop_none, now
from local_aws.jobs import models, runner, specs
from local_aws.jobs.models import Job, JobKind

PROCESSING, TRAINING = JobKind.PROCESSING, JobKind.TRAINING
DEFAULT_PAGE_SIZE = 10
_SORT_KEYS: dict[str, Callable[[Job], Any]] = {"Name": lambda j: j.name, "Status": lambda j: j.status}


def describe(kind: JobKind, name: str, ctx: RequestContext) -> dict:
    """Describe<Kind>Job's answer for the named job."""
    job = models.find(kind, name, ctx)
    return _describe_processing(job) if kind is PROCESSING else _describe_training(job)


def _describe_processing(job: Job) -> dict:
    body = {k: v for k, v in job.request.items() if k != "Tags"}
    body.update(
        drop_none(
            {
                "ProcessingJobArn": job.arn,
                "ProcessingJobStatus": job.status,
                "ExitMessage": job.exit_message,
                "FailureReason": job.failure_reason,
                "ProcessingEndTime": job.ended,
                "ProcessingStartTime": job.started,
                "LastModifiedTime": job.last_modified,
                "CreationTime": job.created,
            }
        )
    )
    return body


def _describe_training(job: Job) -> dict:
    body = {k: v for k, v in job.request.items() if k != "Tags"}
    transitions, metrics = job.snapshot()
    seconds = int(((job.ended or now()) - job.started).total_seconds()) if job.started else None
    body.update(
        drop_none(
            {
                "TrainingJobArn": job.arn,
                "TuningJobArn": job.tuning_job_arn,
                "ModelArtifacts": {"S3ModelArtifacts": f"{specs.artifact_prefix(job)}/model.tar.gz"},
                "TrainingJobStatus": job.status,
                "SecondaryStatus": transitions[-1]["Status"] if transitions else "Starting",
                "FailureReason": job.failure_reason,
                "CreationTime": job.created,
                "TrainingStartTime": job.started,
                "TrainingEndTime": job.ended,
                "LastModifiedTime": job.last_modified,
                "SecondaryStatusTransitions": transitions,
                "FinalMetricDataList": metrics or None,
                "TrainingTimeInSeconds": seconds if job.ended else None,
                "BillableTimeInSeconds": seconds if job.ended else None,
                "EnableNetworkIsolation": job.request.get("EnableNetworkIsolation", False),
                "EnableInterContainerTrafficEncryption": job.request.get(
                    "EnableInterContainerTrafficEncryption", False
                ),
                "EnableManagedSpotTraining": job.request.get("EnableManagedSpotTraining", False),
            }
        )
    )
    return body


def _processing_summary(job: Job) -> dict:
    return drop_none(
        {
            "ProcessingJobName": job.name,
            "ProcessingJobArn": job.arn,
            "CreationTime": job.created,
            "ProcessingEndTime": job.ended,
            "LastModifiedTime": job.last_modified,
            "ProcessingJobStatus": job.status,
            "FailureReason": job.failure_reason,
            "ExitMessage": job.exit_message,
        }
    )


def _training_summary(job: Job) -> dict:
    return drop_none(
        {
            "TrainingJobName": job.name,
            "TrainingJobArn": job.arn,
            "CreationTime": job.created,
            "TrainingEndTime": job.ended,
            "LastModifiedTime": job.last_modified,
            "TrainingJobStatus": job.status,
            "SecondaryStatus": job.secondary_status,
        }
    )


def _list(kind: JobKind, request: dict, ctx: RequestContext) -> dict:
    """List<Kind>Jobs: NameContains, StatusEquals and the time bounds, sorted, one page."""
    contains = (request.get("NameContains") or "").lower()
    jobs = [j for j in models.jobs_of(kind, ctx) if contains in j.name.lower()]
    if request.get("StatusEquals"):
        jobs = [j for j in jobs if j.status == request["StatusEquals"]]
    jobs = paging.within_time_bounds(jobs, request)
    jobs.sort(
        key=_SORT_KEYS.get(request.get("SortBy", "CreationTime"), lambda j: j.created),
        reverse=request.get("SortOrder", "Descending") == "Descending",
    )
    found = paging.page(jobs, request, ctx, DEFAULT_PAGE_SIZE, key=lambda job: job.arn)
    summary = _processing_summary if kind is PROCESSING else _training_summary
    return found.answer({f"{kind.value}JobSummaries": [summary(j) for j in found.items]})


# -- processing jobs ---------------------------------------------------------------------------
api = Api("sagemaker")


@api.operation("CreateProcessingJob")
def create_processing_job(request: dict, ctx: RequestContext) -> dict:
    return {"ProcessingJobArn": runner.start(PROCESSING, request, ctx).arn}


@api.operation("DescribeProcessingJob")
def describe_processing_job(request: dict, ctx: RequestContext) -> dict:
    return describe(PROCESSING, request["ProcessingJobName"], ctx)


@api.operation("ListProcessingJobs")
def list_processing_jobs(request: dict, ctx: RequestContext) -> dict:
    return _list(PROCESSING, request, ctx)


@api.operation("StopProcessingJob")
def stop_processing_job(request: dict, ctx: RequestContext) -> dict:
    runner.stop(PROCESSING, request["ProcessingJobName"], ctx)
    return {}


# -- training jobs -----------------------------------------------------------------------------
@api.operation("CreateTrainingJob")
def create_training_job(request: dict, ctx: RequestContext) -> dict:
    return {"TrainingJobArn": runner.start(TRAINING, request, ctx).arn}


@api.operation("DescribeTrainingJob")
def describe_training_job(request: dict, ctx: RequestContext) -> dict:
    return describe(TRAINING, request["TrainingJobName"], ctx)


@api.operation("ListTrainingJobs")
def list_training_jobs(request: dict, ctx: RequestContext) -> dict:
    return _list(TRAINING, request, ctx)


@api.operation("StopTrainingJob")
def stop_training_job(request: dict, ctx: RequestContext) -> dict:
    runner.stop(TRAINING, request["TrainingJobName"], ctx)
    return {}
