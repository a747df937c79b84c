"""The tuning service's state: a hyperparameter tuning job's record, its training jobs, and the registry.

A tuning job moves InProgress -> Completed | Failed | Stopping -> Stopped. Each training job it launched
is kept as AWS summarises it (HyperParameterTrainingJobSummary): its tuned hyperparameters, status and
final objective value. The records are durable: after a restart the history is there, and a tuning job
that was running has ended Failed, saying why (its training jobs ended with the server).
"""
from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field
from typing import Any

from local_aws.core import persistence
from local_aws.core.errors import ResourceInUse, ResourceNotFound
from local_aws.core.protocol import RequestContext, drop_none, now, on_reset, on_shutdown

TERMINAL = frozenset({"Completed", "Failed", "Stopped"})
INTERRUPTED = "local_aws stopped while this tuning job ran, and its training jobs ended with it. Run it again."
SHUTDOWN_JOIN_SECONDS = 15
_SAVED_FIELDS = ("name", "arn", "region", "account_id", "request", "created", "status", "last_modified", "ended",
                 "failure_reason", "trainings")

_lock = threading.Lock()
_tuning_jobs: dict[tuple[str, str, str], TuningJob] = {}  # (account, region, name) -> job


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
        with _lock:
            for key, value in changes.items():
                setattr(self, key, value)
            self.last_modified = now()
        STATE.changed()

    def record(self, summary: dict) -> None:
        """Add or update one training job's summary (matched by name)."""
        with _lock:
            for index, known in enumerate(self.trainings):
                if known["TrainingJobName"] == summary["TrainingJobName"]:
                    self.trainings[index] = {**known, **summary}
                    break
            else:
                self.trainings.append(summary)
            self.last_modified = now()
        STATE.changed()

    def summaries(self) -> list[dict]:
        with _lock:
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
        training = {"Completed": statuses.count("Completed"), "InProgress": statuses.count("InProgress"),
                    "RetryableError": 0, "NonRetryableError": statuses.count("Failed"),
                    "Stopped": statuses.count("Stopped")}
        objectives = [s.get("ObjectiveStatus", "Pending") for s in summaries]
        objective = {name: objectives.count(name) for name in ("Succeeded", "Pending", "Failed")}
        return training, objective


def register(request: dict, ctx: RequestContext) -> TuningJob:
    name = request["HyperParameterTuningJobName"]
    arn = f"arn:aws:sagemaker:{ctx.region}:{ctx.account_id}:hyper-parameter-tuning-job/{name.lower()}"
    with _lock:
        if (ctx.account_id, ctx.region, name) in _tuning_jobs:
            raise ResourceInUse(f"Hyperparameter tuning job names must be unique within an AWS account and region, "
                                f"and a hyperparameter tuning job with this name already exists ({arn})")
        job = _tuning_jobs[(ctx.account_id, ctx.region, name)] = TuningJob(name, arn, ctx.region, ctx.account_id,
                                                                            request)
    STATE.changed()
    return job


def find(name: str, ctx: RequestContext) -> TuningJob:
    job = _tuning_jobs.get((ctx.account_id, ctx.region, name))
    if job is None:
        raise ResourceNotFound(f"Amazon SageMaker can't find a tuning job with name {name}")
    return job


def tuning_jobs_of(ctx: RequestContext) -> list[TuningJob]:
    with _lock:
        return [job for (account, region, _), job in _tuning_jobs.items() if (account, region) == (ctx.account_id,
                                                                                                   ctx.region)]


@on_reset
def _forget() -> None:
    with _lock:
        jobs = list(_tuning_jobs.values())
        _tuning_jobs.clear()
    for job in jobs:
        job.stop_requested.set()


@on_shutdown
def _stop_running() -> None:
    with _lock:
        running = [job for job in _tuning_jobs.values() if job.status not in TERMINAL]
    for job in running:
        job.stop_requested.set()
    for job in running:
        if job.thread:
            job.thread.join(timeout=SHUTDOWN_JOIN_SECONDS)


def _dump() -> dict:
    with _lock:
        return {key: {name: _copied(getattr(job, name)) for name in _SAVED_FIELDS}
                for key, job in _tuning_jobs.items()}


def _copied(value: Any) -> Any:
    return [dict(item) for item in value] if isinstance(value, list) else value


def _load(snapshot: dict) -> None:
    with _lock:
        for key, fields in snapshot.items():
            job = TuningJob(**fields)
            if job.status not in TERMINAL:
                stamp = now()
                job.status, job.failure_reason, job.ended, job.last_modified = "Failed", INTERRUPTED, stamp, stamp
                for summary in job.trainings:
                    if summary["TrainingJobStatus"] == "InProgress":
                        summary.update(TrainingJobStatus="Failed", ObjectiveStatus="Failed",
                                       FailureReason=INTERRUPTED)
            job.finished.set()
            _tuning_jobs[key] = job


STATE = persistence.durable("tuning", _dump, _load)
