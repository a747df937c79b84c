"""Query executions as records: what each was asked, who asked, where it stands and its result, with the
ClientRequestTokens seen, per account and region (an AccountRegionStore the runtime saves and restores).

A record is plain data; what runs a query (its thread, its DuckDB cursor, the event GetQueryExecution
waits on) lives in the runner (runner.py), keyed by the execution's id. Times are wall-clock epoch
seconds, so a restored record describes itself as it did before. A query QUEUED or RUNNING when the
server stopped cannot go on: it loads FAILED, saying so. The DuckDB table cache is not saved: tables
load again from S3.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from dataclasses import dataclass, field

from local_aws.athena.results import QueryResult
from local_aws.athena.sql import Statement
from local_aws.core.gateway.context import Caller
from local_aws.core.gateway.errors import InvalidRequestException
from local_aws.core.runtime.store import AccountRegionStore

FINISHED = ("SUCCEEDED", "FAILED", "CANCELLED")
STOPPED_WHILE_RUNNING = (
    "GENERIC_INTERNAL_ERROR: local_aws stopped while this query ran (the server was killed "
    "or crashed), so it has no result. Run the query again."
)


@dataclass
class QueryExecution:
    id: str
    query: str
    statement_type: str  # DML, DDL or UTILITY
    substatement_type: str
    workgroup: str
    database: str
    catalog: str
    result_configuration: dict
    caller: Caller  # who started it, via athena.amazonaws.com: the query reads and writes as this caller
    parameters: list[str] = field(default_factory=list)  # ExecutionParameters
    submitted: float = field(default_factory=time.time)  # epoch seconds, as the times below
    started: float | None = None
    completed: float | None = None
    state: str = "QUEUED"
    reason: str | None = None
    athena_error: dict | None = None
    engine_ms: int = 0
    processing_ms: int = 0
    scanned_bytes: int = 0
    result: QueryResult | None = None

    @property
    def output_location(self) -> str:
        return self.result_configuration["OutputLocation"]

    def describe(self) -> dict:
        """GetQueryExecution's QueryExecution; the caller holds STORE.lock."""
        status: dict = {"State": self.state, "SubmissionDateTime": _datetime(self.submitted)}
        if self.reason:
            status["StateChangeReason"] = self.reason
        if self.completed is not None:
            status["CompletionDateTime"] = _datetime(self.completed)
        if self.athena_error:
            status["AthenaError"] = self.athena_error
        return {
            "QueryExecutionId": self.id,
            "Query": self.query,
            "StatementType": self.statement_type,
            "SubstatementType": self.substatement_type,
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
        finished = self.state in FINISHED and self.completed is not None
        end = self.completed if finished else time.time()
        queued_until = self.started if self.started is not None else end
        return {
            "EngineExecutionTimeInMillis": self.engine_ms if finished else _ms(end - queued_until),
            "DataScannedInBytes": self.scanned_bytes,
            "TotalExecutionTimeInMillis": _ms(end - self.submitted),
            "QueryQueueTimeInMillis": _ms(queued_until - self.submitted),
            "ServicePreProcessingTimeInMillis": 0,
            "QueryPlanningTimeInMillis": 0,
            "ServiceProcessingTimeInMillis": self.processing_ms,
            "ResultReuseInformation": {"ReusedPreviousResult": False},
        }


@dataclass
class State:
    """One account's query executions in one region."""

    executions: dict[str, QueryExecution] = field(default_factory=dict)  # insertion order = submission order
    tokens: dict[str, tuple[str, str]] = field(default_factory=dict)  # ClientRequestToken -> (fingerprint, id)


STORE: AccountRegionStore[State] = AccountRegionStore("athena", State)


def submit(
    state: State,
    statement: Statement,
    request: dict,
    result_configuration: dict,
    caller: Caller,
    fingerprint: str,
) -> tuple[QueryExecution, bool]:
    """The new QUEUED execution of a StartQueryExecution request, and True; for a ClientRequestToken seen
    before with the same request, the execution it started, and False."""
    token = request.get("ClientRequestToken")
    context = request.get("QueryExecutionContext") or {}
    with STORE.lock:
        if token and token in state.tokens:
            seen, execution_id = state.tokens[token]
            if seen != fingerprint:
                raise InvalidRequestException("Idempotent parameters do not match")
            return state.executions[execution_id], False
        execution_id = str(uuid.uuid4())
        output = f"{result_configuration['OutputLocation'].rstrip('/')}/{execution_id}.csv"
        execution = QueryExecution(
            id=execution_id,
            query=statement.text,
            statement_type=statement.statement_type,
            substatement_type=statement.substatement_type,
            workgroup=request.get("WorkGroup") or "primary",
            database=context.get("Database") or "default",
            catalog=context.get("Catalog") or "AwsDataCatalog",
            result_configuration={**result_configuration, "OutputLocation": output},
            caller=caller,
            parameters=list(request.get("ExecutionParameters") or []),
        )
        state.executions[execution_id] = execution
        if token:
            state.tokens[token] = (fingerprint, execution_id)
    STORE.changed()
    return execution, True


def find(state: State, execution_id: str) -> QueryExecution:
    execution = state.executions.get(execution_id)
    if execution is None:
        raise InvalidRequestException(f"QueryExecution {execution_id} was not found")
    return execution


def ids_in(state: State, workgroup: str) -> list[str]:
    """The workgroup's execution ids, newest first."""
    with STORE.lock:
        return [e.id for e in reversed(state.executions.values()) if e.workgroup == workgroup]


def _fail_the_interrupted() -> None:
    """After a load: a query that was QUEUED or RUNNING when the server stopped ends FAILED now, saying why."""
    changed = False
    with STORE.lock:
        for _, state in STORE.states():
            for execution in state.executions.values():
                if execution.state not in FINISHED:
                    _fail_as_stopped(execution, time.time())
                    changed = True
    if changed:
        STORE.changed()


def _fail_as_stopped(execution: QueryExecution, now: float) -> None:
    execution.state, execution.reason, execution.result = "FAILED", STOPPED_WHILE_RUNNING, None
    execution.athena_error = {
        "ErrorCategory": 1,
        "ErrorType": 100,
        "Retryable": True,
        "ErrorMessage": STOPPED_WHILE_RUNNING,
    }
    execution.completed = now
    if execution.started is not None:
        execution.engine_ms = _ms(now - execution.started)


STORE.after_load.append(_fail_the_interrupted)


def _datetime(epoch: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, dt.UTC)


def _ms(seconds: float) -> int:
    return max(int(seconds * 1000), 0)
