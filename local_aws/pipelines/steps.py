"""What running one attempt at each step type means, as the SageMaker Pipelines service runs it.

Every step acts as the pipeline's role, through the gateway, exactly as a caller with that role's
credentials would: processing, training and tuning steps create their job (CreateProcessingJob,
CreateTrainingJob, CreateHyperParameterTuningJob), a RegisterModel step its model package
(CreateModelPackage), a Model step its model (CreateModel), each refused as AWS refuses it when the role
may not (AccessDeniedException: the step fails and nothing is created). The service itself then watches
a job until it ends and stops it when the execution is stopped, and describes what a step made for its
properties. A step with CacheConfig reuses an earlier run with the same arguments instead. Condition and
Fail steps run in-process. `attempt` turns whatever happens into an Outcome: a refused service call or a
failed job fails the step, with the exception type a retry policy matches when the failure is one AWS
retries.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import re
import string
import threading
import time
from collections.abc import Callable
from typing import Any

from local_aws.core import gateway
from local_aws.core.gateway.errors import AwsError
from local_aws.core.service import drop_none
from local_aws.pipelines import models
from local_aws.pipelines.execution import Execution, Outcome, StepRecord
from local_aws.pipelines.expressions import EvaluationError, evaluate, evaluate_conditions, to_text
from local_aws.pipelines.models import STORE
from local_aws.pipelines.scope import scope_of

log = logging.getLogger("local_aws.pipelines")

JOB_TERMINAL = ("Completed", "Failed", "Stopped")
WATCH_SECONDS = 0.1  # how often a step looks at its job's status (and for a stop request)
JOB_KINDS = {"Processing": "Processing", "Training": "Training"}  # step type -> the job kind it creates


def attempt(execution: Execution, record: StepRecord, stop: threading.Event) -> Outcome:
    """Run the step once; `stop` is set when the execution is asked to stop (a job step then stops its job)."""
    step = record.step
    runner = RUNNERS.get(step.type)
    if runner is None:
        return Outcome(
            "Failed", f"Step type {step.type} is not supported by local_aws; it runs {', '.join(RUNNERS)} steps."
        )
    try:
        return runner(execution, record, stop)
    except EvaluationError as exc:
        return Outcome("Failed", f"Unable to evaluate the arguments of step {step.name}: {exc}")
    except AwsError as err:  # a service call the step made was refused
        return Outcome("Failed", f"{err.code}: {err.message}", _call_error_type(err))
    except Exception as exc:  # a fault of the service itself: what Step.SERVICE_FAULT retries
        log.exception("step %s of %s hit a service fault", step.name, execution.arn)
        return Outcome("Failed", f"InternalFailure: local_aws failed to run the step: {exc!r}", "Step.SERVICE_FAULT")


def _call_error_type(err: AwsError) -> str | None:
    if err.code == "ResourceLimitExceeded":
        return "SageMaker.RESOURCE_LIMIT"
    if err.code in ("ThrottlingException", "Throttling"):
        return "Step.THROTTLING"
    if err.server_fault:
        return "Step.SERVICE_FAULT"
    return None


def _job_failure_type(reason: str) -> str | None:
    if reason.startswith("InternalServerError"):
        return "SageMaker.JOB_INTERNAL_ERROR"
    if reason.startswith("CapacityError"):
        return "SageMaker.CAPACITY_ERROR"
    return None


def _set_running(execution: Execution, record: StepRecord, metadata: dict | None = None) -> None:
    with STORE.lock:
        if record.status == "Starting":
            record.status = "Executing"
        if metadata is not None:
            record.metadata = metadata
    STORE.changed()


def _resource_name(execution: Execution, step_name: str) -> str:
    """pipelines-<execution id>-<step>-<random>, as the service names a step's job (at most 63 chars).

    Lowercase (AWS keeps the step's case), so the name at the end of the job's lowercased ARN, which
    the step's Metadata gives, is the job's name for Describe*Job here too.
    """
    label = re.sub(r"-+", "-", re.sub(r"[^a-z0-9-]", "-", step_name.lower())).strip("-")[:29] or "step"
    suffix = "".join(random.choices(string.ascii_lowercase + string.digits, k=10))
    return f"pipelines-{execution.execution_id}-{label}-{suffix}"


def _run_job(execution: Execution, record: StepRecord, stop: threading.Event) -> Outcome:
    kind = JOB_KINDS[record.step.type]
    name_key = f"{kind}JobName"
    job_name = _resource_name(execution, record.step.name)
    arguments = evaluate(record.step.arguments, scope_of(execution, {name_key: job_name}))
    cached = _cache_hit(execution, record, arguments)
    if cached:
        return cached
    request = {**arguments, name_key: job_name}
    request.setdefault("RoleArn", execution.role_arn)
    arn = gateway.call("sagemaker", f"Create{kind}Job", request, execution.as_role)[f"{kind}JobArn"]
    _set_running(execution, record, {f"{kind}Job": {"Arn": arn}})
    described = _watch(
        execution, stop, f"Describe{kind}Job", f"Stop{kind}Job", {name_key: job_name}, f"{kind}JobStatus"
    )
    status = described[f"{kind}JobStatus"]
    if status == "Completed":
        return Outcome("Succeeded", properties=described)
    if status == "Stopped":
        return Outcome("Stopped")
    reason = described.get("FailureReason") or f"{kind} job {job_name} failed."
    return Outcome("Failed", reason, _job_failure_type(reason))


def _watch(
    execution: Execution, stop: threading.Event, describe: str, stop_operation: str, name: dict, status_member: str
) -> dict:
    """Describe the job, as the service, until it ends, stopping it once the execution is asked to stop; its
    last description."""
    service, stop_sent = execution.as_service, False
    while True:
        described = gateway.call("sagemaker", describe, name, service)
        if described[status_member] in JOB_TERMINAL:
            return described
        if not stop.is_set():
            stop.wait(WATCH_SECONDS)  # wakes at once when a stop is asked for
            continue
        if not stop_sent:
            gateway.call("sagemaker", stop_operation, name, service)
            stop_sent = True
        time.sleep(WATCH_SECONDS)


def _run_tuning(execution: Execution, record: StepRecord, stop: threading.Event) -> Outcome:
    """A TuningStep: its tuning job, watched to the end; its properties are the tuning job's Describe answer
    and its training jobs' summaries, best first (what TuningStep.get_top_model_s3_uri indexes)."""
    label = re.sub(r"[^a-z0-9]", "", record.step.name.lower())[:15] or "tuning"
    name = f"{label}-{''.join(random.choices(string.ascii_lowercase + string.digits, k=10))}"
    arguments = evaluate(record.step.arguments, scope_of(execution, {"HyperParameterTuningJobName": name}))
    cached = _cache_hit(execution, record, arguments)
    if cached:
        return cached
    request = {**arguments, "HyperParameterTuningJobName": name}
    request.get("TrainingJobDefinition", {}).setdefault("RoleArn", execution.role_arn)
    created = gateway.call("sagemaker", "CreateHyperParameterTuningJob", request, execution.as_role)
    _set_running(execution, record, {"TuningJob": {"Arn": created["HyperParameterTuningJobArn"]}})
    named = {"HyperParameterTuningJobName": name}
    described = _watch(
        execution,
        stop,
        "DescribeHyperParameterTuningJob",
        "StopHyperParameterTuningJob",
        named,
        "HyperParameterTuningJobStatus",
    )
    status = described["HyperParameterTuningJobStatus"]
    if status == "Completed":
        best_first = gateway.call(
            "sagemaker",
            "ListTrainingJobsForHyperParameterTuningJob",
            {**named, "SortBy": "FinalObjectiveMetricValue", "SortOrder": "Descending", "MaxResults": 50},
            execution.as_service,
        )["TrainingJobSummaries"]
        return Outcome("Succeeded", properties={**described, "TrainingJobSummaries": best_first})
    if status == "Stopped":
        return Outcome("Stopped")
    return Outcome("Failed", described.get("FailureReason") or f"Hyperparameter tuning job {name} failed.")


def _cache_hit(execution: Execution, record: StepRecord, arguments: Any) -> Outcome | None:
    """Reuse an earlier successful run with the same arguments (CacheConfig), as the service does."""
    step = record.step
    if not step.cache_enabled:
        return None
    key = hashlib.sha256(
        json.dumps(
            {"Type": step.type, "Arguments": arguments, "PropertyFiles": step.property_files},
            sort_keys=True,
            default=str,
        ).encode()
    ).hexdigest()
    with STORE.lock:
        record.cache_key = key
        found = models.cached_run(execution, step.name, key, step.cache_expire_after)
        if found is None:
            return None
        source_arn, source = found
        record.metadata = dict(source.metadata)
        record.cache_hit_source = source.ran_in or source_arn
        record.ran_in = record.cache_hit_source
    STORE.changed()
    return Outcome("Succeeded", properties=source.properties)


def _run_condition(execution: Execution, record: StepRecord, stop: threading.Event) -> Outcome:
    _set_running(execution, record)
    outcome = evaluate_conditions(record.step.arguments.get("Conditions", []), scope_of(execution))
    _set_running(execution, record, {"Condition": {"Outcome": "True" if outcome else "False"}})
    return Outcome("Succeeded", properties={"Outcome": outcome})


def _run_fail(execution: Execution, record: StepRecord, stop: threading.Event) -> Outcome:
    message = to_text(evaluate(record.step.arguments.get("ErrorMessage", ""), scope_of(execution)))
    _set_running(execution, record, {"Fail": {"ErrorMessage": message}})
    return Outcome("Failed", message)


def _run_register_model(execution: Execution, record: StepRecord, stop: threading.Event) -> Outcome:
    arguments = evaluate(record.step.arguments, scope_of(execution))
    _set_running(execution, record)
    arn = gateway.call("sagemaker", "CreateModelPackage", arguments, execution.as_role)["ModelPackageArn"]
    _set_running(execution, record, {"RegisterModel": {"Arn": arn}})
    package = gateway.call("sagemaker", "DescribeModelPackage", {"ModelPackageName": arn}, execution.as_service)
    return Outcome("Succeeded", properties=package)


def _run_model(execution: Execution, record: StepRecord, stop: threading.Event) -> Outcome:
    arguments = evaluate(record.step.arguments, scope_of(execution))
    _set_running(execution, record)
    request = drop_none(
        {
            "ModelName": _resource_name(execution, record.step.name),
            "ExecutionRoleArn": arguments.get("ExecutionRoleArn") or execution.role_arn,
            "PrimaryContainer": arguments.get("PrimaryContainer"),
            "Containers": arguments.get("Containers"),
            "VpcConfig": arguments.get("VpcConfig"),
            "Tags": arguments.get("Tags"),
        }
    )
    arn = gateway.call("sagemaker", "CreateModel", request, execution.as_role)["ModelArn"]
    _set_running(execution, record, {"Model": {"Arn": arn}})
    model = gateway.call("sagemaker", "DescribeModel", {"ModelName": request["ModelName"]}, execution.as_service)
    return Outcome("Succeeded", properties=model)


RUNNERS: dict[str, Callable[[Execution, StepRecord, threading.Event], Outcome]] = {
    "Processing": _run_job,
    "Training": _run_job,
    "Tuning": _run_tuning,
    "Condition": _run_condition,
    "Fail": _run_fail,
    "RegisterModel": _run_register_model,
    "Model": _run_model,
}
