"""Runs one pipeline execution's steps in the background, as the SageMaker Pipelines service does.

A coordinator thread per execution starts every step whose upstream steps (DependsOn, data
references, its Condition step) have finished as required, each in its own thread, at most
MaxParallelExecutionSteps at once and at most os.cpu_count() jobs at once. Processing and training
steps run their jobs through local_aws.jobs (the one job runner) and poll them; Condition, Fail,
RegisterModel and Model steps run in-process. After a step fails no new step starts (except one
whose DependsOn trigger asks for that failure); running steps finish, then the execution fails.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import random
import re
import string
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from local_aws import moto_state, pipeline_definition as pdef
from local_aws.protocol import AwsError, RequestContext, now

log = logging.getLogger("local_aws.pipelines")

TERMINAL_STEP = {"Succeeded", "Failed", "Stopped"}
TERMINAL_EXECUTION = {"Succeeded", "Failed", "Stopped", "CompletedWithFailures"}
EXECUTION_FAILURE = "Step failure: One or multiple steps failed."
DEFAULT_MAX_PARALLEL = 50
JOB_POLL_FIRST, JOB_POLL_MAX = 0.02, 0.25  # seconds between Describe calls, growing
SUPPORTED = ("Processing", "Training", "Condition", "Fail", "RegisterModel", "Model")
_TRIGGER_MATCH = {"Completed": {"Succeeded"}, "Failed": {"Failed"}, "Stopped": {"Stopped"}, "Any": TERMINAL_STEP}


@dataclass
class StepRecord:
    """One step's entry in ListPipelineExecutionSteps, plus what later steps read from it."""

    step: pdef.Step
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
        item = {"StepName": self.step.name, "StartTime": self.start_time, "StepStatus": self.status,
                "AttemptCount": self.attempt_count, "Metadata": self.metadata}
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
    status: str  # Succeeded | Failed | Stopped
    failure_reason: str | None = None
    exception_type: str | None = None  # what a retry policy matches, when the failure is retryable
    properties: Any = None


# (pipeline ARN, step name, cache key, expire after) -> the newest reusable record, or None
CacheLookup = Callable[[str, str, str, "dt.timedelta | None"], "tuple[str, StepRecord] | None"]


@dataclass
class Execution:
    """A pipeline execution: what DescribePipelineExecution shows and the state its steps run in."""

    arn: str
    execution_id: str
    pipeline_name: str
    pipeline_arn: str
    role_arn: str
    definition: pdef.Definition
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
    steps: dict[str, StepRecord] = field(default_factory=dict)
    retried_attempts: dict[str, int] = field(default_factory=dict)  # step -> attempts before a retry
    selective: dict | None = None  # SelectiveExecutionConfig
    excluded: set[str] = field(default_factory=set)  # steps a selective execution neither runs nor reuses
    lock: threading.Condition = field(default_factory=lambda: threading.Condition(threading.RLock()))
    stop_requested: threading.Event = field(default_factory=threading.Event)
    coordinator: threading.Thread | None = None
    find_cached: CacheLookup | None = None

    def set_status(self, status: str, failure_reason: str | None = None) -> None:
        self.status, self.failure_reason, self.modified = status, failure_reason, now()

    def scope(self, job_variables: dict[str, str] | None = None) -> pdef.Scope:
        variables: dict[str, Any] = {
            "PipelineName": self.pipeline_name, "PipelineArn": self.pipeline_arn,
            "PipelineExecutionId": self.execution_id, "PipelineExecutionArn": self.arn,
            "StartDateTime": pdef.iso_time(self.created), "CurrentDateTime": lambda: pdef.iso_time(now()),
        }
        variables.update(job_variables or {})
        return pdef.Scope(parameters=self.parameters, variables=variables, experiment=self.experiment,
                          step_properties=self._step_properties, read_property_file=self._read_property_file,
                          read_s3_json=_read_s3_json)

    def _step_properties(self, name: str) -> Any:
        with self.lock:
            record = self.steps.get(name)
        if record is None or record.status != "Succeeded":
            raise pdef.EvaluationError(
                f"Step '{name}' has not succeeded in this execution, so its properties are undefined.")
        return record.properties

    def _read_property_file(self, step_name: str, file_name: str) -> Any:
        spec = self.definition.steps[step_name].property_files[file_name]
        outputs = pdef.lookup(self._step_properties(step_name), ["ProcessingOutputConfig", "Outputs"],
                              f"Steps.{step_name}")
        output = next((o for o in outputs if o.get("OutputName") == spec["OutputName"]), None)
        if output is None:
            raise pdef.EvaluationError(
                f"Step '{step_name}' has no output '{spec['OutputName']}' for property file '{file_name}'.")
        uri = output["S3Output"]["S3Uri"].rstrip("/") + "/" + spec["FilePath"].lstrip("/")
        return _read_s3_json(uri, f"property file '{file_name}' of step '{step_name}'")


