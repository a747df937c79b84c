"""Athena's query-execution API: the calls that start, watch, stop, list and read queries.

StartQueryExecution reads the query first (a syntax error is answered at once, as Athena does), picks
the result configuration (the workgroup's where it enforces one) and queues the execution, which runs
as its caller via athena.amazonaws.com (runner.py); the rest read the records (executions.py) of the
caller's account and region. Workgroups and data catalogs stay moto's: Athena looks the workgroup up
through the gateway as itself (its caller's StartQueryExecution was authorized already). The botocore
model has validated each request already (lengths, MaxResults ranges...); only what it cannot say is
checked.
"""

from __future__ import annotations

import json

from local_aws.athena import executions, runner, sql
from local_aws.athena.access import ATHENA
from local_aws.athena.executions import FINISHED, STORE
from local_aws.athena.results import ResultRows
from local_aws.core import gateway
from local_aws.core.gateway.context import Caller, RequestContext
from local_aws.core.gateway.errors import AwsError, InvalidRequestException
from local_aws.core.gateway.paging import page
from local_aws.core.service import Api

# GetQueryExecution holds its answer up to this long while a query is unfinished, so a client that
# polls every few seconds (the SDK's AthenaQuery.wait polls every 5 s) sees a fast query finished on
# its first look; a slower query still answers QUEUED or RUNNING.
STATUS_WAIT_SECONDS = 1.0
LIST_PAGE_SIZE = 50
RESULTS_PAGE_SIZE = 1000


def _workgroup(ctx: RequestContext, name: str) -> dict:
    """moto's workgroup (GetWorkGroup), asked as Athena itself: the account's administrator."""
    try:
        workgroup = gateway.call(
            "athena", "GetWorkGroup", {"WorkGroup": name}, Caller(account_id=ctx.account_id, region=ctx.region)
        ).get("WorkGroup")
    except AwsError as error:
        if error.code != "InvalidRequestException":
            raise
        workgroup = None
    if not workgroup:
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
            "result configuration setting or as an API input."
        )
    if not location.startswith("s3://") or not location[len("s3://") :].split("/")[0]:
        raise InvalidRequestException(f"outputLocation {location} is not a valid S3 path; use s3://bucket/prefix/")
    return chosen


def _state(ctx: RequestContext) -> executions.State:
    return STORE.of(ctx.account_id, ctx.region)


api = Api("athena")


@api.operation("StartQueryExecution")
def start_query_execution(request: dict, ctx: RequestContext) -> dict:
    query = request["QueryString"]
    workgroup = request.get("WorkGroup") or "primary"
    result_configuration = _result_configuration(request, _workgroup(ctx, workgroup))
    try:
        statement = sql.read(query)
    except sql.MalformedQuery as err:
        raise InvalidRequestException(str(err), athena_error_code="MALFORMED_QUERY") from None
    fingerprint = json.dumps(
        [
            query,
            workgroup,
            request.get("QueryExecutionContext") or {},
            request.get("ResultConfiguration"),
            list(request.get("ExecutionParameters") or []),
        ],
        sort_keys=True,
    )
    execution, new = executions.submit(
        _state(ctx), statement, request, result_configuration, ctx.caller.via(ATHENA), fingerprint
    )
    if new:
        runner.start(execution, statement)
    return {"QueryExecutionId": execution.id}


@api.operation("GetQueryExecution")
def get_query_execution(request: dict, ctx: RequestContext) -> dict:
    execution = executions.find(_state(ctx), request["QueryExecutionId"])
    if execution.state not in FINISHED:
        runner.wait(execution.id, STATUS_WAIT_SECONDS)
    with STORE.lock:
        return {"QueryExecution": execution.describe()}


@api.operation("BatchGetQueryExecution")
def batch_get_query_execution(request: dict, ctx: RequestContext) -> dict:
    found, missing = [], []
    state = _state(ctx)
    with STORE.lock:
        for execution_id in request["QueryExecutionIds"]:
            execution = state.executions.get(execution_id)
            if execution is None:
                missing.append(
                    {
                        "QueryExecutionId": execution_id,
                        "ErrorCode": "INVALID_INPUT",
                        "ErrorMessage": f"QueryExecution {execution_id} was not found",
                    }
                )
            else:
                found.append(execution.describe())
    return {"QueryExecutions": found, "UnprocessedQueryExecutionIds": missing}


@api.operation("StopQueryExecution")
def stop_query_execution(request: dict, ctx: RequestContext) -> dict:
    runner.stop(executions.find(_state(ctx), request["QueryExecutionId"]))
    return {}


@api.operation("ListQueryExecutions")
def list_query_executions(request: dict, ctx: RequestContext) -> dict:
    workgroup = request.get("WorkGroup") or "primary"
    _workgroup(ctx, workgroup)
    listed = page(
        executions.ids_in(_state(ctx), workgroup), request, ctx, LIST_PAGE_SIZE, scope=workgroup, key=str
    )  # newest first: a query started between two pages must not shift the second
    return listed.answer({"QueryExecutionIds": listed.items})


@api.operation("GetQueryResults")
def get_query_results(request: dict, ctx: RequestContext) -> dict:
    execution = executions.find(_state(ctx), request["QueryExecutionId"])
    with STORE.lock:
        state, result, reason = execution.state, execution.result, execution.reason
    if state in ("QUEUED", "RUNNING"):
        raise InvalidRequestException(f"Query has not yet finished. Current state: {state}")
    if state == "FAILED":
        raise InvalidRequestException(reason or "Query failed")
    if state == "CANCELLED" or result is None:
        raise InvalidRequestException("Query was cancelled, it has no results")
    # The header row counts towards MaxResults, as on Athena: the first page holds one data row less.
    rows = page(ResultRows(result), request, ctx, RESULTS_PAGE_SIZE, scope=execution.id)
    return rows.answer(
        {"UpdateCount": 0, "ResultSet": {"Rows": rows.items, "ResultSetMetadata": {"ColumnInfo": result.column_info()}}}
    )
