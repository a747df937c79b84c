"""Query executions: their record, their registry, and the background thread each runs on.

A query runs on its own thread (QUEUED -> RUNNING -> SUCCEEDED | FAILED | CANCELLED), at most
MAX_CONCURRENT_QUERIES at a time, as Athena queues past an account's concurrency. A result is kept
for GetQueryResults and written as Athena writes it: `<OutputLocation>/<QueryExecutionId>.csv` plus
`<id>.csv.metadata`. Stopping marks the execution CANCELLED at once and interrupts DuckDB until the
query's thread has let go.

The executions (results included) and ClientRequestTokens are saved (local_aws.core.runtime.persistence):
each change marks them changed, the saver thread copies them under `lock` and pickles the copy. A
query QUEUED or RUNNING when the server died cannot go on: it loads FAILED, saying so. The DuckDB
table cache is not saved: tables load again from S3.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field

from local_aws.athena import engine
from local_aws.athena.access import CallerAccess
from local_aws.athena.failures import QueryCancelled, QueryError
from local_aws.athena.results import QueryResult
from local_aws.athena.sql import Statement
from local_aws.core.gateway.errors import InvalidRequestException
from local_aws.core.moto import state as moto_state
from local_aws.core.runtime.store import FunctionStore
from local_aws.core.service import now

log = logging.getLogger("local_aws.athena")

MAX_CONCURRENT_QUERIES = 2  # more wait QUEUED
FINISHED = ("SUCCEEDED", "FAILED", "CANCELLED")
LAYOUT = 1  # the saved state's shape; a snapshot of another shape does not load (and is set aside)
STOPPED_WHILE_RUNNING = (
    "GENERIC_INTERNAL_ERROR: local_aws stopped while this query ran (the server was killed "
    "or crashed), so it has no result. Run the query again."
)


@dataclass
class QueryExecution:
    id: str
    statement: Statement
    region: str
    workgroup: str
    database: str
    catalog: str
    result_configuration: dict
    parameters: list[str] = field(default_factory=list)  # ExecutionParameters
    submitted: dt.datetime = field(default_factory=now)
    state: str = "QUEUED"
    reason: str | None = None
    athena_error: dict | None = None
    started: float | None = None  # monotonic clock
    submitted_clock: float = field(default_factory=time.monotonic)
    completed: dt.datetime | None = None
    completed_clock: float = 0.0
    engine_ms: int = 0
    processing_ms: int = 0
    scanned_bytes: int = 0
    result: QueryResult | None = None
    cursor: object = None
    cancel_requested: bool = False
    thread_done: bool = False
    finished: threading.Event = field(default_factory=threading.Event)
    access: CallerAccess | None = None  # the caller's permission checks; None: the account's administrator

    @property
    def output_location(self) -> str:
        return self.result_configuration["OutputLocation"]

    def describe(self) -> dict:
        """GetQueryExecution's QueryExecution; the caller holds _lock."""
        status: dict = {"State": self.state, "SubmissionDateTime": self.submitted}
        if self.reason:
            status["StateChangeReason"] = self.reason
        if self.completed:
            status["CompletionDateTime"] = self.completed
        if self.athena_error:
            status["AthenaError"] = self.athena_error
        return {
            "QueryExecutionId": self.id,
            "Query": self.statement.text,
            "StatementType": self.statement.statement_type,
            "SubstatementType": self.statement.substatement_type,
            "ResultConfiguration": self.result_configuration,
            "ResultReuseConfiguration": {"ResultReuseByAgeConfiguration": {"Enabled": False}},
            "QueryExecutionContext": {"Database": self.database, "Catalog": self.catalog},
            "Status": status,
            "Statistics": self._statistics(),
            "WorkGroup": self.workgroup,
            "EngineVersion": {"SelectedEngineVersion": "AUTO", "EffectiveEngineVersion": "Athena engine version 3"},
            **({"ExecutionParameters": self.parameters} if self.parameters else {}),
        }

    def _statistics(self) -> dict:
        end = self.completed_clock if self.state in FINISHED else time.monotonic()
        queued_until = self.started if self.started is not None else end
        return {
            "EngineExecutionTimeInMillis": self.engine_ms
            if self.state in FINISHED
            else int((end - queued_until) * 1000),
            "DataScannedInBytes": self.scanned_bytes,
            "TotalExecutionTimeInMillis": int((end - self.submitted_clock) * 1000),
            "QueryQueueTimeInMillis": int((queued_until - self.submitted_clock) * 1000),
            "ServicePreProcessingTimeInMillis": 0,
            "QueryPlanningTimeInMillis": 0,
            "ServiceProcessingTimeInMillis": self.processing_ms,
            "ResultReuseInformation": {"ReusedPreviousResult": False},
        }