def _read_s3_json(uri: str, what: str = "Std:JsonGet") -> Any:
    try:
        bucket, key = moto_state.parse_s3_uri(uri)
    except ValueError as exc:
        raise pdef.EvaluationError(f"{what}: {exc}") from None
    data = moto_state.get_object(bucket, key)
    if data is None:
        raise pdef.EvaluationError(f"{what}: {uri} does not exist (NoSuchKey).")
    try:
        return json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise pdef.EvaluationError(f"{what}: the contents of {uri} are not valid JSON.") from None


def reuse(execution: Execution, source: Execution, selected: list[str]) -> None:
    """Selective execution: the selected steps will run; the steps they need keep the source's results."""
    needed = pdef.ancestors(execution.definition, selected)
    with source.lock:
        for name in sorted(needed):
            record = source.steps[name]
            execution.steps[name] = StepRecord(
                step=execution.definition.steps[name], status="Succeeded", start_time=record.start_time,
                end_time=record.end_time, attempt_count=record.attempt_count, metadata=dict(record.metadata),
                properties=record.properties, cache_key=record.cache_key, ran_in=record.ran_in or source.arn,
                selective_source=source.arn)
    execution.excluded = set(execution.definition.steps) - needed - set(selected)


def start(execution: Execution) -> None:
    """Run the execution's not yet succeeded steps in the background (start and retry)."""
    execution.stop_requested = threading.Event()
    execution.coordinator = threading.Thread(target=_coordinate, args=(execution,), daemon=True,
                                             name=f"pipeline-{execution.execution_id}")
    execution.coordinator.start()


def request_stop(execution: Execution) -> None:
    """StopPipelineExecution: no new steps, running jobs are stopped, the execution ends Stopped."""
    with execution.lock:
        if execution.status not in ("Executing", "Stopping"):
            return
        execution.stop_requested.set()
        execution.set_status("Stopping")
        for record in execution.steps.values():
            if record.status not in TERMINAL_STEP:
                record.status = "Stopping"
        execution.lock.notify_all()


def prepare_retry(execution: Execution, parallelism: dict | None) -> None:
    """RetryPipelineExecution: forget failed and stopped steps so they run again; keep the rest."""
    with execution.lock:
        execution.retried_attempts = {name: r.attempt_count for name, r in execution.steps.items()
                                      if r.status in ("Failed", "Stopped")}
        for name in execution.retried_attempts:
            del execution.steps[name]
        if parallelism:
            execution.parallelism = parallelism
        execution.set_status("Executing")


def wait(execution: Execution, timeout: float) -> None:
    if execution.coordinator is not None:
        execution.coordinator.join(timeout)


def _coordinate(execution: Execution) -> None:
    running: set[str] = set()
    lock = execution.lock
    with lock:
        while True:
            if not execution.stop_requested.is_set():
                for name in _ready_steps(execution, running):
                    record = StepRecord(step=execution.definition.steps[name])
                    record.attempt_count = execution.retried_attempts.get(name, 0)
                    execution.steps[name] = record
                    running.add(name)
                    threading.Thread(target=_run_step, args=(execution, record, running), daemon=True,
                                     name=f"step-{execution.execution_id}-{name}").start()
            if not running:
                _finish(execution)
                return
            lock.wait(timeout=1.0)


def _limits(execution: Execution) -> tuple[int, int]:
    configured = (execution.parallelism or {}).get("MaxParallelExecutionSteps") or DEFAULT_MAX_PARALLEL
    return configured, min(configured, os.cpu_count() or 1)


