"""The Pipelines store: each account's and region's pipelines and executions, as plain records.

A pipeline keeps every version of its definition (UpdatePipeline adds one); executions are kept by ARN
until their pipeline is deleted or the server reset, so any client (a second notebook, the CLI) can follow
them; their step records are also the step cache (`cached_run`). ARNs follow AWS: the pipeline name
lowercased, a 12-character execution id.

Records change under `STORE.lock`, and `STORE.changed()` follows; the runtime saves the store in the
background and loads it at start, where an execution that was running is marked Failed (`_interrupted`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from local_aws.core.gateway.context import RequestContext
from local_aws.core.gateway.errors import AwsError, ResourceNotFound
from local_aws.core.runtime.store import AccountRegionStore
from local_aws.core.service import now
from local_aws.pipelines.definition import Definition
from local_aws.pipelines.execution import Execution, StepRecord, interrupted

DEFAULT_MAX_RESULTS = 50  # a List* page when MaxResults is not given


@dataclass
class Version:
    version_id: int
    definition: Definition
    created: dt.datetime


@dataclass
class Pipeline:
    name: str
    arn: str
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


@dataclass
class State:
    """One account's pipelines and executions in one region."""

    pipelines: dict[str, Pipeline] = field(default_factory=dict)  # pipeline ARN -> pipeline
    executions: dict[str, Execution] = field(default_factory=dict)  # execution ARN -> execution


STORE: AccountRegionStore[State] = AccountRegionStore("pipelines", State, layout=2)


def state(ctx: RequestContext) -> State:
    """The caller's account's pipelines and executions in the caller's region."""
    return STORE.of(ctx.account_id, ctx.region)


def pipeline_arn(ctx: RequestContext, name: str) -> str:
    return f"arn:aws:sagemaker:{ctx.region}:{ctx.account_id}:pipeline/{name.lower()}"


def find_pipeline(ctx: RequestContext, name_or_arn: str) -> Pipeline:
    arn = name_or_arn if name_or_arn.startswith("arn:") else pipeline_arn(ctx, name_or_arn)
    pipeline = state(ctx).pipelines.get(arn)
    if pipeline is None:
        raise ResourceNotFound(f"Pipeline '{arn}' does not exist.")
    return pipeline


def find_execution(ctx: RequestContext, arn: str) -> Execution:
    execution = state(ctx).executions.get(arn)
    if execution is None:
        raise ResourceNotFound(f"Pipeline execution '{arn}' does not exist.")
    return execution


def stored_execution(account_id: str, region: str, arn: str) -> Execution | None:
    """The execution with that ARN as the store holds it now (None once a reset or a delete dropped it)."""
    return STORE.of(account_id, region).executions.get(arn)


def executions_of(state: State, pipeline_arn: str) -> list[Execution]:
    with STORE.lock:
        return [e for e in state.executions.values() if e.pipeline_arn == pipeline_arn]


def cached_run(
    execution: Execution, step_name: str, key: str, expire_after: dt.timedelta | None
) -> tuple[str, StepRecord] | None:
    """(execution ARN, record) of the newest successful, unexpired run of this step with these arguments in the
    execution's pipeline (a step's CacheConfig lets it reuse that run), or None."""
    oldest = now() - expire_after if expire_after else None
    best: tuple[str, StepRecord] | None = None
    with STORE.lock:
        for other in executions_of(STORE.of(execution.account_id, execution.region), execution.pipeline_arn):
            record = other.steps.get(step_name)
            if record is None or record.status != "Succeeded" or record.cache_key != key:
                continue
            if oldest and record.end_time and record.end_time < oldest:
                continue
            if best is None or record.end_time > best[1].end_time:
                best = (other.arn, record)
    return best


def created_between(created: dt.datetime, request: dict) -> bool:
    """Whether a List* request's CreatedAfter/CreatedBefore (epoch seconds, as boto3 sends them) admit it."""
    after, before = request.get("CreatedAfter"), request.get("CreatedBefore")
    stamp = created.timestamp()
    return (after is None or stamp > float(after)) and (before is None or stamp < float(before))


def _interrupted() -> None:
    """After a load: the executions that were running when the server stopped end Failed."""
    stamp, changed = now(), False
    with STORE.lock:
        for _, loaded in STORE.states():
            for execution in loaded.executions.values():
                changed = interrupted(execution, stamp) or changed
    if changed:
        STORE.changed()  # saved Failed from now on


STORE.after_load.append(_interrupted)