lock = threading.Lock()  # guards every execution's state and the registry
_executions: dict[str, QueryExecution] = {}  # insertion order = submission order
_tokens: dict[str, tuple[str, str]] = {}  # ClientRequestToken -> (request fingerprint, execution id)
_slots = threading.Semaphore(MAX_CONCURRENT_QUERIES)


def forget() -> None:
    with lock:
        for execution in _executions.values():
            _cancel(execution)
        _executions.clear()
        _tokens.clear()
    engine.reset()


def stop_running() -> None:
    with lock:
        for execution in _executions.values():
            _cancel(execution)


def start(
    statement: Statement,
    region: str,
    workgroup: str,
    context: dict,
    result_configuration: dict,
    parameters: list[str],
    token: str | None,
    fingerprint: str,
    access: CallerAccess | None = None,
) -> str:
    """Queue the query and start its thread; returns its id (the first one's, for a repeated token)."""
    with lock:
        if token and token in _tokens:
            seen, execution_id = _tokens[token]
            if seen != fingerprint:
                raise InvalidRequestException("Idempotent parameters do not match")
            return execution_id
        execution_id = str(uuid.uuid4())
        output = f"{result_configuration['OutputLocation'].rstrip('/')}/{execution_id}.csv"
        execution = QueryExecution(
            id=execution_id,
            statement=statement,
            region=region,
            workgroup=workgroup,
            database=context.get("Database") or "default",
            catalog=context.get("Catalog") or "AwsDataCatalog",
            parameters=parameters,
            result_configuration={**result_configuration, "OutputLocation": output},
            access=access,
        )
        _executions[execution.id] = execution
        if token:
            _tokens[token] = (fingerprint, execution.id)
    STATE.changed()
    threading.Thread(target=_run, args=(execution,), name=f"athena-{execution.id[:8]}", daemon=True).start()
    return execution.id


def find(execution_id: str) -> QueryExecution:
    execution = _executions.get(execution_id)
    if execution is None:
        raise InvalidRequestException(f"QueryExecution {execution_id} was not found")
    return execution


def known(execution_id: str) -> QueryExecution | None:
    return _executions.get(execution_id)


def ids_in(workgroup: str, region: str) -> list[str]:
    """The workgroup's execution ids, newest first."""
    with lock:
        return [e.id for e in reversed(_executions.values()) if e.workgroup == workgroup and e.region == region]


def stop(execution_id: str) -> None:
    with lock:
        _cancel(find(execution_id))


def _run(execution: QueryExecution) -> None:
    with _slots:
        with lock:
            if execution.state != "QUEUED":
                return  # stopped while queued
            execution.state = "RUNNING"
            execution.started = time.monotonic()
        STATE.changed()
        try:
            bucket, key = moto_state.parse_s3_uri(execution.output_location)
            if execution.access is not None:
                execution.access.output(bucket, key)
            if not moto_state.bucket_exists(bucket):
                raise QueryError(
                    "GENERIC_USER_ERROR", f"Unable to verify/create output bucket {bucket}", error_type=1000
                )
            result = engine.engine(execution.region).run(
                execution.statement,
                execution.database,
                on_cursor=lambda cursor: setattr(execution, "cursor", cursor),
                is_cancelled=lambda: execution.cancel_requested,
                parameters=execution.parameters,
                access=execution.access,
            )
            engine_done = time.monotonic()
            moto_state.put_object(bucket, key, result.to_csv())
            moto_state.put_object(bucket, key + ".metadata", result.metadata())
            _finish(
                execution,
                "SUCCEEDED",
                result=result,
                engine_ms=int((engine_done - execution.started) * 1000),
                processing_ms=int((time.monotonic() - engine_done) * 1000),
            )
        except QueryCancelled:
            _finish(execution, "CANCELLED")
        except QueryError as err:
            _finish(
                execution,
                "FAILED",
                reason=err.reason,
                athena_error={
                    "ErrorCategory": err.category,
                    "ErrorType": err.error_type,
                    "Retryable": False,
                    "ErrorMessage": err.reason,
                },
            )
        except Exception as exc:  # an engine bug: fail the query in Athena's shape, keep serving
            log.exception("query %s failed inside local_aws", execution.id)
            reason = f"GENERIC_INTERNAL_ERROR: local_aws internal error: {exc!r}"
            _finish(
                execution,
                "FAILED",
                reason=reason,
                athena_error={"ErrorCategory": 1, "ErrorType": 200, "Retryable": False, "ErrorMessage": reason},
            )


