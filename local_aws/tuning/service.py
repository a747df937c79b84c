"""The hyperparameter tuning API: Create, Describe, List and Stop HyperParameterTuningJob, and
ListTrainingJobsForHyperParameterTuningJob, in AWS's shapes.

Create checks what the model cannot say (ranges, the objective among the MetricDefinitions, the budget,
the strategy local_aws runs), answers at once and runs the tuning job in the background
(local_aws.tuning.runner). A pipeline's TuningStep uses the same calls in-process (start_tuning_job).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from local_aws.core.gateway import paging, validation
from local_aws.core.gateway.context import RequestContext
from local_aws.core.gateway.errors import ValidationException
from local_aws.core.iam import authorization, credentials
from local_aws.core.iam.authorization import Call
from local_aws.core.iam.rules import RULES
from local_aws.core.service import Api, drop_none
from local_aws.tuning import models, runner
from local_aws.tuning import ranges as tuning_ranges
from local_aws.tuning.models import TuningJob

DEFAULT_PAGE_SIZE = 10  # AWS's default MaxResults for both List calls
_SORT_JOBS = {"Name": lambda j: j.name, "Status": lambda j: j.status, "CreationTime": lambda j: j.created}


api = Api("sagemaker")


@api.operation("CreateHyperParameterTuningJob")
def create_hyper_parameter_tuning_job(request: dict, ctx: RequestContext) -> dict:
    return {"HyperParameterTuningJobArn": _create(request, ctx)}


def start_tuning_job(request: dict, ctx: RequestContext) -> str:
    """CreateHyperParameterTuningJob from within local_aws (a pipeline's TuningStep): validated against the
    model and authorized for the caller in `ctx` as the server does the API's requests; its ARN."""
    validation.validate("sagemaker", "CreateHyperParameterTuningJob", request)
    call = Call("sagemaker", "CreateHyperParameterTuningJob", request, ctx.region, ctx.account_id)
    authorization.authorize(ctx.principal, call, RULES["sagemaker"])
    return _create(request, ctx)


def _create(request: dict, ctx: RequestContext) -> str:
    _check(request)
    credentials.require_trust(request["TrainingJobDefinition"]["RoleArn"])
    job = models.register(request, ctx)
    runner.start(job, ctx)
    return job.arn


def _check(request: dict) -> None:
    """What AWS refuses beyond the model, and what local_aws does not run."""
    config = request["HyperParameterTuningJobConfig"]
    strategy = config["Strategy"]
    if strategy == "Hyperband":
        raise ValidationException(
            "local_aws does not run the Hyperband strategy (it stops training jobs early from "
            "their intermediate metrics): use Bayesian, Random or Grid."
        )
    if request.get("TrainingJobDefinitions") or "TrainingJobDefinition" not in request:
        raise ValidationException(
            "local_aws runs tuning jobs of one TrainingJobDefinition; TrainingJobDefinitions "
            "(several algorithms in one tuning job) is not supported."
        )
    if "HyperParameterTuningJobObjective" not in config or "ParameterRanges" not in config:
        raise ValidationException(
            "HyperParameterTuningJobConfig needs a HyperParameterTuningJobObjective and "
            "ParameterRanges for a training job definition without its own."
        )
    tuned = {r.name for r in tuning_ranges.parse(config["ParameterRanges"], strategy)}
    limits = config["ResourceLimits"]
    if strategy != "Grid" and not limits.get("MaxNumberOfTrainingJobs"):
        raise ValidationException(f"ResourceLimits.MaxNumberOfTrainingJobs is required for the {strategy} strategy.")
    definition = request["TrainingJobDefinition"]
    metric = config["HyperParameterTuningJobObjective"]["MetricName"]
    defined = [m["Name"] for m in definition["AlgorithmSpecification"].get("MetricDefinitions") or []]
    if metric not in defined:
        raise ValidationException(
            f"The objective metric {metric} is not one of the MetricDefinitions of the training "
            f"job definition ({', '.join(defined) or 'none'}): define a regex for it."
        )
    static = definition.get("StaticHyperParameters") or {}
    if tuned & set(static):
        raise ValidationException(
            f"The hyperparameter(s) {', '.join(sorted(tuned & set(static)))} are both static "
            "and tuned: give each one either a static value or a range."
        )


@api.operation("DescribeHyperParameterTuningJob")
def describe_hyper_parameter_tuning_job(request: dict, ctx: RequestContext) -> dict:
    return describe(models.find(request["HyperParameterTuningJobName"], ctx))


def describe(job: TuningJob) -> dict:
    training, objective = job.counters()
    started = job.created
    return drop_none(
        {
            "HyperParameterTuningJobName": job.name,
            "HyperParameterTuningJobArn": job.arn,
            "HyperParameterTuningJobConfig": job.config,
            "TrainingJobDefinition": job.request.get("TrainingJobDefinition"),
            "WarmStartConfig": job.request.get("WarmStartConfig"),
            "Autotune": job.request.get("Autotune"),
            "HyperParameterTuningJobStatus": job.status,
            "CreationTime": job.created,
            "HyperParameterTuningEndTime": job.ended,
            "LastModifiedTime": job.last_modified,
            "TrainingJobStatusCounters": training,
            "ObjectiveStatusCounters": objective,
            "BestTrainingJob": job.best(),
            "FailureReason": job.failure_reason,
            "ConsumedResources": {
                "RuntimeInSeconds": int(((job.ended or dt.datetime.now(dt.UTC)) - started).total_seconds())
            },
        }
    )


@api.operation("ListHyperParameterTuningJobs")
def list_hyper_parameter_tuning_jobs(request: dict, ctx: RequestContext) -> dict:
    contains = (request.get("NameContains") or "").lower()
    jobs = [j for j in models.tuning_jobs_of(ctx) if contains in j.name.lower()]
    if request.get("StatusEquals"):
        jobs = [j for j in jobs if j.status == request["StatusEquals"]]
    jobs = paging.within_time_bounds(jobs, request)
    jobs.sort(key=_SORT_JOBS[request.get("SortBy", "Name")], reverse=request.get("SortOrder") == "Descending")
    found = paging.page(jobs, request, ctx, DEFAULT_PAGE_SIZE, key=lambda job: job.arn)
    return found.answer({"HyperParameterTuningJobSummaries": [_summary(j) for j in found.items]})


def _summary(job: TuningJob) -> dict:
    training, objective = job.counters()
    return drop_none(
        {
            "HyperParameterTuningJobName": job.name,
            "HyperParameterTuningJobArn": job.arn,
            "HyperParameterTuningJobStatus": job.status,
            "Strategy": job.config["Strategy"],
            "CreationTime": job.created,
            "HyperParameterTuningEndTime": job.ended,
            "LastModifiedTime": job.last_modified,
            "TrainingJobStatusCounters": training,
            "ObjectiveStatusCounters": objective,
            "ResourceLimits": job.config["ResourceLimits"],
        }
    )


@api.operation("ListTrainingJobsForHyperParameterTuningJob")
def list_training_jobs_for_hyper_parameter_tuning_job(request: dict, ctx: RequestContext) -> dict:
    job = models.find(request["HyperParameterTuningJobName"], ctx)
    summaries = job.summaries()
    if request.get("StatusEquals"):
        summaries = [s for s in summaries if s["TrainingJobStatus"] == request["StatusEquals"]]
    found = paging.page(
        sorted_summaries(job, summaries, request.get("SortBy", "CreationTime"), request.get("SortOrder", "Descending")),
        request,
        ctx,
        DEFAULT_PAGE_SIZE,
        scope=job.arn,
        key=lambda s: s["TrainingJobName"],
    )
    return found.answer({"TrainingJobSummaries": found.items})


def sorted_summaries(job: TuningJob, summaries: list[dict], sort_by: str, order: str) -> list[dict]:
    """Sorted as the API sorts them; by FinalObjectiveMetricValue, jobs without an objective value come last
    and "Descending" means best first (for a Minimize objective, the smallest value)."""
    if sort_by == "FinalObjectiveMetricValue":
        scored = [s for s in summaries if "FinalHyperParameterTuningJobObjectiveMetric" in s]
        unscored = [s for s in summaries if "FinalHyperParameterTuningJobObjectiveMetric" not in s]
        best_first = order == "Descending"
        minimize = job.objective["Type"] == "Minimize"
        scored.sort(
            key=lambda s: s["FinalHyperParameterTuningJobObjectiveMetric"]["Value"], reverse=best_first != minimize
        )
        return scored + unscored
    keys: dict[str, Any] = {
        "Name": lambda s: s["TrainingJobName"],
        "Status": lambda s: s["TrainingJobStatus"],
        "CreationTime": lambda s: s["CreationTime"],
    }
    return sorted(summaries, key=keys[sort_by], reverse=order == "Descending")


@api.operation("StopHyperParameterTuningJob")
def stop_hyper_parameter_tuning_job(request: dict, ctx: RequestContext) -> dict:
    job = models.find(request["HyperParameterTuningJobName"], ctx)
    if job.status != "InProgress":
        raise ValidationException(
            f"The hyperparameter tuning job {job.name} is {job.status}; only an InProgress tuning job can be stopped."
        )
    job.touch(status="Stopping")
    job.stop_requested.set()
    return {}