def _ready_steps(execution: Execution, running: set[str]) -> list[str]:
    """Steps that may start now, in definition order, within the parallelism limits."""
    max_steps, max_jobs = _limits(execution)
    steps = execution.definition.steps
    jobs_running = sum(1 for name in running if steps[name].type in pdef.JOB_STEP_TYPES)
    failed = any(r.status == "Failed" for r in execution.steps.values())
    ready = []
    for name, step in steps.items():
        if name in execution.steps or name in execution.excluded or len(running) + len(ready) >= max_steps:
            continue
        verdict = _readiness(execution, name)
        if verdict != "ready":
            continue
        handles_failure = any(d.trigger != "Completed" for d in execution.definition.upstream[name])
        if failed and not handles_failure:
            continue  # after a failure only failure handlers start
        if step.type in pdef.JOB_STEP_TYPES:
            if jobs_running >= max_jobs:
                continue
            jobs_running += 1
        ready.append(name)
    return ready


def _readiness(execution: Execution, name: str) -> str:
    """'ready', 'waiting', or 'never' (a branch not taken, an upstream outcome its trigger excludes)."""
    if name in execution.excluded:
        return "never"
    verdict = "ready"
    step = execution.definition.steps[name]
    for dependency in execution.definition.upstream[name]:
        upstream = execution.steps.get(dependency.step)
        if upstream is None and _readiness(execution, dependency.step) == "never":
            return "never"
        if upstream is None or upstream.status not in TERMINAL_STEP:
            verdict = "waiting"
            continue
        if upstream.status not in _TRIGGER_MATCH[dependency.trigger]:
            return "never"
        if step.branch_of and dependency.step == step.branch_of[0] and \
                (upstream.properties or {}).get("Outcome") != step.branch_of[1]:
            return "never"
    return verdict


def _finish(execution: Execution) -> None:
    if execution.stop_requested.is_set():
        execution.set_status("Stopped")
    elif any(r.status == "Failed" for r in execution.steps.values()):
        handled = all(_failure_handled(execution, name) for name, r in execution.steps.items() if r.status == "Failed")
        execution.set_status("CompletedWithFailures" if handled else "Failed", None if handled else EXECUTION_FAILURE)
    elif any(r.status == "Stopped" for r in execution.steps.values()):
        execution.set_status("Stopped")
    else:
        execution.set_status("Succeeded")
    log.info("pipeline execution %s %s", execution.arn, execution.status)


def _failure_handled(execution: Execution, failed: str) -> bool:
    """True when a step that asked to run on this step's failure did run."""
    return any(d.step == failed and d.trigger in ("Failed", "Any") and name in execution.steps
               for name, deps in execution.definition.upstream.items() for d in deps)


def _run_step(execution: Execution, record: StepRecord, running: set[str]) -> None:
    try:
        outcome = _attempts(execution, record)
    except Exception as exc:  # an emulator bug: fail the step, keep the server serving
        log.exception("step %s of %s crashed", record.step.name, execution.arn)
        outcome = Outcome("Failed", f"InternalError: local_aws failed to run the step: {exc!r}")
    with execution.lock:
        record.status = outcome.status
        record.failure_reason = outcome.failure_reason if outcome.status == "Failed" else None
        if outcome.status == "Succeeded":
            record.properties = outcome.properties
            record.ran_in = record.ran_in or execution.arn
        record.end_time = now()
        running.discard(record.step.name)
        execution.lock.notify_all()


def _attempts(execution: Execution, record: StepRecord) -> Outcome:
    """Run the step, retrying as its RetryPolicies allow."""
    first_attempt = time.monotonic()
    retries: dict[int, int] = {}  # policy index -> retries used
    while True:
        with execution.lock:
            record.attempt_count += 1
        outcome = _attempt(execution, record)
        if outcome.status != "Failed" or not outcome.exception_type or execution.stop_requested.is_set():
            return outcome
        delay = retry_delay(record.step.retry_policies, outcome.exception_type, retries, first_attempt)
        if delay is None:
            return outcome
        log.info("retrying step %s of %s in %.1f s after %s", record.step.name, execution.arn, delay,
                 outcome.exception_type)
        if execution.stop_requested.wait(delay):
            return Outcome("Stopped")


