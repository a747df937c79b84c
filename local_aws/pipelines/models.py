"""The pipelines and executions local_aws holds, and how requests find them.

A pipeline keeps every version of its definition (UpdatePipeline adds one); executions are kept
by ARN until their pipeline is deleted or the server reset, so any client (a second notebook, the
CLI) can follow them. ARNs follow AWS: the pipeline name lowercased, a 12-character execution id.
`lock` guards both registries; each execution's own lock guards its state.

Both registries are saved (local_aws.core.runtime.persistence): whatever changes a pipeline, an execution or
a step record calls `STATE.changed()` once it has; the saver thread copies them under the locks and
pickles the copies. An execution running when the server died loads Failed (execution.py).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from dataclasses import dataclass, field

from local_aws.core.gateway.context import RequestContext
from local_aws.core.gateway.errors import AwsError, ResourceNotFound
from local_aws.core.runtime.store import FunctionStore
from local_aws.core.service import now
from local_aws.pipelines.definition import Definition
from local_aws.pipelines.execution import Execution, StepRecord

DEFAULT_MAX_RESULTS = 50  # a List* page when MaxResults is not given
LAYOUT = 1  # the saved state's shape; a snapshot of another shape does not load (and is set aside)


@dataclass
class Version:
    version_id: int
    definition: Definition
    created: dt.datetime


@dataclass
class Pipeline:
    name: str
    arn: str
    ctx: RequestContext
    role_arn: str
    display_name: str
    description: str | None
    parallelism: dict | None
    versions: list[Version]
    created: dt.datetime = field(default_factory=now)
    modified: dt.datetime = field(default_factory=now)
    last_run: dt.datetime | None = None
    start_tokens: dict[str, str] = field(default_factory=dict)  # ClientRequestToken -> execution ARN

    @property
    def latest(self) -> Version:
        return self.versions[-1]

    def version(self, version_id: int | None, error: type[AwsError]) -> Version:
        """The version with that id (the latest when None); `error` when there is none."""
        if version_id is None:
            return self.latest
        found = next((v for v in self.versions if v.version_id == version_id), None)
        if found is None:
            raise error(f"Pipeline version {version_id} of pipeline '{self.arn}' does not exist.")
        return found


lock = threading.RLock()
pipelines: dict[str, Pipeline] = {}  # pipeline ARN -> pipeline
executions: dict[str, Execution] = {}  # execution ARN -> execution


def pipeline_arn(ctx: RequestContext, name: str) -> str:
    return f"arn:aws:sagemaker:{ctx.region}:{ctx.account_id}:pipeline/{name.lower()}"


def find_pipeline(ctx: RequestContext, name_or_arn: str) -> Pipeline:
    arn = name_or_arn if name_or_arn.startswith("arn:") else pipeline_arn(ctx, name_or_arn)
    pipeline = pipelines.get(arn)
    if pipeline is None:
        raise ResourceNotFound(f"Pipeline '{arn}' does not exist.")
    return pipeline


def find_execution(arn: str) -> Execution:
    execution = executions.get(arn)
    if execution is None:
        raise ResourceNotFound(f"Pipeline execution '{arn}' does not exist.")
    return execution


def executions_of(pipeline_arn: str) -> list[Execution]:
    with lock:
        return [e for e in executions.values() if e.pipeline_arn == pipeline_arn]


def cached_run(
    pipeline_arn: str, step_name: str, key: str, expire_after: dt.timedelta | None
) -> tuple[str, StepRecord] | None:
    """(execution ARN, record) of the newest successful, unexpired run of this step with these
    arguments in this pipeline (a step's CacheConfig lets it reuse that run), or None."""
    oldest = now() - expire_after if expire_after else None
    best: tuple[str, StepRecord] | None = None
    for execution in executions_of(pipeline_arn):
        with execution.lock:
            record = execution.steps.get(step_name)
            if record is None or record.status != "Succeeded" or record.cache_key != key:
                continue
            if oldest and record.end_time and record.end_time < oldest:
                continue
            if best is None or record.end_time > best[1].end_time:
                best = (execution.arn, record)
    return best


def created_between(created: dt.datetime, request: dict) -> bool:
    """Whether a List* request's CreatedAfter/CreatedBefore (epoch seconds, as boto3 sends them) admit it."""
    after, before = request.get("CreatedAfter"), request.get("CreatedBefore")
    stamp = created.timestamp()
    return (after is None or stamp > float(after)) and (before is None or stamp < float(before))


def _dump() -> dict:
    """Copies of the pipelines (their version list and start tokens) and of the executions."""
    with lock:
        return {
            "layout": LAYOUT,
            "saved_at": now(),
            "pipelines": [
                dataclasses.replace(p, versions=list(p.versions), start_tokens=dict(p.start_tokens))
                for p in pipelines.values()
            ],
            "executions": [execution.saved() for execution in executions.values()],
        }


def _load(snapshot: dict) -> None:
    if snapshot.get("layout") != LAYOUT:
        raise ValueError(f"the saved state of Pipelines has layout {snapshot.get('layout')}, not {LAYOUT}")
    with lock:
        pipelines.clear()
        pipelines.update((pipeline.arn, pipeline) for pipeline in snapshot["pipelines"])
        executions.clear()
        for execution in snapshot["executions"]:
            if execution.restored(snapshot["saved_at"]):
                STATE.changed()  # saved Failed from now on
            executions[execution.arn] = execution


STATE = FunctionStore("pipelines", _dump, _load)
