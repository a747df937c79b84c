"""The queries that run: one thread each, keyed by execution id beside their records (executions.py).

A query runs on its own thread (QUEUED -> RUNNING -> SUCCEEDED | FAILED | CANCELLED), at most
MAX_CONCURRENT_QUERIES at a time, as Athena queues past an account's concurrency. It runs as the
caller who started it, via athena.amazonaws.com (access.py): it checks the results bucket
(GetBucketLocation), has the engine read the tables, then writes the result as Athena writes it:
`<OutputLocation>/<QueryExecutionId>.csv` plus `<id>.csv.metadata`. Stopping marks the execution
CANCELLED at once and interrupts DuckDB until the query's thread has let go. The records and the runs
change under executions.STORE.lock.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from local_aws.athena import engine
from local_aws.athena.access import QueryAccess
from local_aws.athena.executions import FINISHED, STORE, QueryExecution
from local_aws.athena.failures import QueryCancelled, QueryError
from local_aws.athena.results import QueryResult
from local_aws.athena.sql import Statement
from local_aws.core.gateway.clients import parse_s3_uri
from local_aws.core.gateway.context import Caller

log = logging.getLogger("local_aws.athena")

MAX_CONCURRENT_QUERIES = 2  # more wait QUEUED


@dataclass
class Run:
    """What runs one query: the key of its record, its parsed statement, the engine's cursor while it has one."""

    account_id: str
    region: str
    execution_id: str
    statement: Statement
    running: bool = False
    cursor: Any = None  # the DuckDB cursor, for another thread to interrupt
    cancelled: bool = False
    thread_done: bool = False
    finished: threading.Event = field(default_factory=threading.Event)

    def record(self) -> QueryExecution | None:
        """The run's execution record; None once a reset dropped it. The caller holds STORE.lock."""
        return STORE.of(self.account_id, self.region).executions.get(self.execution_id)


_runs: dict[str, Run] = {}  # execution id -> its run, until the run's thread is done
_slots = threading.Semaphore(MAX_CONCURRENT_QUERIES)


def start(execution: QueryExecution, statement: Statement) -> None:
    """Run a QUEUED execution on a thread of its own."""
    caller = execution.caller
    run = Run(caller.account_id, caller.region, execution.id, statement)
    with STORE.lock:
        _runs[execution.id] = run
    threading.Thread(target=_run, args=(run,), name=f"athena-{execution.id[:8]}", daemon=True).start()


def wait(execution_id: str, timeout: float) -> None:
    """Wait up to `timeout` seconds for the execution to finish (at once if it is not running)."""
    run = _runs.get(execution_id)
    if run is not None:
        run.finished.wait(timeout)


def stop(execution: QueryExecution) -> None:
    """StopQueryExecution: CANCELLED at once, the engine interrupted until the query's thread lets go."""
    with STORE.lock:
        _cancel(execution, _runs.get(execution.id))
    STORE.changed()


def stop_all() -> None:
    """Cancel every query that runs or waits (the server stops)."""
    with STORE.lock:
        for run in list(_runs.values()):
            execution = run.record()
            if execution is not None:
                _cancel(execution, run)
    STORE.changed()


def forget() -> None:
    """A reset (the records are gone already): stop every run and drop the engines' loaded tables."""
    with STORE.lock:
        for run in _runs.values():
            _interrupt(run)
        _runs.clear()
    engine.reset()


def _run(run: Run) -> None:
    try:
        with _slots:
            with STORE.lock:
                execution = run.record()
                if execution is None or execution.state != "QUEUED" or run.cancelled:
                    return  # stopped while queued
                execution.state, execution.started = "RUNNING", time.time()
                run.running = True
                work = _Work(execution.caller, execution.database, execution.parameters, execution.output_location)
            STORE.changed()
            _execute(run, work)
    finally:
        with STORE.lock:
            run.cursor, run.thread_done = None, True
            run.finished.set()
            if _runs.get(run.execution_id) is run:
                del _runs[run.execution_id]


