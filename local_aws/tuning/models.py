"""The tuning service's state: a hyperparameter tuning job's record, its training jobs, and the registry.

A tuning job moves InProgress -> Completed | Failed | Stopping -> Stopped. Each training job it launched
is kept as AWS summarises it (HyperParameterTrainingJobSummary): its tuned hyperparameters, status and
final objective value. The registry (local_aws.core.runtime.run_registry) keeps the records durable: after a
restart the history is there, and a tuning job that was running has ended Failed, saying why, with its
running training jobs (they ended with the server).
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field
from typing import Any

from local_aws.core.gateway.context import RequestContext
from local_aws.core.gateway.errors import ResourceInUse, ResourceNotFound
from local_aws.core.runtime.run_registry import RunRegistry
from local_aws.core.service import drop_none, now

INTERRUPTED = "local_aws stopped while this tuning job ran, and its training jobs ended with it. Run it again."
_SAVED_FIELDS = (
    "name",
    "arn",
    "region",
    "account_id",
    "request",
    "created",
    "status",
    "last_modified",
    "ended",
    "failure_reason",
    "trainings",
)


@dataclass
class TuningJob:
    name: str
    arn: str
    region: str
    account_id: str
    request: dict
    created: dt.datetime = field(default_factory=now)
    status: str = "InProgress"
    last_modified: dt.datetime = field(default_factory=now)
    ended: dt.datetime | None = None
    failure_reason: str | None = None
    trainings: list[dict] = field(default_factory=list)  # HyperParameterTrainingJobSummary, in launch order
    stop_requested: threading.Event = field(default_factory=threading.Event)
    finished: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    @property
    def config(self) -> dict:
        return self.request["HyperParameterTuningJobConfig"]

    @property
    def objective(self) -> dict:
        return self.config["HyperParameterTuningJobObjective"]

    def touch(self, **changes: Any) -> None:
        REGISTRY.touch(self, **changes)

    def record(self, summary: dict) -> None:
        """Add or update one training job's summary (matched by name)."""
        with REGISTRY.lock:
            for index, known in enumerate(self.trainings):
                if known["TrainingJobName"] == summary["TrainingJobName"]:
                    self.trainings[index] = {**known, **summary}
                    break
            else:
                self.trainings.append(summary)
            self.last_modified = now()
        REGISTRY.changed()

    def summaries(self) -> list[dict]:
        with REGISTRY.lock:
            return [drop_none(dict(summary)) for summary in self.trainings]

    def best(self) -> dict | None:
        """The summary of the training job with the best objective so far."""
        scored = [s for s in self.summaries() if s.get("ObjectiveStatus") == "Succeeded"]
        if not scored:
            return None
        sign = 1 if self.objective["Type"] == "Minimize" else -1
        return min(scored, key=lambda s: sign * s["FinalHyperParameterTuningJobObjectiveMetric"]["Value"])

    def counters(self) -> tuple[dict, dict]:
        """TrainingJobStatusCounters and ObjectiveStatusCounters."""
        summaries = self.summaries()
        statuses = [s["TrainingJobStatus"] for s in summaries]
        training = {
            "Completed": statuses.count("Completed"),
            "InProgress": statuses.count("InProgress"),
            "RetryableError": 0,
            "NonRetryableError": statuses.count("Failed"),
            "Stopped": statuses.count("Stopped"),
        }
        objectives = [s.get("ObjectiveStatus", "Pending") for s in summaries]
        objective = {name: objectives.count(name) for name in ("Succeeded", "Pending", "Failed")}
        return training, objective


def register(request: dict, ctx: RequestContext) -> TuningJob:
    name = request["HyperParameterTuningJobName"]
    arn = f"arn:aws:sagemaker:{ctx.region}:{ctx.account_id}:hyper-parameter-tuning-job/{name.lower()}"
    return REGISTRY.add(
        (ctx.account_id, ctx.region, name),
        TuningJob(name, arn, ctx.region, ctx.account_id, request),
        lambda: ResourceInUse(
            f"Hyperparameter tuning job names must be unique within an AWS account and region, "
            f"and a hyperparameter tuning job with this name already exists ({arn})"
        ),
    )


def find(name: str, ctx: RequestContext) -> TuningJob:
    job = REGISTRY.get((ctx.account_id, ctx.region, name))
    if job is None:
        raise ResourceNotFound(f"Amazon SageMaker can't find a tuning job with name {name}")
    return job


def tuning_jobs_of(ctx: RequestContext) -> list[TuningJob]:
    return REGISTRY.select(lambda key: key[:2] == (ctx.account_id, ctx.region))


def _stop(job: TuningJob) -> None:
    job.stop_requested.set()


def _fail_running_trainings(job: TuningJob, stamp: dt.datetime) -> None:
    """The server's stop ended the tuning job's running training jobs too."""
    for summary in job.trainings:
        if summary["TrainingJobStatus"] == "InProgress":
            summary.update(TrainingJobStatus="Failed", ObjectiveStatus="Failed", FailureReason=INTERRUPTED)


REGISTRY: RunRegistry[TuningJob] = RunRegistry(
    "tuning", TuningJob, _SAVED_FIELDS, INTERRUPTED, stop=_stop, after_interruption=_fail_running_trainings
)
