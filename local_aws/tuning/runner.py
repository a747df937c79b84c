"""A tuning job's run: training jobs launched from its definition, a few at a time, until the budget is spent.

A thread per tuning job asks the strategy for hyperparameters, starts each training job through the
jobs service (named `<tuning job>-<NNN>-<8 hex>` and tagged with the tuning job's ARN, as AWS names
them), keeps at most MaxParallelTrainingJobs running, reads each finished job's objective from its
FinalMetricDataList (the MetricDefinitions regexes over its log) and tells the strategy. It ends
Completed when MaxNumberOfTrainingJobs ran (Grid: every combination) or a job reached
TargetObjectiveMetricValue, Failed when no training job succeeded, Stopped when asked to stop (its
running training jobs are stopped). Early stopping (TrainingJobEarlyStoppingType Auto) acts as Off.
"""

from __future__ import annotations

import logging
import os
import threading

from local_aws.core.gateway.context import RequestContext
from local_aws.core.gateway.errors import AwsError
from local_aws.core.runtime.run_registry import TERMINAL
from local_aws.core.service import drop_none, now
from local_aws.jobs import JobKind, describe_job, start_job, stop_job, wait_for_job
from local_aws.tuning import ranges as tuning_ranges
from local_aws.tuning.models import TuningJob
from local_aws.tuning.strategies import GridSearch, strategy_for

log = logging.getLogger("local_aws.tuning")
WATCH_SECONDS = 0.2  # how long each look at a running training job waits for it to end


def start(job: TuningJob, ctx: RequestContext) -> None:
    job.thread = threading.Thread(target=_guarded, args=(job, ctx), name=f"TuningJob-{job.name}", daemon=True)
    job.thread.start()


def _guarded(job: TuningJob, ctx: RequestContext) -> None:
    try:
        _run(job, ctx)
    except Exception as exc:  # an emulator bug: say so on the job, as AWS says InternalServerError
        log.exception("tuning job %s failed in local_aws", job.name)
        job.touch(status="Failed", ended=now(), failure_reason=f"InternalServerError: local_aws failed: {exc!r}")
    finally:
        job.finished.set()


def _run(job: TuningJob, ctx: RequestContext) -> None:
    config, definition = job.config, job.request["TrainingJobDefinition"]
    parameters = tuning_ranges.parse(config["ParameterRanges"], config["Strategy"])
    strategy = strategy_for(
        config["Strategy"], parameters, job.objective["Type"] == "Minimize", config.get("RandomSeed")
    )
    limits = config["ResourceLimits"]
    budget = limits.get("MaxNumberOfTrainingJobs") or 0
    if isinstance(strategy, GridSearch):
        budget = min(budget, strategy.size) if budget else strategy.size
    target = (config.get("TuningJobCompletionCriteria") or {}).get("TargetObjectiveMetricValue")
    running: dict[str, int] = {}  # training job name -> the strategy's handle
    launched, reached = 0, False
    while not job.stop_requested.is_set():
        while len(running) < limits["MaxParallelTrainingJobs"] and launched < budget and not reached:
            suggestion = strategy.suggest()
            if suggestion is None:
                break
            launched += 1
            name = _launch(job, ctx, definition, launched, suggestion[1])
            if name:
                running[name] = suggestion[0]
            else:
                strategy.observe(suggestion[0], None)
        if not running:
            break
        for name in [n for n in running if wait_for_job(JobKind.TRAINING, n, ctx, WATCH_SECONDS) in TERMINAL]:
            objective = _finished(job, ctx, name)
            strategy.observe(running.pop(name), objective)
            reached = reached or (objective is not None and target is not None and _beats(job, objective, target))
    if job.stop_requested.is_set():
        _stop_all(job, ctx, running)
        job.touch(status="Stopped", ended=now())
    elif job.best() is None:
        job.touch(status="Failed", ended=now(), failure_reason=_failure_reason(job))
    else:
        job.touch(status="Completed", ended=now())


def _launch(job: TuningJob, ctx: RequestContext, definition: dict, index: int, tuned: dict[str, str]) -> str | None:
    """Start one training job; its name, or None when SageMaker refused it (recorded as failed)."""
    name = f"{job.name}-{index:03d}-{os.urandom(4).hex()}"
    summary = {
        "TrainingJobName": name,
        "TuningJobName": job.name,
        "CreationTime": now(),
        "TunedHyperParameters": tuned,
        "TrainingJobStatus": "InProgress",
        "ObjectiveStatus": "Pending",
        "TrainingJobDefinitionName": definition.get("DefinitionName"),
    }
    try:
        summary["TrainingJobArn"] = start_job(
            JobKind.TRAINING,
            training_request(definition, name, tuned, job.objective["MetricName"]),
            ctx,
            tuning_job_arn=job.arn,
        )
    except AwsError as err:
        summary.update(
            TrainingJobArn=f"arn:aws:sagemaker:{job.region}:{job.account_id}:training-job/{name.lower()}",
            TrainingJobStatus="Failed",
            ObjectiveStatus="Failed",
            TrainingEndTime=now(),
            FailureReason=f"{err.code}: {err.message}",
        )
        job.record(summary)
        return None
    job.record(summary)
    return name


