"""Athena's query history survives a restart: executions, their results and ClientRequestTokens; a
query that was running (or queued) when the server was killed ends FAILED, saying why."""

from __future__ import annotations

import signal
import time

from support import error_of, wait_until
from support.athena import FINISHED, RESULTS, TABLE, Lake
from support.restart import OwnServer

# Keeps DuckDB busy for far longer than the test waits (the kill ends it).
SLOW_QUERY = (
    "SELECT count(*) FROM UNNEST(sequence(1, 100000)) AS a(x) CROSS JOIN UNNEST(sequence(1, 100000)) "
    "AS b(y) CROSS JOIN UNNEST(sequence(1, 1000)) AS c(z) WHERE x + y + z > 5"
)


def _lake(own_server: OwnServer) -> Lake:
    lake = Lake(own_server.session())
    lake.put(
        "20240501T000000Z_a",
        [
            {"customer_id": "c1", "age": 30, "score": 0.5, "event_time": "2024-05-01T00:00:00Z"},
            {"customer_id": "c2", "age": 40, "score": 1.25, "event_time": "2024-05-01T00:00:00Z"},
        ],
    )
    return lake


def _results(athena, query_id: str) -> list[list[str | None]]:
    pages = athena.get_paginator("get_query_results").paginate(QueryExecutionId=query_id)
    return [[d.get("VarCharValue") for d in row["Data"]] for page in pages for row in page["ResultSet"]["Rows"]]


def _start(athena, sql: str, **extra) -> str:
    return athena.start_query_execution(
        QueryString=sql,
        ResultConfiguration={"OutputLocation": RESULTS},
        QueryExecutionContext={"Database": "sagemaker_featurestore"},
        **extra,
    )["QueryExecutionId"]


def test_query_history_and_results_survive_a_clean_stop(own_server: OwnServer):
    lake = _lake(own_server)
    sql, token = f"SELECT customer_id, age FROM {TABLE} ORDER BY customer_id", "token-of-the-first-query-0000000001"
    succeeded = _start(lake.athena, sql, ClientRequestToken=token)
    lake.wait(succeeded)
    failed = _start(lake.athena, "SELECT * FROM missing_table")
    lake.wait(failed)
    before = {
        query_id: lake.athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
        for query_id in (succeeded, failed)
    }
    rows = _results(lake.athena, succeeded)
    assert rows == [["customer_id", "age"], ["c1", "30"], ["c2", "40"]]

    own_server.stop()
    athena = own_server.start().session().client("athena")

    assert athena.list_query_executions()["QueryExecutionIds"] == [failed, succeeded]
    for query_id, described in before.items():
        assert athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"] == described
    assert _results(athena, succeeded) == rows
    assert error_of(lambda: athena.get_query_results(QueryExecutionId=failed)) == (
        "InvalidRequestException",
        before[failed]["Status"]["StateChangeReason"],
    )
    # the same token and request answer the same execution; a new query reads the table from S3 again
    assert _start(athena, sql, ClientRequestToken=token) == succeeded
    again = _start(athena, sql)
    wait_until(
        lambda: athena.get_query_execution(QueryExecutionId=again)["QueryExecution"]["Status"]["State"],
        lambda state: state in FINISHED,
        what="the query after the restart",
    )
    assert _results(athena, again) == rows


def test_queries_running_or_queued_when_the_server_is_killed_end_failed(own_server: OwnServer):
    lake = _lake(own_server)
    done = lake.start(f"SELECT count(*) FROM {TABLE}")
    lake.wait(done)
    running = [lake.start(SLOW_QUERY, database=None) for _ in range(2)]
    queued = lake.start(SLOW_QUERY, database=None)  # two run at a time; the third waits
    wait_until(
        lambda: [
            lake.athena.get_query_execution(QueryExecutionId=q)["QueryExecution"]["Status"]["State"]
            for q in running + [queued]
        ],
        lambda states: states == ["RUNNING", "RUNNING", "QUEUED"],
        what="two queries running, one queued",
    )
    time.sleep(1.5)  # saved while they run (LOCAL_AWS_SAVE_SECONDS, 1 s)

    own_server.stop(signal.SIGKILL)
    athena = own_server.start().session().client("athena")

    assert athena.get_query_execution(QueryExecutionId=done)["QueryExecution"]["Status"]["State"] == "SUCCEEDED"
    for query_id in running + [queued]:
        execution = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
        status = execution["Status"]
        assert status["State"] == "FAILED"
        assert "local_aws stopped while this query ran" in status["StateChangeReason"]
        assert "Run the query again" in status["StateChangeReason"]
        assert status["AthenaError"] == {
            "ErrorCategory": 1,
            "ErrorType": 100,
            "Retryable": True,
            "ErrorMessage": status["StateChangeReason"],
        }
        assert status["CompletionDateTime"] >= status["SubmissionDateTime"]
        assert error_of(lambda: athena.get_query_results(QueryExecutionId=query_id)) == (
            "InvalidRequestException",
            status["StateChangeReason"],
        )
