"""One pipeline execution's state: what DescribePipelineExecution shows, and a record per step.

An Execution is shared by the request handlers and the threads running its steps; its `lock` (a
Condition) guards every field and wakes the coordinator when a step ends or the execution is
stopped or re-configured. Its Scope is what the expressions in its steps' arguments read.

An execution is saved without its lock, stop event and coordinator thread (`saved`), and gets new
ones when loaded (`restored`); one that was running when the server died cannot go on, so it loads
Failed, saying that RetryPipelineExecution resumes it.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import json
import threading
from dataclasses import dataclass, field
from typing import Any

from local_aws.core import gateway
from local_aws.core.gateway.context import RequestContext
from local_aws.core.gateway.errors import AwsError
from local_aws.core.moto import state as moto_state
from local_aws.core.service import now
from local_aws.pipelines.definition import Definition, Step
from local_aws.pipelines.expressions import EvaluationError, Scope, iso_time, lookup

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
    """A pipeline execution: what DescribePipelineExecution shows and the state its steps run in."""

    arn: str
    execution_id: str
    pipeline_name: str
    pipeline_arn: str
    role_arn: str
    definition: Definition
    parameters: dict[str, Any]  # typed values, defaults applied
    parameter_list: list[dict]  # [{Name, Value}] as ListPipelineParametersForExecution answers
    ctx: RequestContext
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
    lock: threading.Condition = field(default_factory=lambda: threading.Condition(threading.RLock()))
    stop_requested: threading.Event = field(default_factory=threading.Event)
    coordinator: threading.Thread | None = None

    def set_status(self, status: str, failure_reason: str | None = None) -> None:
        self.status, self.failure_reason, self.modified = status, failure_reason, now()

    def saved(self) -> Execution:
        """A copy to save, taken under `lock`: step records and collections of its own (later changes do not
        reach it), and no lock, event or thread."""
        with self.lock:
            return dataclasses.replace(
                self,
                steps={name: copy.copy(record) for name, record in self.steps.items()},
                retried_attempts=dict(self.retried_attempts),
                excluded=set(self.excluded),
                experiment=dict(self.experiment),
                lock=None,
                stop_requested=None,
                coordinator=None,
            )

    def restored(self, stopped_at: dt.datetime) -> bool:
        """Give a loaded execution a lock and a stop event; one that was running fails, and its unfinished
        steps with it, as of `stopped_at` (True then)."""
        self.lock = threading.Condition(threading.RLock())
        self.stop_requested = threading.Event()
        self.coordinator = None
        if self.status not in RUNNING:
            return False
        for record in self.steps.values():
            if record.status not in TERMINAL_STEP:
                record.status, record.failure_reason, record.end_time = "Failed", STEP_STOPPED_WHILE_RUNNING, stopped_at
        self.status, self.failure_reason, self.modified = "Failed", STOPPED_WHILE_RUNNING, stopped_at
        return True

    def scope(self, job_variables: dict[str, str] | None = None) -> Scope:
        variables: dict[str, Any] = {
            "PipelineName": self.pipeline_name,
            "PipelineArn": self.pipeline_arn,
            "PipelineExecutionId": self.execution_id,
            "PipelineExecutionArn": self.arn,
            "StartDateTime": iso_time(self.created),
            "CurrentDateTime": lambda: iso_time(now()),
        }
        variables.update(job_variables or {})
        return Scope(
            parameters=self.parameters,
            variables=variables,
            experiment=self.experiment,
            step_properties=self._step_properties,
            read_property_file=self._read_property_file,
            read_s3_json=self._read_s3_json,
        )

    def _step_properties(self, name: str) -> Any:
        with self.lock:
            record = self.steps.get(name)
        if record is None or record.status != "Succeeded":
            raise EvaluationError(
                f"Step '{name}' has not succeeded in this execution, so its properties are undefined."
            )
        return record.properties

    def _read_property_file(self, step_name: str, file_name: str) -> Any:
        spec = self.definition.steps[step_name].property_files[file_name]
        outputs = lookup(self._step_properties(step_name), ["ProcessingOutputConfig", "Outputs"], f"Steps.{step_name}")
        output = next((o for o in outputs if o.get("OutputName") == spec["OutputName"]), None)
        if output is None:
            raise EvaluationError(
                f"Step '{step_name}' has no output '{spec['OutputName']}' for property file '{file_name}'."
            )
        uri = output["S3Output"]["S3Uri"].rstrip("/") + "/" + spec["FilePath"].lstrip("/")
        return self._read_s3_json(uri, f"property file '{file_name}' of step '{step_name}'")

    def _read_s3_json(self, uri: str, what: str = "Std:JsonGet") -> Any:
        try:
            bucket, key = moto_state.parse_s3_uri(uri)
        except ValueError as exc:
            raise EvaluationError(f"{what}: {exc}") from None
        try:  # as the pipeline's role, as the service reads it
            data = gateway.call("s3", "GetObject", {"Bucket": bucket, "Key": key}, self.ctx.caller)["Body"]
        except AwsError as error:
            if error.code not in ("NoSuchKey", "NoSuchBucket"):
                raise  # the role may not read it: the step fails with S3's AccessDenied
            raise EvaluationError(f"{what}: {uri} does not exist ({error.code}).") from None
        try:
            return json.loads(data)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise EvaluationError(f"{what}: the contents of {uri} are not valid JSON.") from None
