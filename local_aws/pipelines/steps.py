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
import time
from collections.abc import Callable
from typing import Any

from local_aws.core import gateway
from local_aws.core.gateway.context import Caller
from local_aws.core.gateway.errors import AwsError
from local_aws.core.service import drop_none
from local_aws.pipelines import models
from local_aws.pipelines.execution import Execution, Outcome, StepRecord
from local_aws.pipelines.expressions import EvaluationError, evaluate, evaluate_conditions, to_text

log = logging.getLogger("local_aws.pipelines")

JOB_TERMINAL = ("Completed", "Failed", "Stopped")
WATCH_SECONDS = 0.1  # how often a step looks at its job's status (and for a stop request)
JOB_KINDS = {"Processing": "Processing", "Training": "Training"}  # step type -> the job kind it creates


def _as_role(execution: Execution) -> Caller:
    """The pipeline's role: who every step's own calls are made as."""
    return execution.ctx.caller


def _as_service(execution: Execution) -> Caller:
    """SageMaker Pipelines itself, watching and stopping what a step started and describing what it made."""
    return Caller(account_id=execution.ctx.account_id, region=execution.ctx.region)


def attempt(execution: Execution, record: StepRecord) -> Outcome:
    """Run the step once."""
    step = record.step
    runner = RUNNERS.get(step.type)
    if runner is None:
        return Outcome(
            "Failed", f"Step type {step.type} is not supported by local_aws; it runs {', '.join(RUNNERS)} steps."
        )
    try:
        return runner(execution, record)
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
    with execution.lock:
        if record.status == "Starting":
            record.status = "Executing"
        if metadata is not None:
            record.metadata = metadata
    models.STATE.changed()


def _resource_name(execution: Execution, step_name: str) -> str:
    """pipelines-<execution id>-<step>-<random>, as the service names a step's job (at most 63 chars).

    Lowercase (AWS keeps the step's case), so the name at the end of the job's lowercased ARN, which
    the step's Metadata gives, is the job's name for Describe*Job here too.
    """
    label = re.sub(r"-+", "-", re.sub(r"[^a-z0-9-]", "-", step_name.lower())).strip("-")[:29] or "step"
    suffix = "".join(random.choices(string.ascii_lowercase + string.digits, k=10))
    return f"pipelines-{execution.execution_id}-{label}-{suffix}"


def _run_job(execution: Execution, record: StepRecord) -> Outcome:
    kind = JOB_KINDS[record.step.type]
    name_key = f"{kind}JobName"
    job_name = _resource_name(execution, record.step.name)
    arguments = evaluate(record.step.arguments, execution.scope({name_key: job_name}))
    cached = _cache_hit(execution, record, arguments)
    if cached:
        return cached
    request = {**arguments, name_key: job_name}
    request.setdefault("RoleArn", execution.role_arn)
    arn = gateway.call("sagemaker", f"Create{kind}Job", request, _as_role(execution))[f"{kind}JobArn"]
    _set_running(execution, record, {f"{kind}Job": {"Arn": arn}})
    described = _watch(execution, f"Describe{kind}Job", f"Stop{kind}Job", {name_key: job_name}, f"{kind}JobStatus")
    status = described[f"{kind}JobStatus"]
    if status == "Completed":
        return Outcome("Succeeded", properties=described)
    if status == "Stopped":
        return Outcome("Stopped")
    reason = described.get("FailureReason") or f"{kind} job {job_name} failed."
    return Outcome("Failed", reason, _job_failure_type(reason))


def _watch(execution: Execution, describe: str, stop: str, name: dict, status_member: str) -> dict:
    """Describe the job until it ends, stopping it once the execution is asked to stop; its last description."""
    service, stop_sent = _as_service(execution), False
    while True:
        described = gateway.call("sagemaker", describe, name, service)
        if described[status_member] in JOB_TERMINAL:
            return described
        if not execution.stop_requested.is_set():
            execution.stop_requested.wait(WATCH_SECONDS)  # wakes at once when a stop is asked for
            continue
        if not stop_sent:
            gateway.call("sagemaker", stop, name, service)
            stop_sent = True
        time.sleep(WATCH_SECONDS)


def _run_tuning(execution: Execution, record: StepRecord) -> Outcome:
    """A TuningStep: its tuning job, watched to the end; its properties are the tuning job's Describe answer
    and its training jobs' summaries, best first (what TuningStep.get_top_model_s3_uri indexes)."""
    label = re.sub(r"[^a-z0-9]", "", record.step.name.lower())[:15] or "tuning"
    name = f"{label}-{''.join(random.choices(string.ascii_lowercase + string.digits, k=10))}"
    arguments = evaluate(record.step.arguments, execution.scope({"HyperParameterTuningJobName": name}))
    cached = _cache_hit(execution, record, arguments)
    if cached:
        return cached
    request = {**arguments, "HyperParameterTuningJobName": name}
    request.get("TrainingJobDefinition", {}).setdefault("RoleArn", execution.role_arn)
    created = gateway.call("sagemaker", "CreateHyperParameterTuningJob", request, _as_role(execution))
    _set_running(execution, record, {"TuningJob": {"Arn": created["HyperParameterTuningJobArn"]}})
    named = {"HyperParameterTuningJobName": name}
    described = _watch(
        execution,
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
            _as_service(execution),
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
    record.cache_key = key
    found = models.cached_run(execution.pipeline_arn, step.name, key, step.cache_expire_after)
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
    outcome = evaluate_conditions(record.step.arguments.get("Conditions", []), execution.scope())
    _set_running(execution, record, {"Condition": {"Outcome": "True" if outcome else "False"}})
    return Outcome("Succeeded", properties={"Outcome": outcome})


def _run_fail(execution: Execution, record: StepRecord) -> Outcome:
    message = to_text(evaluate(record.step.arguments.get("ErrorMessage", ""), execution.scope()))
    _set_running(execution, record, {"Fail": {"ErrorMessage": message}})
    return Outcome("Failed", message)


def _run_register_model(execution: Execution, record: StepRecord) -> Outcome:
    arguments = evaluate(record.step.arguments, execution.scope())
    _set_running(execution, record)
    arn = gateway.call("sagemaker", "CreateModelPackage", arguments, _as_role(execution))["ModelPackageArn"]
    _set_running(execution, record, {"RegisterModel": {"Arn": arn}})
    package = gateway.call("sagemaker", "DescribeModelPackage", {"ModelPackageName": arn}, _as_service(execution))
    return Outcome("Succeeded", properties=package)


def _run_model(execution: Execution, record: StepRecord) -> Outcome:
    arguments = evaluate(record.step.arguments, execution.scope())
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
    arn = gateway.call("sagemaker", "CreateModel", request, _as_role(execution))["ModelArn"]
    _set_running(execution, record, {"Model": {"Arn": arn}})
    model = gateway.call("sagemaker", "DescribeModel", {"ModelName": request["ModelName"]}, _as_service(execution))
    return Outcome("Succeeded", properties=model)


RUNNERS: dict[str, Callable[[Execution, StepRecord], Outcome]] = {
    "Processing": _run_job,
    "Training": _run_job,
    "Tuning": _run_tuning,
    "Condition": _run_condition,
    "Fail": _run_fail,
    "RegisterModel": _run_register_model,
    "Model": _run_model,
}
