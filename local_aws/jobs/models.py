"""The jobs service's state: the two job kinds, a job's record with AWS's statuses, and the registry.

A job moves InProgress -> Completed | Failed | Stopping -> Stopped; a training job also keeps AWS's
SecondaryStatusTransitions. A job's `finished` event is set when its run ends, so code in local_aws
waits for it without polling. The registry (local_aws.core.runtime.run_registry) keeps the records durable
and stops the runs at a reset or shutdown; a training job that the server's stop ended also closes
its SecondaryStatusTransitions with a Failed one.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from local_aws.core.gateway.context import RequestContext
from local_aws.core.gateway.errors import ResourceInUse, ValidationException
from local_aws.core.runtime.run_registry import RunRegistry
from local_aws.core.service import now

if TYPE_CHECKING:
    from local_aws.jobs.container import Container

_SECONDARY_ENDS = frozenset({"Completed", "Failed", "Stopped", "MaxRuntimeExceeded"})
INTERRUPTED = (
    "InternalServerError: local_aws stopped while this job ran, and its processes ended with it. Run the job again."
)
# What a job's record keeps across a restart: all but the run's live parts (threads, events, processes).
_SAVED_FIELDS = (
    "kind",
    "name",
    "arn",
    "region",
    "request",
    "created",
    "status",
    "last_modified",
    "started",
    "ended",
    "failure_reason",
    "exit_message",
    "transitions",
    "metrics",
    "tuning_job_arn",
)


class JobKind(StrEnum):
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
        REGISTRY.touch(self, **changes)

    def secondary(self, status: str, message: str) -> None:
        """Close the current SecondaryStatus transition and open the next one."""
        with REGISTRY.lock:
            stamp = now()
            if self.transitions:
                self.transitions[-1].setdefault("EndTime", stamp)
            self.transitions.append({"Status": status, "StartTime": stamp, "StatusMessage": message})
            if status in _SECONDARY_ENDS:
                self.transitions[-1]["EndTime"] = stamp
            self.last_modified = stamp
        REGISTRY.changed()

    @property
    def secondary_status(self) -> str | None:
        return self.transitions[-1]["Status"] if self.transitions else None

    def snapshot(self) -> tuple[list[dict], list[dict]]:
        """Copies of the transitions and metrics, consistent with each other."""
        with REGISTRY.lock:
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
    job = Job(kind=kind, name=name, arn=arn, region=ctx.region, request=request, tuning_job_arn=tuning_job_arn)
    return REGISTRY.add(
        (ctx.account_id, ctx.region, kind, name),
        job,
        lambda: ResourceInUse(
            f"{kind.value} job names must be unique within an AWS account and region, and a {kind.noun} job with "
            f"this name already exists ({arn})"
        ),
    )


def find(kind: JobKind, name: str, ctx: RequestContext) -> Job:
    job = REGISTRY.get((ctx.account_id, ctx.region, kind, name))
    if job is None:
        raise ValidationException(kind.not_found(name))
    return job


def jobs_of(kind: JobKind, ctx: RequestContext) -> list[Job]:
    """Every job of this kind in the caller's account and region."""
    return REGISTRY.select(lambda key: key[:3] == (ctx.account_id, ctx.region, kind))


def _discard(job: Job) -> None:
    """A reset forgot the job: its run stops and its thread must not write to S3 any more."""
    job.discarded = True
    job.request_stop()


def _close_transitions(job: Job, stamp: dt.datetime) -> None:
    """A training job the server's stop ended: its last SecondaryStatus ends, a Failed one follows."""
    if job.kind is JobKind.TRAINING:
        if job.transitions:
            job.transitions[-1].setdefault("EndTime", stamp)
        job.transitions.append(
            {
                "Status": "Failed",
                "StartTime": stamp,
                "EndTime": stamp,
                "StatusMessage": f"Training job failed. Reason: {INTERRUPTED}",
            }
        )


REGISTRY: RunRegistry[Job] = RunRegistry(
    "jobs",
    Job,
    _SAVED_FIELDS,
    INTERRUPTED,
    stop=Job.request_stop,
    forget=_discard,
    after_interruption=_close_transitions,
)
