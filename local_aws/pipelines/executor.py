"""Runs pipeline executions in the background, as the SageMaker Pipelines service does.

The records are the store's (local_aws.pipelines.models); what runs lives here, in a Run per execution ARN:
its coordinator thread, the event a stop sets, and the condition (over the store's lock) its steps signal
when they end. The coordinator looks its execution up by key each time it wakes, so an execution a reset
dropped starts nothing more: its running steps are stopped and waited for, and nothing is recorded.

The coordinator starts every step whose upstream steps (DependsOn, data references, its Condition step)
have finished as required, each in its own thread, at most MaxParallelExecutionSteps at once and at most
os.cpu_count() jobs at once; a step is retried as its RetryPolicies allow (local_aws.pipelines.steps runs
each attempt). After a step fails no new step starts (except one whose DependsOn trigger asks for that
failure); running steps finish, then the execution fails, or completes with failures when every failure
was handled. Each change of the execution or a step record is made under the store's lock and marks the
store changed.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field

from local_aws.core.service import now
from local_aws.pipelines import models
from local_aws.pipelines.definition import JOB_STEP_TYPES, ancestors
from local_aws.pipelines.execution import RUNNING, TERMINAL_STEP, Execution, Outcome, StepRecord
from local_aws.pipelines.models import STORE
from local_aws.pipelines.steps import attempt

log = logging.getLogger("local_aws.pipelines")

EXECUTION_FAILURE = "Step failure: One or multiple steps failed."
DEFAULT_MAX_PARALLEL = 50
STOP_WAIT_SECONDS = 30  # how long a reset or a shutdown waits for an execution's steps to stop
_TRIGGER_MATCH = {"Completed": {"Succeeded"}, "Failed": {"Failed"}, "Stopped": {"Stopped"}, "Any": TERMINAL_STEP}


@dataclass
class Run:
    """What runs one execution: found by the execution's key (account, region, ARN)."""

    account_id: str
    region: str
    arn: str
    stop: threading.Event = field(default_factory=threading.Event)  # set by a stop: no new steps, jobs stopped
    wake: threading.Condition = field(default_factory=lambda: threading.Condition(STORE.lock))
    running: set[str] = field(default_factory=set)  # the steps whose thread runs
    thread: threading.Thread | None = None


_runs: dict[str, Run] = {}  # execution ARN -> its run, while its coordinator runs
_runs_lock = threading.Lock()


def reuse(execution: Execution, source: Execution, selected: list[str]) -> None:
    """Selective execution: the selected steps will run; the steps they need keep the source's results."""
    needed = ancestors(execution.definition, selected)
    with STORE.lock:
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
    run = Run(execution.account_id, execution.region, execution.arn)
    run.thread = threading.Thread(
        target=_coordinate, args=(run,), daemon=True, name=f"pipeline-{execution.execution_id}"
    )
    with _runs_lock:
        _runs[run.arn] = run
    run.thread.start()


def is_running(arn: str) -> bool:
    """Whether the execution's coordinator still runs (it may still be finishing after its last step)."""
    run = _runs.get(arn)
    return run is not None and run.thread is not None and run.thread.is_alive()


def request_stop(execution: Execution) -> None:
    """StopPipelineExecution: no new steps, running jobs are stopped, the execution ends Stopped."""
    with STORE.lock:
        if execution.status not in RUNNING:
            return
        execution.set_status("Stopping")
        for record in execution.steps.values():
            if record.status not in TERMINAL_STEP:
                record.status = "Stopping"
        run = _runs.get(execution.arn)
        if run is not None:
            run.stop.set()
            run.wake.notify_all()
    STORE.changed()


def wake(execution: Execution) -> None:
    """Have the coordinator look again (its parallelism changed)."""
    run = _runs.get(execution.arn)
    if run is not None:
        with run.wake:
            run.wake.notify_all()


