"""Athena's SQL through boto3: syntax errors answered by StartQueryExecution as Athena words them,
Trino functions DuckDB lacks, ExecutionParameters, and failures positioned in the query as written."""

from __future__ import annotations

import botocore.exceptions
import pytest
from support import error_of
from support.athena import TABLE, Lake

EXPECTING_STATEMENT = (
    "Expecting: 'ALTER', 'ANALYZE', 'CALL', 'COMMIT', 'CREATE', 'DEALLOCATE', 'DELETE', 'DESC', "
    "'DESCRIBE', 'DROP', 'EXECUTE', 'EXPLAIN', 'GRANT', 'INSERT', 'PREPARE', 'RESET', 'REVOKE', "
    "'ROLLBACK', 'SET', 'SHOW', 'START', 'UNLOAD', 'UPDATE', 'USE', <query>"
)


def test_a_statement_that_is_no_statement_is_refused_by_start(lake: Lake) -> None:
    before = lake.athena.list_query_executions()["QueryExecutionIds"]
    with pytest.raises(botocore.exceptions.ClientError) as err:
        lake.start(f"SELEC * FROM {TABLE}")
    assert err.value.response["Error"]["Code"] == "InvalidRequestException"
    assert err.value.response["Error"]["Message"] == f"line 1:1: mismatched input 'SELEC'. {EXPECTING_STATEMENT}"
    assert err.value.response["AthenaErrorCode"] == "MALFORMED_QUERY"
    assert lake.athena.list_query_executions()["QueryExecutionIds"] == before  # nothing was queued
    assert (
        error_of(lambda: lake.start(f"-- ages\n  SELEC age FROM {TABLE}"))[1]
        == f"line 2:3: mismatched input 'SELEC'. {EXPECTING_STATEMENT}"
    )
    assert error_of(lambda: lake.start("   "))[1] == f"line 1:4: mismatched input '<EOF>'. {EXPECTING_STATEMENT}"


def test_syntax_errors_name_line_column_and_token(lake: Lake) -> None:
    assert error_of(lambda: lake.start("SELECT customer_id FORM customers")) == (
        "InvalidRequestException",
        "line 1:25: mismatched input 'customers'. Invalid expression / Unexpected token",
    )
    assert error_of(lambda: lake.start(f"SELECT customer_id,\n       age +\nFROM {TABLE}"))[1].startswith(
        "line 3:1: mismatched input 'FROM'."
    )
    assert (
        error_of(lambda: lake.start("SELECT * FROM (SELECT 1"))[1]
        == "line 1:24: mismatched input '<EOF>'. Expecting: ')'"
    )
    assert (
        error_of(lambda: lake.start("SELECT 'unterminated"))[1]
        == "line 1:8: token recognition error at: ''unterminated'"
    )


def test_statements_other_than_queries_are_taken_and_fail_as_not_supported(lake: Lake) -> None:
    for sql, kind in [
        ("CREATE EXTERNAL TABLE `t2` (a int) STORED AS PARQUET LOCATION 's3://b/p/'", "DDL"),
        (f"MSCK REPAIR TABLE {TABLE}", "DDL"),
        (f"INSERT INTO {TABLE} (age) VALUES (1)", "DML"),
    ]:
        execution = lake.wait(lake.start(sql))
        assert execution["Status"]["State"] == "FAILED", sql
        assert execution["Status"]["StateChangeReason"].startswith("NOT_SUPPORTED: "), sql
        assert execution["StatementType"] == kind, sql


def test_trino_functions_duckdb_lacks(lake: Lake) -> None:
    sql = """SELECT to_timestamp('2024-05-01 13:02:03', 'yyyy-mm-dd hh24:mi:ss') AS teradata,
                    format_datetime(TIMESTAMP '2024-05-01 13:02:03.456', 'yyyy-MM-dd HH:mm:ss.SSS a') AS joda,
                    parse_datetime('2024-05-01 10:11', 'yyyy-MM-dd HH:mm') AS parsed,
                    to_iso8601(TIMESTAMP '2024-05-01 01:02:03.456') AS iso,
                    nan() AS not_a_number, -infinity() AS minus_infinity,
                    date_add('day', 3, TIMESTAMP '2024-05-01 00:00:00') AS later,
                    json_extract_scalar('{"a": 7}', '$.a') AS json_value, -7 / 2 AS int_div, 7.0 / 2 AS dec_div"""
    assert lake.rows(sql, database=None) == [
        [
            "teradata",
            "joda",
            "parsed",
            "iso",
            "not_a_number",
            "minus_infinity",
            "later",
            "json_value",
            "int_div",
            "dec_div",
        ],
        [
            "2024-05-01 13:02:03.000",
            "2024-05-01 13:02:03.456 PM",
            "2024-05-01 10:11:00.000",
            "2024-05-01T01:02:03.456",
            "NaN",
            "-Infinity",
            "2024-05-04 00:00:00.000",
            "7",
            "-3",
            "3.5",
        ],
    ]


def test_execution_parameters_fill_placeholders_in_text_order(lake: Lake) -> None:
    sql = (
        f"WITH picked AS (SELECT customer_id FROM {TABLE} WHERE customer_id = ?) "
        "SELECT count(*) AS n FROM picked WHERE customer_id <> ?"
    )
    assert lake.rows(sql, ExecutionParameters=["'c3'", "'c1'"]) == [["n"], ["1"]]


def test_failures_point_at_the_query_as_written(lake: Lake) -> None:
    sql = f"""SELECT date_format(write_time, '%Y-%m-%d') AS day,
       count(*) AS n,
       max(shoe_size) AS biggest
FROM {TABLE} GROUP BY 1"""
    assert lake.failure(sql)["StateChangeReason"] == (
        "COLUMN_NOT_FOUND: line 3:12: Column 'shoe_size' cannot be resolved or requester is not authorized "
        "to access requested resources"
    )
    assert (
        lake.failure(f"SELECT date_format(write_time, '%Y'),\n  no_such_function(age)\nFROM {TABLE}")[
            "StateChangeReason"
        ]
        == "FUNCTION_NOT_FOUND: line 2:3: Function 'no_such_function' not registered"
    )