@dataclass(frozen=True)
class _Work:
    """What a run needs of its record, copied when it starts."""

    caller: Caller
    database: str
    parameters: list[str]
    output_location: str


def _execute(run: Run, work: _Work) -> None:
    """Run the query as its caller and record how it ended."""
    access = QueryAccess(work.caller)
    started = time.time()
    try:
        bucket, key = parse_s3_uri(work.output_location)
        access.check_output_bucket(bucket)
        result = engine.engine(work.caller.account_id, work.caller.region).run(
            run.statement,
            work.database,
            access,
            on_cursor=lambda cursor: setattr(run, "cursor", cursor),
            is_cancelled=lambda: run.cancelled,
            parameters=work.parameters,
        )
        engine_done = time.time()
        if run.cancelled:
            raise QueryCancelled()
        access.write_result(bucket, key, result.to_csv())
        access.write_result(bucket, key + ".metadata", result.metadata())
        _finish(
            run,
            "SUCCEEDED",
            result=result,
            engine_ms=int((engine_done - started) * 1000),
            processing_ms=int((time.time() - engine_done) * 1000),
        )
    except QueryCancelled:
        _finish(run, "CANCELLED")
    except QueryError as err:
        _finish(run, "FAILED", reason=err.reason, athena_error=_athena_error(err.reason, err.category, err.error_type))
    except Exception as exc:  # an engine bug: fail the query in Athena's shape, keep serving
        log.exception("query %s failed inside local_aws", run.execution_id)
        reason = f"GENERIC_INTERNAL_ERROR: local_aws internal error: {exc!r}"
        _finish(run, "FAILED", reason=reason, athena_error=_athena_error(reason, 1, 200))


def _athena_error(reason: str, category: int, error_type: int) -> dict:
    return {"ErrorCategory": category, "ErrorType": error_type, "Retryable": False, "ErrorMessage": reason}


def _finish(
    run: Run,
    state: str,
    result: QueryResult | None = None,
    reason: str | None = None,
    athena_error: dict | None = None,
    engine_ms: int = 0,
    processing_ms: int = 0,
) -> None:
    with STORE.lock:
        execution = run.record()
        if execution is None or execution.state in FINISHED:
            return  # reset, or stopped meanwhile: it stays CANCELLED
        if run.cancelled:
            state, result, reason, athena_error = "CANCELLED", None, None, None
        now = time.time()
        execution.state, execution.result, execution.reason = state, result, reason
        execution.athena_error = athena_error
        execution.engine_ms = engine_ms or int((now - (execution.started or now)) * 1000)
        execution.processing_ms = processing_ms
        execution.scanned_bytes = result.data_scanned_bytes if result else 0
        execution.completed = now
    STORE.changed()


def _cancel(execution: QueryExecution, run: Run | None) -> None:
    """Mark CANCELLED and interrupt the engine; the caller holds STORE.lock and marks the store changed."""
    if execution.state in FINISHED:
        return
    execution.state, execution.completed = "CANCELLED", time.time()
    if execution.started is not None:
        execution.engine_ms = int((execution.completed - execution.started) * 1000)
    if run is not None:
        _interrupt(run)


def _interrupt(run: Run) -> None:
    """Cancel the run: its waiters return, and a running engine is interrupted until the thread lets go."""
    run.cancelled = True
    run.finished.set()
    if run.running and not run.thread_done:
        threading.Thread(target=_interrupt_until_stopped, args=(run,), daemon=True).start()


def _interrupt_until_stopped(run: Run) -> None:
    """Interrupt the engine until the query's thread is done: an interrupt that lands between two
    statements of the engine does nothing, so one is not enough."""
    while not run.thread_done:
        cursor = run.cursor
        if cursor is not None:
            try:
                cursor.interrupt()
            except Exception:  # the cursor closed meanwhile
                pass
        time.sleep(0.05)