def retry_delay(policies: list[dict], exception_type: str, retries: dict[int, int],
                first_attempt: float) -> float | None:
    """Seconds to wait before retrying a failure of this type, or None when no policy allows another try.

    The first policy naming the type decides: IntervalSeconds * BackoffRate ** (retries it already
    granted), up to MaxAttempts retries or until ExpireAfterMin minutes after the first attempt.
    `retries` (policy index -> retries granted) is updated.
    """
    for index, policy in enumerate(policies):
        if exception_type not in policy["ExceptionType"]:
            continue
        used = retries.get(index, 0)
        if "MaxAttempts" in policy and used >= policy["MaxAttempts"]:
            return None
        if "ExpireAfterMin" in policy and time.monotonic() - first_attempt >= policy["ExpireAfterMin"] * 60:
            return None
        retries[index] = used + 1
        return float(policy.get("IntervalSeconds", 1)) * float(policy.get("BackoffRate", 2.0)) ** used
    return None


def _attempt(execution: Execution, record: StepRecord) -> Outcome:
    step = record.step
    runner = _RUNNERS.get(step.type)
    if runner is None:
        return Outcome("Failed", f"Step type {step.type} is not supported by local_aws; it runs "
                                 f"{', '.join(SUPPORTED)} steps.")
    try:
        return runner(execution, record)
    except pdef.EvaluationError as exc:
        return Outcome("Failed", f"Unable to evaluate the arguments of step {step.name}: {exc}")
    except AwsError as err:  # a service call the step made was refused
        return Outcome("Failed", f"{err.code}: {err.message}", _create_error_type(err))
    except Exception as exc:  # a fault of the service itself: what Step.SERVICE_FAULT retries
        log.exception("step %s of %s hit a service fault", step.name, execution.arn)
        return Outcome("Failed", f"InternalFailure: local_aws failed to run the step: {exc!r}", "Step.SERVICE_FAULT")


def _set_running(execution: Execution, record: StepRecord, metadata: dict | None = None) -> None:
    with execution.lock:
        if record.status == "Starting":
            record.status = "Executing"
        if metadata is not None:
            record.metadata = metadata


# --- step types ----------------------------------------------------------------------------------

def _job_name(execution: Execution, step_name: str) -> str:
    """pipelines-<execution id>-<step>-<random>, as the service names a step's job (at most 63 chars).

    Lowercase (AWS keeps the step's case), so the name at the end of the job's lowercased ARN, which
    the step's Metadata gives, is the job's name for Describe*Job here too.
    """
    label = re.sub(r"-+", "-", re.sub(r"[^a-z0-9-]", "-", step_name.lower())).strip("-")[:29] or "step"
    suffix = "".join(random.choices(string.ascii_lowercase + string.digits, k=10))
    return f"pipelines-{execution.execution_id}-{label}-{suffix}"


@dataclass(frozen=True)
class _JobApi:
    kind: str  # Processing | Training
    name_key: str
    arn_key: str
    status_key: str
    metadata_key: str


_JOB_APIS = {
    "Processing": _JobApi("Processing", "ProcessingJobName", "ProcessingJobArn", "ProcessingJobStatus",
                          "ProcessingJob"),
    "Training": _JobApi("Training", "TrainingJobName", "TrainingJobArn", "TrainingJobStatus", "TrainingJob"),
}


def _run_job(execution: Execution, record: StepRecord) -> Outcome:
    api = _JOB_APIS[record.step.type]
    from local_aws import jobs  # the one job runner (imported late: the modules load independently)

    create = getattr(jobs, f"create_{api.kind.lower()}_job")
    describe = getattr(jobs, f"describe_{api.kind.lower()}_job")
    stop = getattr(jobs, f"stop_{api.kind.lower()}_job")
    job_name = _job_name(execution, record.step.name)
    arguments = pdef.evaluate(record.step.arguments, execution.scope({f"{api.kind}JobName": job_name}))
    cached = _cache_hit(execution, record, arguments)
    if cached:
        return cached
    request = {**arguments, api.name_key: job_name}
    request.setdefault("RoleArn", execution.role_arn)
    created = create(request, execution.ctx)
    _set_running(execution, record, {api.metadata_key: {"Arn": created[api.arn_key]}})
    delay, stop_sent = JOB_POLL_FIRST, False
    while True:
        described = describe({api.name_key: job_name}, execution.ctx)
        status = described[api.status_key]
        if status in ("Completed", "Failed", "Stopped"):
            break
        if stop_sent:
            time.sleep(delay)
        elif execution.stop_requested.wait(delay):
            stop({api.name_key: job_name}, execution.ctx)
            stop_sent = True
        delay = min(delay * 1.5, JOB_POLL_MAX)
    if status == "Completed":
        return Outcome("Succeeded", properties=described)
    if status == "Stopped":
        return Outcome("Stopped")
    reason = described.get("FailureReason") or f"{api.kind} job {job_name} failed."
    return Outcome("Failed", reason, _job_failure_type(reason))


