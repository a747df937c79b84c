"""Athena query executions that really run (moto's answers canned empty results).

StartQueryExecution answers at once with an id; the query then runs on a background thread
(QUEUED -> RUNNING -> SUCCEEDED | FAILED | CANCELLED) in `athena_engine` (DuckDB over the Glue
tables' Parquet objects in moto's S3), and its result is kept for GetQueryResults and written as
Athena writes it: `<OutputLocation>/<QueryExecutionId>.csv` plus `<id>.csv.metadata`. Workgroups
and data catalogs stay moto's; the workgroup's result configuration is honoured as AWS does.
"""
from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field

from local_aws import athena_engine, moto_state
from local_aws.athena_engine import QueryCancelled, QueryError, QueryResult
from local_aws.protocol import AwsError, RequestContext, json_action, now, on_reset, on_shutdown

log = logging.getLogger("local_aws.athena")

MAX_CONCURRENT_QUERIES = 2  # more wait QUEUED, as Athena queues past an account's concurrency
# GetQueryExecution holds its answer up to this long while a query is unfinished, so a client that
# polls every few seconds (the SDK's AthenaQuery.wait polls every 5 s) sees a fast query finished on
# its first look; a slower query still answers QUEUED or RUNNING.
STATUS_WAIT_SECONDS = 1.0
FINISHED = ("SUCCEEDED", "FAILED", "CANCELLED")


class InvalidRequestException(AwsError):
    code = "InvalidRequestException"

    def __init__(self, message: str):
        super().__init__(message, AthenaErrorCode="INVALID_INPUT")


@dataclass
class Execution:
    id: str
    query: str
    region: str
    workgroup: str
    database: str
    catalog: str
    result_configuration: dict
    statement_type: str
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

    @property
    def output_location(self) -> str:
        return self.result_configuration["OutputLocation"]

    def describe(self) -> dict:
        status: dict = {"State": self.state, "SubmissionDateTime": self.submitted}
        if self.reason:
            status["StateChangeReason"] = self.reason
        if self.completed:
            status["CompletionDateTime"] = self.completed
        if self.athena_error:
            status["AthenaError"] = self.athena_error
        return {
            "QueryExecutionId": self.id,
            "Query": self.query,
            "StatementType": self.statement_type,
            "SubstatementType": athena_engine.substatement_type(self.query),
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
            "EngineExecutionTimeInMillis": self.engine_ms if self.state in FINISHED else
            int((end - queued_until) * 1000),
            "DataScannedInBytes": self.scanned_bytes,
            "TotalExecutionTimeInMillis": int((end - self.submitted_clock) * 1000),
            "QueryQueueTimeInMillis": int((queued_until - self.submitted_clock) * 1000),
            "ServicePreProcessingTimeInMillis": 0,
            "QueryPlanningTimeInMillis": 0,
            "ServiceProcessingTimeInMillis": self.processing_ms,
            "ResultReuseInformation": {"ReusedPreviousResult": False},
        }


_lock = threading.Lock()
_executions: dict[str, Execution] = {}  # insertion order = submission order
_tokens: dict[str, tuple[str, str]] = {}  # ClientRequestToken -> (request fingerprint, execution id)
_slots = threading.Semaphore(MAX_CONCURRENT_QUERIES)


@on_reset
def _forget() -> None:
    with _lock:
        for execution in _executions.values():
            _cancel(execution)
        _executions.clear()
        _tokens.clear()
    athena_engine.reset()


@on_shutdown
def _stop_running() -> None:
    with _lock:
        for execution in _executions.values():
            _cancel(execution)


def _find(query_execution_id: str) -> Execution:
    execution = _executions.get(query_execution_id or "")
    if execution is None:
        raise InvalidRequestException(f"QueryExecution {query_execution_id} was not found")
    return execution


def _workgroup(ctx: RequestContext, name: str) -> dict:
    workgroup = moto_state.athena_workgroup(ctx.region, name)
    if workgroup is None:
        raise InvalidRequestException(f"WorkGroup {name} is not found.")
    if workgroup.get("State") == "DISABLED":
        raise InvalidRequestException(f"WorkGroup {name} is disabled.")
    return workgroup


def _result_configuration(request: dict, workgroup: dict) -> dict:
    """The client's result configuration, or the workgroup's where it has one and enforces it."""
    config = workgroup.get("Configuration") or {}
    from_workgroup = dict(config.get("ResultConfiguration") or {})
    from_client = dict(request.get("ResultConfiguration") or {})
    if config.get("EnforceWorkGroupConfiguration") and from_workgroup.get("OutputLocation"):
        chosen = from_workgroup
    else:
        chosen = {**from_workgroup, **from_client}
    location = chosen.get("OutputLocation")
    if not location:
        raise InvalidRequestException(
            "No output location provided. An output location is required either through the Workgroup "
            "result configuration setting or as an API input.")
    if not location.startswith("s3://") or not location[len("s3://"):].split("/")[0]:
        raise InvalidRequestException(f"outputLocation {location} is not a valid S3 path; use s3://bucket/prefix/")
    return chosen


