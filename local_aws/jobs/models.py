"""The jobs service's state: the two job kinds, a job's record with AWS's statuses, and the registry.

A job moves InProgress -> Completed | Failed | Stopping -> Stopped; a training job also keeps AWS's
SecondaryStatusTransitions. A job's `finished` event is set when its run ends, so code in local_aws
waits for it without polling. A reset forgets every job and stops the ones still running; a shutdown
stops them and waits for their threads. The records are durable (local_aws.core.persistence): after
a restart the job history is there, and a job that was running when the server stopped has ended
Failed, with a reason that says so (its processes ended with the server).
"""
from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

from local_aws.core import persistence
from local_aws.core.errors import ResourceInUse, ValidationException
from local_aws.core.protocol import RequestContext, now, on_reset, on_shutdown

if TYPE_CHECKING:
    from local_aws.jobs.container import Container

TERMINAL = frozenset({"Completed", "Failed", "Stopped"})
_SECONDARY_ENDS = frozenset({"Completed", "Failed", "Stopped", "MaxRuntimeExceeded"})
SHUTDOWN_JOIN_SECONDS = 15
INTERRUPTED = ("InternalServerError: local_aws stopped while this job ran, and its processes ended with it. "
               "Run the job again.")
# What a job's record keeps across a restart: all but the run's live parts (threads, events, processes).
_SAVED_FIELDS = ("kind", "name", "arn", "region", "request", "created", "status", "last_modified", "started",
                 "ended", "failure_reason", "exit_message", "transitions", "metrics", "tuning_job_arn")


class JobKind(str, Enum):
    """A SageMaker job kind, named as its API names it (Create<Kind>Job, <Kind>JobName, ...)."""

    PROCESSING = "Processing"
    TRAINING = "Training"

    @property
    def name_member(self) -> str:
        return f"{self.value}JobName"

    @property
    def status_member(self) -> str:
        return f"{self.value}JobStatus"

    @property
    def noun(self) -> str:
        """'processing' or 'training', as AWS's messages and ARNs spell the kind."""
        return self.value.lower()

    @property
    def log_group(self) -> str:
        return f"/aws/sagemaker/{self.value}Jobs"

    def not_found(self, name: str) -> str:
        """AWS's message for a job that does not exist (the two APIs word it differently)."""
        if self is JobKind.PROCESSING:
            return f"Could not find requested job with name {name}"
        return "Requested resource not found."


_lock = threading.Lock()
_jobs: dict[tuple[str, str, JobKind, str], Job] = {}  # (account, region, kind, name) -> job


@dataclass
class Job:
    kind: JobKind
    name: str
    arn: str
    region: str
    request: dict
    created: dt.datetime = field(default_factory=now)
    status: str = "InProgress"
    last_modified: dt.datetime = field(default_factory=now)
    started: dt.datetime | None = None
    ended: dt.datetime | None = None
    failure_reason: str | None = None
    exit_message: str | None = None
    transitions: list[dict] = field(default_factory=list)  # training SecondaryStatusTransitions
    metrics: list[dict] = field(default_factory=list)
    tuning_job_arn: str | None = None  # the hyperparameter tuning job that launched it
    container: Container | None = None
    stop_requested: threading.Event = field(default_factory=threading.Event)
    finished: threading.Event = field(default_factory=threading.Event)  # its run is over
    discarded: bool = False  # forgotten by a reset: its thread must not write to S3 any more
    thread: threading.Thread | None = None

    def touch(self, **changes: Any) -> None:
        """Change fields and LastModifiedTime together."""
        with _lock:
            for key, value in changes.items():
                setattr(self, key, value)
            self.last_modified = now()
        STATE.changed()

    def secondary(self, status: str, message: str) -> None:
        """Close the current SecondaryStatus transition and open the next one."""
        with _lock:
            stamp = now()
            if self.transitions:
                self.transitions[-1].setdefault("EndTime", stamp)
            self.transitions.append({"Status": status, "StartTime": stamp, "StatusMessage": message})
            if status in _SECONDARY_ENDS:
                self.transitions[-1]["EndTime"] = stamp
            self.last_modified = stamp
        STATE.changed()

    @property
    def secondary_status(self) -> str | None:
        return self.transitions[-1]["Status"] if self.transitions else None

    def snapshot(self) -> tuple[list[dict], list[dict]]:
        """Copies of the transitions and metrics, consistent with each other."""
        with _lock:
            return [dict(t) for t in self.transitions], list(self.metrics)

    def request_stop(self) -> None:
        """Ask the run to stop: before the container starts, or by terminating its processes."""
        self.stop_requested.set()
        if self.container:
            self.container.stop()


def register(kind: JobKind, request: dict, ctx: RequestContext, tuning_job_arn: str | None = None) -> Job:
    """A new job record; ResourceInUse if the account and region have one of that name."""
    name = request[kind.name_member]
    arn = f"arn:aws:sagemaker:{ctx.region}:{ctx.account_id}:{kind.noun}-job/{name.lower()}"
    key = (ctx.account_id, ctx.region, kind, name)
    with _lock:
        if key in _jobs:
            raise ResourceInUse(f"{kind.value} job names must be unique within an AWS account and region, and a "
                                f"{kind.noun} job with this name already exists ({arn})")
        job = Job(kind=kind, name=name, arn=arn, region=ctx.region, request=request, tuning_job_arn=tuning_job_arn)
        _jobs[key] = job
    STATE.changed()
    return job


def find(kind: JobKind, name: str, ctx: RequestContext) -> Job:
    job = _jobs.get((ctx.account_id, ctx.region, kind, name))
    if job is None:
        raise ValidationException(kind.not_found(name))
    return job


def jobs_of(kind: JobKind, ctx: RequestContext) -> list[Job]:
    """Every job of this kind in the caller's account and region."""
    with _lock:
        return [job for (account, region, k, _), job in _jobs.items()
                if (account, region, k) == (ctx.account_id, ctx.region, kind)]


@on_reset
def _forget() -> None:
    with _lock:
        jobs = list(_jobs.values())
        _jobs.clear()
    for job in jobs:
        job.discarded = True
        job.request_stop()


@on_shutdown
def _stop_running() -> None:
    with _lock:
        running = [job for job in _jobs.values() if job.status not in TERMINAL]
    for job in running:
        job.request_stop()
    for job in running:
        if job.thread:
            job.thread.join(timeout=SHUTDOWN_JOIN_SECONDS)


def _dump() -> dict:
    with _lock:
        return {key: {name: _copied(getattr(job, name)) for name in _SAVED_FIELDS} for key, job in _jobs.items()}


def _copied(value: Any) -> Any:
    """Lists of records (transitions, metrics) copied, so a job moving on does not change a snapshot."""
    return [dict(item) for item in value] if isinstance(value, list) else value


def _load(snapshot: dict) -> None:
    with _lock:
        for key, fields in snapshot.items():
            job = Job(**fields)
            if job.status not in TERMINAL:  # it ran when the server stopped: its processes are gone
                stamp = now()
                job.status, job.failure_reason, job.ended, job.last_modified = "Failed", INTERRUPTED, stamp, stamp
                if job.kind is JobKind.TRAINING:
                    if job.transitions:
                        job.transitions[-1].setdefault("EndTime", stamp)
                    job.transitions.append({"Status": "Failed", "StartTime": stamp, "EndTime": stamp,
                                            "StatusMessage": f"Training job failed. Reason: {INTERRUPTED}"})
            job.finished.set()
            _jobs[key] = job


STATE = persistence.durable("jobs", _dump, _load)