def prepare_retry(execution: Execution, parallelism: dict | None) -> None:
    """RetryPipelineExecution: forget failed and stopped steps so they run again; keep the rest."""
    with STORE.lock:
        execution.retried_attempts = {
            name: r.attempt_count for name, r in execution.steps.items() if r.status in ("Failed", "Stopped")
        }
        for name in execution.retried_attempts:
            del execution.steps[name]
        if parallelism:
            execution.parallelism = parallelism
        execution.set_status("Executing")
    STORE.changed()


def stop_running() -> None:
    """A shutdown: every running execution is stopped (its jobs with it) and ends Stopped."""
    with _runs_lock:
        runs = list(_runs.values())
    for run in runs:
        execution = models.stored_execution(run.account_id, run.region, run.arn)
        if execution is not None:
            request_stop(execution)
    _wait(runs)


def forget() -> None:
    """A reset (the store is empty already): every run stops its steps and ends, recording nothing."""
    with _runs_lock:
        runs = list(_runs.values())
        _runs.clear()
    for run in runs:
        with run.wake:
            run.stop.set()
            run.wake.notify_all()
    _wait(runs)


def _wait(runs: list[Run]) -> None:
    for run in runs:
        if run.thread is not None:
            run.thread.join(STOP_WAIT_SECONDS)


def _coordinate(run: Run) -> None:
    try:
        with run.wake:
            while True:
                execution = models.stored_execution(run.account_id, run.region, run.arn)
                if execution is None or execution.status == "Stopping":  # a reset dropped it, or a stop
                    run.stop.set()
                if execution is not None and not run.stop.is_set():
                    _start_ready_steps(run, execution)
                if not run.running:
                    if execution is not None:
                        _finish(execution, stopped=run.stop.is_set())
                        STORE.changed()
                    return
                run.wake.wait(timeout=1.0)
    finally:
        with _runs_lock:
            if _runs.get(run.arn) is run:
                del _runs[run.arn]


def _start_ready_steps(run: Run, execution: Execution) -> None:
    """Start a thread for each step that may run now (the store's lock is held)."""
    for name in _ready_steps(execution, run.running):
        record = StepRecord(step=execution.definition.steps[name])
        record.attempt_count = execution.retried_attempts.get(name, 0)
        execution.steps[name] = record
        run.running.add(name)
        threading.Thread(
            target=_run_step,
            args=(run, execution, record),
            daemon=True,
            name=f"step-{execution.execution_id}-{name}",
        ).start()
        STORE.changed()


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


def _finish(execution: Execution, stopped: bool) -> None:
    if stopped:
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


def _run_step(run: Run, execution: Execution, record: StepRecord) -> None:
    try:
        outcome = _attempts(run, execution, record)
    except Exception as exc:  # an emulator bug: fail the step, keep the server serving
        log.exception("step %s of %s crashed", record.step.name, execution.arn)
        outcome = Outcome("Failed", f"InternalError: local_aws failed to run the step: {exc!r}")
    with run.wake:
        record.status = outcome.status
        record.failure_reason = outcome.failure_reason if outcome.status == "Failed" else None
        if outcome.status == "Succeeded":
            record.properties = outcome.properties
            record.ran_in = record.ran_in or execution.arn
        record.end_time = now()
        run.running.discard(record.step.name)
        run.wake.notify_all()
    STORE.changed()


def _attempts(run: Run, execution: Execution, record: StepRecord) -> Outcome:
    """Run the step, retrying as its RetryPolicies allow."""
    first_attempt = time.monotonic()
    retries: dict[int, int] = {}  # policy index -> retries used
    while True:
        with STORE.lock:
            record.attempt_count += 1
        STORE.changed()
        outcome = attempt(execution, record, run.stop)
        if outcome.status != "Failed" or not outcome.exception_type or run.stop.is_set():
            return outcome
        delay = retry_delay(record.step.retry_policies, outcome.exception_type, retries, first_attempt)
        if delay is None:
            return outcome
        log.info(
            "retrying step %s of %s in %.1f s after %s", record.step.name, execution.arn, delay, outcome.exception_type
        )
        if run.stop.wait(delay):
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