@json_action("AmazonAthena", "StartQueryExecution")
def start_query_execution(request: dict, ctx: RequestContext) -> dict:
    query = request.get("QueryString") or ""
    if not query.strip():
        raise InvalidRequestException("QueryString must not be empty")
    workgroup_name = request.get("WorkGroup") or "primary"
    result_config = _result_configuration(request, _workgroup(ctx, workgroup_name))
    context = request.get("QueryExecutionContext") or {}
    token = request.get("ClientRequestToken")
    parameters = list(request.get("ExecutionParameters") or [])
    fingerprint = json.dumps([query, workgroup_name, context, request.get("ResultConfiguration"), parameters],
                             sort_keys=True)
    with _lock:
        if token and token in _tokens:
            seen, execution_id = _tokens[token]
            if seen != fingerprint:
                raise InvalidRequestException("Idempotent parameters do not match")
            return {"QueryExecutionId": execution_id}
        execution_id = str(uuid.uuid4())
        output = f"{result_config['OutputLocation'].rstrip('/')}/{execution_id}.csv"
        execution = Execution(
            id=execution_id, query=query, region=ctx.region, workgroup=workgroup_name,
            database=context.get("Database") or "default", catalog=context.get("Catalog") or "AwsDataCatalog",
            statement_type=athena_engine.statement_type(query), parameters=parameters,
            result_configuration={**result_config, "OutputLocation": output},
        )
        _executions[execution.id] = execution
        if token:
            _tokens[token] = (fingerprint, execution.id)
    threading.Thread(target=_run, args=(execution,), name=f"athena-{execution.id[:8]}", daemon=True).start()
    return {"QueryExecutionId": execution.id}


def _run(execution: Execution) -> None:
    with _slots:
        with _lock:
            if execution.state != "QUEUED":
                return  # stopped while queued
            execution.state = "RUNNING"
            execution.started = time.monotonic()
        try:
            bucket, key = moto_state.parse_s3_uri(execution.output_location)
            if not moto_state.bucket_exists(bucket):
                raise QueryError("GENERIC_USER_ERROR", f"Unable to verify/create output bucket {bucket}",
                                 error_type=1000)
            result = athena_engine.engine(execution.region).run(
                execution.query, execution.database,
                on_cursor=lambda cursor: setattr(execution, "cursor", cursor),
                is_cancelled=lambda: execution.cancel_requested,
                parameters=execution.parameters,
            )
            engine_done = time.monotonic()
            moto_state.put_object(bucket, key, result.to_csv())
            moto_state.put_object(bucket, key + ".metadata", _metadata(result))
            _finish(execution, "SUCCEEDED", result=result, engine_ms=int((engine_done - execution.started) * 1000),
                    processing_ms=int((time.monotonic() - engine_done) * 1000))
        except QueryCancelled:
            _finish(execution, "CANCELLED")
        except QueryError as err:
            _finish(execution, "FAILED", reason=err.reason, athena_error={
                "ErrorCategory": err.category, "ErrorType": err.error_type, "Retryable": False,
                "ErrorMessage": err.reason})
        except Exception as exc:  # an engine bug: fail the query in Athena's shape, keep serving
            log.exception("query %s failed inside local_aws", execution.id)
            reason = f"GENERIC_INTERNAL_ERROR: local_aws internal error: {exc!r}"
            _finish(execution, "FAILED", reason=reason, athena_error={
                "ErrorCategory": 1, "ErrorType": 200, "Retryable": False, "ErrorMessage": reason})


def _finish(execution: Execution, state: str, result: QueryResult | None = None, reason: str | None = None,
            athena_error: dict | None = None, engine_ms: int = 0, processing_ms: int = 0) -> None:
    with _lock:
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


def _cancel(execution: Execution) -> None:
    """Mark CANCELLED and interrupt the engine; the caller holds _lock."""
    if execution.state in FINISHED:
        return
    execution.cancel_requested = True
    execution.state = "CANCELLED"
    execution.completed, execution.completed_clock = now(), time.monotonic()
    if execution.started is not None:
        execution.engine_ms = int((execution.completed_clock - execution.started) * 1000)
    if execution.started is not None:
        threading.Thread(target=_interrupt_until_stopped, args=(execution,), daemon=True).start()
    execution.finished.set()


def _interrupt_until_stopped(execution: Execution) -> None:
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


def _metadata(result: QueryResult) -> bytes:
    """The `<id>.csv.metadata` object: the result's column descriptions (Athena's own is binary)."""
    return json.dumps({"ColumnInfo": _column_info(result)}).encode()


def _column_info(result: QueryResult) -> list[dict]:
    return [{"CatalogName": "hive", "SchemaName": "", "TableName": "", "Name": name, "Label": name,
             "Type": type_name, "Precision": precision, "Scale": scale, "Nullable": "UNKNOWN",
             "CaseSensitive": type_name == "varchar"}
            for name, (type_name, precision, scale) in zip(result.names, result.types)]


