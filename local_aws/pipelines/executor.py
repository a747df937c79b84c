"""Runs one pipeline execution's steps in the background, as the SageMaker Pipelines service does.

A coordinator thread per execution starts every step whose upstream steps (DependsOn, data
references, its Condition step) have finished as required, each in its own thread, at most
MaxParallelExecutionSteps at once and at most os.cpu_count() jobs at once; a step is retried as its
RetryPolicies allow (local_aws.pipelines.steps runs each attempt). After a step fails no new step
starts (except one whose DependsOn trigger asks for that failure); running steps finish, then the
execution fails, or completes with failures when every failure was handled. Each change of the
execution or a step record marks the saved state changed (models.STATE) once made.
"""

from __future__ import annotations

import logging
import os
import threading
import time

from local_aws.core.service import now
from local_aws.pipelines import models
from local_aws.pipelines.definition import JOB_STEP_TYPES, ancestors
from local_aws.pipelines.execution import RUNNING, TERMINAL_STEP, Execution, Outcome, StepRecord
from local_aws.pipelines.steps import attempt

log = logging.getLogger("local_aws.pipelines")

EXECUTION_FAILURE = "Step failure: One or multiple steps failed."
DEFAULT_MAX_PARALLEL = 50
_TRIGGER_MATCH = {"Completed": {"Succeeded"}, "Failed": {"Failed"}, "Stopped": {"Stopped"}, "Any": TERMINAL_STEP}


def reuse(execution: Execution, source: Execution, selected: list[str]) -> None:
    """Selective execution: the selected steps will run; the steps they need keep the source's results."""
    needed = ancestors(execution.definition, selected)
    with source.lock:
        for name in sorted(needed):
            record = source.steps[name]
            execution.steps[name] = StepRecord(
                step=execution.definition.steps[name],
                status="Succeeded",
                start_time=record.start_time,
                end_time=record.end_time,
                attempt_count=record.attempt_count,
                metadata=dict(record.metadata),
                properties=record.properties,
                cache_key=record.cache_key,
                ran_in=record.ran_in or source.arn,
                selective_source=source.arn,
            )
    execution.excluded = set(execution.definition.steps) - needed - set(selected)


def start(execution: Execution) -> None:
    """Run the execution's not yet succeeded steps in the background (start and retry)."""
    execution.stop_requested = threading.Event()
    execution.coordinator = threading.Thread(
        target=_coordinate, args=(execution,), daemon=True, name=f"pipeline-{execution.execution_id}"
    )
    execution.coordinator.start()


def request_stop(execution: Execution) -> None:
    """StopPipelineExecution: no new steps, running jobs are stopped, the execution ends Stopped."""
    with execution.lock:
        if execution.status not in RUNNING:
            return
        execution.stop_requested.set()
        execution.set_status("Stopping")
        for record in execution.steps.values():
            if record.status not in TERMINAL_STEP:
                record.status = "Stopping"
        execution.lock.notify_all()
    models.STATE.changed()


def prepare_retry(execution: Execution, parallelism: dict | None) -> None:
    """RetryPipelineExecution: forget failed and stopped steps so they run again; keep the rest."""
    with execution.lock:
        execution.retried_attempts = {
            name: r.attempt_count for name, r in execution.steps.items() if r.status in ("Failed", "Stopped")
        }
        for name in execution.retried_attempts:
            del execution.steps[name]
        if parallelism:
            execution.parallelism = parallelism
        execution.set_status("Executing")
    models.STATE.changed()


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
                    threading.Thread(
                        target=_run_step,
                        args=(execution, record, running),
                        daemon=True,
                        name=f"step-{execution.execution_id}-{name}",
                    ).start()
                    models.STATE.changed()
            if not running:
                _finish(execution)
                models.STATE.changed()
                return
            lock.wait(timeout=1.0)


def _limits(execution: Execution) -> tuple[int, int]:
    configured = (execution.parallelism or {}).get("MaxParallelExecutionSteps") or DEFAULT_MAX_PARALLEL
    return configured, min(configured, os.cpu_count() or 1)


def _ready_steps(execution: Execution, running: set[str]) -> list[str]:
    """Steps that may start now, in definition order, within the parallelism limits."""
    max_steps, max_jobs = _limits(execution)
    steps = execution.definition.steps
    jobs_running = sum(1 for name in running if steps[name].type in JOB_STEP_TYPES)
    failed = any(r.status == "Failed" for r in execution.steps.values())
    ready = []
    for name, step in steps.items():
        if name in execution.steps or name in execution.excluded or len(running) + len(ready) >= max_steps:
            continue
        if _readiness(execution, name) != "ready":
            continue
        handles_failure = any(d.trigger != "Completed" for d in execution.definition.upstream[name])
        if failed and not handles_failure:
            continue  # after a failure only failure handlers start
        if step.type in JOB_STEP_TYPES:
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
        if (
            step.branch_of
            and dependency.step == step.branch_of[0]
            and (upstream.properties or {}).get("Outcome") != step.branch_of[1]
        ):
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
    return any(
        d.step == failed and d.trigger in ("Failed", "Any") and name in execution.steps
        for name, deps in execution.definition.upstream.items()
        for d in deps
    )


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
    models.STATE.changed()


def _attempts(execution: Execution, record: StepRecord) -> Outcome:
    """Run the step, retrying as its RetryPolicies allow."""
    first_attempt = time.monotonic()
    retries: dict[int, int] = {}  # policy index -> retries used
    while True:
        with execution.lock:
            record.attempt_count += 1
        models.STATE.changed()
        outcome = attempt(execution, record)
        if outcome.status != "Failed" or not outcome.exception_type or execution.stop_requested.is_set():
            return outcome
        delay = retry_delay(record.step.retry_policies, outcome.exception_type, retries, first_attempt)
        if delay is None:
            return outcome
        log.info(
            "retrying step %s of %s in %.1f s after %s", record.step.name, execution.arn, delay, outcome.exception_type
        )
        if execution.stop_requested.wait(delay):
            return Outcome("Stopped")


def retry_delay(
    policies: list[dict], exception_type: str, retries: dict[int, int], first_attempt: float
) -> float | None:
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