def _create_error_type(err: AwsError) -> str | None:
    if err.code == "ResourceLimitExceeded":
        return "SageMaker.RESOURCE_LIMIT"
    if err.code in ("ThrottlingException", "Throttling"):
        return "Step.THROTTLING"
    if err.status >= 500:
        return "Step.SERVICE_FAULT"
    return None


def _job_failure_type(reason: str) -> str | None:
    if reason.startswith("InternalServerError"):
        return "SageMaker.JOB_INTERNAL_ERROR"
    if reason.startswith("CapacityError"):
        return "SageMaker.CAPACITY_ERROR"
    return None


def _cache_hit(execution: Execution, record: StepRecord, arguments: Any) -> Outcome | None:
    """Reuse an earlier successful run with the same arguments (CacheConfig), as the service does."""
    step = record.step
    if not step.cache_enabled or execution.find_cached is None:
        return None
    key = hashlib.sha256(json.dumps({"Type": step.type, "Arguments": arguments, "PropertyFiles": step.property_files},
                                    sort_keys=True, default=str).encode()).hexdigest()
    record.cache_key = key
    found = execution.find_cached(execution.pipeline_arn, step.name, key, step.cache_expire_after)
    if found is None:
        return None
    source_arn, source = found
    with execution.lock:
        record.metadata = dict(source.metadata)
        record.cache_hit_source = source.ran_in or source_arn
        record.ran_in = record.cache_hit_source
    return Outcome("Succeeded", properties=source.properties)


def _run_condition(execution: Execution, record: StepRecord) -> Outcome:
    _set_running(execution, record)
    outcome = pdef.evaluate_conditions(record.step.arguments.get("Conditions", []), execution.scope())
    _set_running(execution, record, {"Condition": {"Outcome": "True" if outcome else "False"}})
    return Outcome("Succeeded", properties={"Outcome": outcome})


def _run_fail(execution: Execution, record: StepRecord) -> Outcome:
    message = pdef.to_text(pdef.evaluate(record.step.arguments.get("ErrorMessage", ""), execution.scope()))
    _set_running(execution, record, {"Fail": {"ErrorMessage": message}})
    return Outcome("Failed", message)


def _run_register_model(execution: Execution, record: StepRecord) -> Outcome:
    from local_aws import model_registry

    arguments = pdef.evaluate(record.step.arguments, execution.scope())
    _set_running(execution, record)
    arn = model_registry.create_model_package(arguments, execution.ctx)["ModelPackageArn"]
    _set_running(execution, record, {"RegisterModel": {"Arn": arn}})
    package = moto_state.sagemaker(execution.ctx.region, execution.ctx.account_id).describe_model_package(arn)
    return Outcome("Succeeded", properties=package.gen_response_object())


def _run_model(execution: Execution, record: StepRecord) -> Outcome:
    arguments = pdef.evaluate(record.step.arguments, execution.scope())
    _set_running(execution, record)
    backend = moto_state.sagemaker(execution.ctx.region, execution.ctx.account_id)
    name = _job_name(execution, record.step.name)
    role = arguments.get("ExecutionRoleArn") or execution.role_arn
    model = backend.create_model(model_name=name, execution_role_arn=role,
                                 primary_container=arguments.get("PrimaryContainer"),
                                 vpc_config=arguments.get("VpcConfig"), containers=arguments.get("Containers"),
                                 tags=arguments.get("Tags"))
    _set_running(execution, record, {"Model": {"Arn": model.arn}})
    return Outcome("Succeeded", properties=model.response_object)


_RUNNERS: dict[str, Callable[[Execution, StepRecord], Outcome]] = {
    "Processing": _run_job,
    "Training": _run_job,
    "Condition": _run_condition,
    "Fail": _run_fail,
    "RegisterModel": _run_register_model,
    "Model": _run_model,
}