def _finish(
    execution: QueryExecution,
    state: str,
    result: QueryResult | None = None,
    reason: str | None = None,
    athena_error: dict | None = None,
    engine_ms: int = 0,
    processing_ms: int = 0,
) -> None:
    with lock:
        execution.cursor, execution.thread_done = None, True
        if execution.state in FINISHED:
            return  # stopped meanwhile: it stays CANCELLED
        if execution.cancel_requested:
            state, result, reason, athena_error = "CANCELLED", None, None, None
        execution.state, execution.result, execution.reason = state, result, reason
        execution.athena_error = athena_error
        execution.engine_ms = engine_ms or int((time.monotonic() - (execution.started or time.monotonic())) * 1000)
        execution.processing_ms = processing_ms
        execution.scanned_bytes = result.data_scanned_bytes if result else 0
        execution.completed, execution.completed_clock = now(), time.monotonic()
        execution.finished.set()
    STATE.changed()


def _cancel(execution: QueryExecution) -> None:
    """Mark CANCELLED and interrupt the engine; the caller holds the lock."""
    if execution.state in FINISHED:
        return
    execution.cancel_requested = True
    execution.state = "CANCELLED"
    execution.completed, execution.completed_clock = now(), time.monotonic()
    if execution.started is not None:
        execution.engine_ms = int((execution.completed_clock - execution.started) * 1000)
        threading.Thread(target=_interrupt_until_stopped, args=(execution,), daemon=True).start()
    execution.finished.set()
    STATE.changed()


def _interrupt_until_stopped(execution: QueryExecution) -> None:
    """Interrupt the engine until the query's thread is done: an interrupt that lands between two
    statements of the engine does nothing, so one is not enough."""
    while not execution.thread_done:
        cursor = execution.cursor
        if cursor is not None:
            try:
                cursor.interrupt()
            except Exception:  # the cursor closed meanwhile
                pass
        time.sleep(0.05)


# --- saved state ----------------------------------------------------------------------------------


def _dump() -> dict:
    """The executions and tokens as plain data: copies taken under `lock` (a result's table is immutable),
    without the engine's cursor or the Event, with the statement as its text (its AST is not kept)."""
    with lock:
        saved = [
            dataclasses.replace(
                execution,
                cursor=None,
                finished=None,
                access=None,
                statement=Statement(execution.statement.text, [], execution.statement.first_word, []),
            )
            for execution in _executions.values()
        ]
        tokens = dict(_tokens)
    return {
        "layout": LAYOUT,
        "executions": saved,
        "tokens": tokens,
        "wall": time.time(),
        "clock": time.monotonic(),
        "saved_at": now(),
    }


def _load(snapshot: dict) -> None:
    """Put the executions back; clocks move onto this process's monotonic clock, so statistics keep their
    durations. One that was QUEUED or RUNNING ends FAILED when the saved state was taken."""
    if snapshot.get("layout") != LAYOUT:
        raise ValueError(f"Athena's saved state has layout {snapshot.get('layout')}, not {LAYOUT}")
    shift = time.monotonic() - snapshot["clock"] - (time.time() - snapshot["wall"])
    with lock:
        _executions.clear()
        for execution in snapshot["executions"]:
            execution.submitted_clock += shift
            execution.completed_clock += shift
            if execution.started is not None:
                execution.started += shift
            execution.finished, execution.thread_done = threading.Event(), True
            if execution.state not in FINISHED:
                _fail_as_stopped(execution, snapshot["saved_at"], snapshot["clock"] + shift)
                STATE.changed()  # saved FAILED from now on
            execution.finished.set()
            _executions[execution.id] = execution
        _tokens.clear()
        _tokens.update(snapshot["tokens"])


def _fail_as_stopped(execution: QueryExecution, saved_at: dt.datetime, saved_clock: float) -> None:
    execution.state, execution.reason, execution.result = "FAILED", STOPPED_WHILE_RUNNING, None
    execution.athena_error = {
        "ErrorCategory": 1,
        "ErrorType": 100,
        "Retryable": True,
        "ErrorMessage": STOPPED_WHILE_RUNNING,
    }
    execution.completed, execution.completed_clock = saved_at, saved_clock
    if execution.started is not None:
        execution.engine_ms = int((saved_clock - execution.started) * 1000)


STATE = FunctionStore("athena", _dump, _load)