def training_request(definition: dict, name: str, tuned: dict[str, str], objective_metric: str) -> dict:
    """The CreateTrainingJob request a tuning job makes from its definition and one set of hyperparameters.

    As on AWS, the job also gets the hyperparameter `_tuning_objective_metric` naming the objective."""
    algorithm = definition["AlgorithmSpecification"]
    tuning_resources = definition.get("HyperParameterTuningResourceConfig") or {}
    resources = definition.get("ResourceConfig") or drop_none(
        {
            "InstanceType": tuning_resources.get("InstanceType", "ml.m5.large"),
            "InstanceCount": tuning_resources.get("InstanceCount", 1),
            "VolumeSizeInGB": tuning_resources.get("VolumeSizeInGB", 30),
        }
    )
    return drop_none(
        {
            "TrainingJobName": name,
            "RoleArn": definition["RoleArn"],
            "AlgorithmSpecification": drop_none(
                {
                    "TrainingImage": algorithm.get("TrainingImage"),
                    "AlgorithmName": algorithm.get("AlgorithmName"),
                    "TrainingInputMode": algorithm["TrainingInputMode"],
                    "MetricDefinitions": algorithm.get("MetricDefinitions"),
                }
            ),
            "HyperParameters": {
                **(definition.get("StaticHyperParameters") or {}),
                **tuned,
                "_tuning_objective_metric": objective_metric,
            },
            "InputDataConfig": definition.get("InputDataConfig"),
            "OutputDataConfig": definition["OutputDataConfig"],
            "ResourceConfig": resources,
            "StoppingCondition": definition["StoppingCondition"],
            "VpcConfig": definition.get("VpcConfig"),
            "Environment": definition.get("Environment"),
            "EnableNetworkIsolation": definition.get("EnableNetworkIsolation"),
            "EnableInterContainerTrafficEncryption": definition.get("EnableInterContainerTrafficEncryption"),
            "EnableManagedSpotTraining": definition.get("EnableManagedSpotTraining"),
            "CheckpointConfig": definition.get("CheckpointConfig"),
            "RetryStrategy": definition.get("RetryStrategy"),
        }
    )


def _finished(job: TuningJob, ctx: RequestContext, name: str) -> float | None:
    """Record a finished training job with its objective value (None when it has none)."""
    described = describe_job(JobKind.TRAINING, name, ctx)
    metric = job.objective["MetricName"]
    value = next((m["Value"] for m in described.get("FinalMetricDataList", []) if m["MetricName"] == metric), None)
    completed = described["TrainingJobStatus"] == "Completed"
    objective = value if completed else None
    job.record(
        drop_none(
            {
                "TrainingJobName": name,
                "TrainingJobStatus": described["TrainingJobStatus"],
                "TrainingStartTime": described.get("TrainingStartTime"),
                "TrainingEndTime": described.get("TrainingEndTime"),
                "FailureReason": described.get("FailureReason")
                or (
                    None
                    if objective is not None or not completed
                    else f"The objective metric {metric} was not found in the training job's log: "
                    "check MetricDefinitions."
                ),
                "ObjectiveStatus": "Succeeded" if objective is not None else "Failed",
                "FinalHyperParameterTuningJobObjectiveMetric": None
                if objective is None
                else {"Type": job.objective["Type"], "MetricName": metric, "Value": objective},
            }
        )
    )
    return objective


def _beats(job: TuningJob, objective: float, target: float) -> bool:
    return objective <= target if job.objective["Type"] == "Minimize" else objective >= target


def _stop_all(job: TuningJob, ctx: RequestContext, running: dict[str, int]) -> None:
    for name in running:
        try:
            stop_job(JobKind.TRAINING, name, ctx)
        except AwsError:
            pass  # it ended meanwhile
    for name in running:
        while wait_for_job(JobKind.TRAINING, name, ctx, 1.0) not in TERMINAL:
            pass
        _finished(job, ctx, name)


def _failure_reason(job: TuningJob) -> str:
    summaries = job.summaries()
    if not summaries:
        return "No training job ran."
    reasons = sorted({s.get("FailureReason", "no reason given") for s in summaries})
    return f"All {len(summaries)} training jobs failed: {'; '.join(reasons)[:900]}"