@json_action("AmazonAthena", "GetQueryExecution")
def get_query_execution(request: dict, ctx: RequestContext) -> dict:
    execution = _find(request.get("QueryExecutionId", ""))
    if execution.state not in FINISHED:
        execution.finished.wait(STATUS_WAIT_SECONDS)
    with _lock:
        return {"QueryExecution": execution.describe()}


@json_action("AmazonAthena", "BatchGetQueryExecution")
def batch_get_query_execution(request: dict, ctx: RequestContext) -> dict:
    ids = request.get("QueryExecutionIds") or []
    if not 1 <= len(ids) <= 50:
        raise InvalidRequestException(
            f"1 validation error detected: Value at 'queryExecutionIds' failed to satisfy constraint: "
            f"Member must have length between 1 and 50 (got {len(ids)})")
    found, missing = [], []
    with _lock:
        for execution_id in ids:
            execution = _executions.get(execution_id)
            if execution is None:
                missing.append({"QueryExecutionId": execution_id, "ErrorCode": "INVALID_INPUT",
                                "ErrorMessage": f"QueryExecution {execution_id} was not found"})
            else:
                found.append(execution.describe())
    return {"QueryExecutions": found, "UnprocessedQueryExecutionIds": missing}


@json_action("AmazonAthena", "StopQueryExecution")
def stop_query_execution(request: dict, ctx: RequestContext) -> dict:
    with _lock:
        _cancel(_find(request.get("QueryExecutionId", "")))
    return {}


def _encode_token(payload: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


def _decode_token(token: str, kind: str) -> dict:
    try:
        payload = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, TypeError):
        payload = None
    if not isinstance(payload, dict) or payload.get("kind") != kind:
        raise InvalidRequestException(f"Invalid NextToken {token!r}: pass the NextToken of the previous page")
    return payload


def _max_results(request: dict, low: int, high: int, default: int) -> int:
    value = request.get("MaxResults")
    if value is None:
        return default
    if not isinstance(value, int) or not low <= value <= high:
        bound = f"less than or equal to {high}" if isinstance(value, int) and value > high \
            else f"greater than or equal to {low}"
        raise InvalidRequestException(f"1 validation error detected: Value '{value}' at 'maxResults' failed "
                                      f"to satisfy constraint: Member must have value {bound}")
    return value


@json_action("AmazonAthena", "ListQueryExecutions")
def list_query_executions(request: dict, ctx: RequestContext) -> dict:
    workgroup = request.get("WorkGroup") or "primary"
    _workgroup(ctx, workgroup)
    limit = _max_results(request, 0, 50, 50) or 50
    with _lock:
        ids = [e.id for e in reversed(_executions.values()) if e.workgroup == workgroup and e.region == ctx.region]
    start = 0
    if request.get("NextToken"):
        after = _decode_token(request["NextToken"], "list")["after"]
        if after not in ids:
            raise InvalidRequestException("Invalid NextToken: the query execution it continues from is gone")
        start = ids.index(after) + 1
    page = ids[start:start + limit]
    answer: dict = {"QueryExecutionIds": page}
    if start + limit < len(ids):
        answer["NextToken"] = _encode_token({"kind": "list", "after": page[-1]})
    return answer


@json_action("AmazonAthena", "GetQueryResults")
def get_query_results(request: dict, ctx: RequestContext) -> dict:
    execution = _find(request.get("QueryExecutionId", ""))
    limit = _max_results(request, 1, 1000, 1000)
    with _lock:
        state, result, reason = execution.state, execution.result, execution.reason
    if state in ("QUEUED", "RUNNING"):
        raise InvalidRequestException(f"Query has not yet finished. Current state: {state}")
    if state == "FAILED":
        raise InvalidRequestException(reason or "Query failed")
    if state == "CANCELLED" or result is None:
        raise InvalidRequestException("Query was cancelled, it has no results")
    offset = 0
    if request.get("NextToken"):
        token = _decode_token(request["NextToken"], "results")
        if token.get("id") != execution.id:
            raise InvalidRequestException("Invalid NextToken: it belongs to another query execution")
        offset = int(token["offset"])
    rows = []
    if offset == 0:
        rows.append({"Data": [{"VarCharValue": name} for name in result.names]})
    count = limit - len(rows)
    for record in result.rows.slice(offset, count).to_pylist():
        rows.append({"Data": [{} if value is None else {"VarCharValue": value} for value in record.values()]})
    answer: dict = {"UpdateCount": 0,
                    "ResultSet": {"Rows": rows, "ResultSetMetadata": {"ColumnInfo": _column_info(result)}}}
    if offset + count < result.rows.num_rows:
        answer["NextToken"] = _encode_token({"kind": "results", "id": execution.id, "offset": offset + count})
    return answer
