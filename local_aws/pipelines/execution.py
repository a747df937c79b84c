"""One pipeline execution as a record: what DescribePipelineExecution shows, and a record per step.

Plain data, kept in the Pipelines store (local_aws.pipelines.models) and changed under its lock; what runs
the execution (its coordinator and step threads, the event a stop sets) lives in the executor, keyed by the
execution's ARN. The identities its steps act as are rebuilt from the record: the pipeline's role (a
"SageMaker" session of it, in the execution's account and region) and SageMaker itself.

An execution running when the server stopped cannot go on (its threads and jobs ended with the server), so it
loads Failed, saying that RetryPipelineExecution resumes it (`interrupted`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from local_aws.core.gateway.context import Caller
from local_aws.core.iam.authorization import acting_as
from local_aws.core.service import now
from local_aws.pipelines.definition import Definition, Step

RUNNING = ("Executing", "Stopping")
TERMINAL_STEP = {"Succeeded", "Failed", "Stopped"}
TERMINAL_EXECUTION = {"Succeeded", "Failed", "Stopped", "CompletedWithFailures"}
STOPPED_WHILE_RUNNING = (
    "local_aws stopped while this execution ran (the server was killed or crashed). "
    "RetryPipelineExecution resumes it: steps that succeeded are kept, the others run again."
)
STEP_STOPPED_WHILE_RUNNING = (
    "local_aws stopped while this step ran (the server was killed or crashed). RetryPipelineExecution runs it again."
)


@dataclass
class StepRecord:
    """One step's entry in ListPipelineExecutionSteps, plus what later steps read from it."""

    step: Step
    status: str = "Starting"
    start_time: dt.datetime = field(default_factory=now)
    end_time: dt.datetime | None = None
    attempt_count: int = 0
    failure_reason: str | None = None
    metadata: dict = field(default_factory=dict)
    cache_hit_source: str | None = None  # execution whose result this cache hit reused
    selective_source: str | None = None  # execution whose result a selective execution reused
    properties: Any = None  # the Describe response expressions read (Condition: {"Outcome": bool})
    cache_key: str | None = None
    ran_in: str | None = None  # execution whose job produced the result (own ARN unless a cache hit)

    def summary(self) -> dict:
        item = {
            "StepName": self.step.name,
            "StartTime": self.start_time,
            "StepStatus": self.status,
            "AttemptCount": self.attempt_count,
            "Metadata": self.metadata,
        }
        if self.step.display_name:
            item["StepDisplayName"] = self.step.display_name
        if self.step.description:
            item["StepDescription"] = self.step.description
        if self.end_time:
            item["EndTime"] = self.end_time
        if self.failure_reason is not None:
            item["FailureReason"] = self.failure_reason[:1024]
        if self.cache_hit_source:
            item["CacheHitResult"] = {"SourcePipelineExecutionArn": self.cache_hit_source}
        if self.selective_source:
            item["SelectiveExecutionResult"] = {"SourcePipelineExecutionArn": self.selective_source}
        return item


@dataclass
class Outcome:
    """How one attempt at a step ended."""

    status: str  # Succeeded | Failed | Stopped
    failure_reason: str | None = None
    exception_type: str | None = None  # what a retry policy matches, when the failure is retryable
    properties: Any = None


@dataclass
class Execution:
    """A pipeline execution: what DescribePipelineExecution shows and the results its steps read."""

    arn: str
    execution_id: str
    pipeline_name: str
    pipeline_arn: str
    role_arn: str  # the role its steps act as
    account_id: str
    region: str
    definition: Definition
    parameters: dict[str, Any]  # typed values, defaults applied
    parameter_list: list[dict]  # [{Name, Value}] as ListPipelineParametersForExecution answers
    display_name: str
    description: str | None = None
    parallelism: dict | None = None
    version_id: int = 1
    created: dt.datetime = field(default_factory=now)
    modified: dt.datetime = field(default_factory=now)
    status: str = "Executing"
    failure_reason: str | None = None
    experiment: dict = field(default_factory=dict)
    mlflow: dict | None = None  # MLflowConfig: MlflowResourceArn, MlflowExperimentName
    steps: dict[str, StepRecord] = field(default_factory=dict)
    retried_attempts: dict[str, int] = field(default_factory=dict)  # step -> attempts before a retry
    selective: dict | None = None  # SelectiveExecutionConfig
    excluded: set[str] = field(default_factory=set)  # steps a selective execution neither runs nor reuses

    @property
    def as_role(self) -> Caller:
        """The pipeline's role, as SageMaker acts with it: who every step's own calls are made as."""
        return Caller(acting_as(self.role_arn), self.account_id, self.region)

    @property
    def as_service(self) -> Caller:
        """SageMaker Pipelines itself, in the execution's account and region."""
        return Caller(account_id=self.account_id, region=self.region)

    def set_status(self, status: str, failure_reason: str | None = None) -> None:
        self.status, self.failure_reason, self.modified = status, failure_reason, now()


def interrupted(execution: Execution, stamp: dt.datetime) -> bool:
    """An execution loaded as it was saved while running ends Failed, with its unfinished steps, as of
    `stamp`; True when it was running."""
    if execution.status not in RUNNING:
        return False
    for record in execution.steps.values():
        if record.status not in TERMINAL_STEP:
            record.status, record.failure_reason, record.end_time = "Failed", STEP_STOPPED_WHILE_RUNNING, stamp
    execution.status, execution.failure_reason, execution.modified = "Failed", STOPPED_WHILE_RUNNING, stamp
    return True
