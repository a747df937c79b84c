"""Athena through boto3: queries really run over Glue tables whose Parquet objects sit in S3.

The tables are built directly (Glue API + Parquet objects, support.athena's Lake), so these tests
depend on nothing but Athena itself.
"""

from __future__ import annotations

import csv
import io
import json

import botocore.exceptions
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from support import error_of
from support.athena import BUCKET, DB, RESULTS, TABLE, Lake

# About 1e12 rows: runs until stopped.
SLOW_QUERY = (
    "SELECT count(*) FROM UNNEST(sequence(1, 10000)) AS a(x) CROSS JOIN UNNEST(sequence(1, 10000)) "
    "AS b(y) CROSS JOIN UNNEST(sequence(1, 10000)) AS c(z) WHERE x + y + z > 5"
)


def test_query_runs_in_background_and_describes_itself_as_athena(lake: Lake) -> None:
    query_id = lake.start(f'SELECT customer_id, age FROM "{DB}"."{TABLE}" ORDER BY customer_id, age')
    execution = lake.wait(query_id)
    assert execution["QueryExecutionId"] == query_id
    assert execution["Status"]["State"] == "SUCCEEDED"
    assert execution["Status"]["CompletionDateTime"] >= execution["Status"]["SubmissionDateTime"]
    assert execution["ResultConfiguration"]["OutputLocation"] == f"{RESULTS}{query_id}.csv"
    assert execution["QueryExecutionContext"] == {"Database": DB, "Catalog": "AwsDataCatalog"}
    assert execution["WorkGroup"] == "primary"
    assert execution["StatementType"] == "DML" and execution["SubstatementType"] == "SELECT"
    assert execution["Query"].startswith("SELECT customer_id")
    stats = execution["Statistics"]
    assert stats["DataScannedInBytes"] > 0
    assert stats["TotalExecutionTimeInMillis"] >= stats["EngineExecutionTimeInMillis"] >= 0
    assert query_id in lake.athena.list_query_executions()["QueryExecutionIds"]


def test_results_have_header_row_athena_types_and_text_values(lake: Lake) -> None:
    query_id = lake.start(
        f"SELECT customer_id, age, score, write_time, is_deleted, count(*) OVER () AS n "
        f"FROM {TABLE} WHERE customer_id = 'c3'"
    )
    lake.wait(query_id)
    result = lake.athena.get_query_results(QueryExecutionId=query_id)
    rows = [[d.get("VarCharValue") for d in row["Data"]] for row in result["ResultSet"]["Rows"]]
    assert rows == [
        ["customer_id", "age", "score", "write_time", "is_deleted", "n"],
        ["c3", None, "2.0", "2024-05-01 00:00:00.000", "false", "1"],
    ]
    columns = result["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]
    assert [(c["Name"], c["Type"]) for c in columns] == [
        ("customer_id", "varchar"),
        ("age", "bigint"),
        ("score", "double"),
        ("write_time", "timestamp"),
        ("is_deleted", "boolean"),
        ("n", "bigint"),
    ]
    assert columns[0]["CaseSensitive"] is True and columns[1]["Precision"] == 19
    assert result["UpdateCount"] == 0


def test_every_way_of_naming_a_table_reads_the_same_data(lake: Lake) -> None:
    for sql, database in [
        (f'SELECT count(*) FROM "{DB}"."{TABLE}"', None),
        (f"SELECT count(*) FROM {DB}.{TABLE}", None),
        (f"SELECT count(*) FROM AwsDataCatalog.{DB}.{TABLE}", None),
        (f'SELECT count(*) FROM "awsdatacatalog"."{DB}"."{TABLE}"', None),
        (f"SELECT count(*) FROM {TABLE}", DB),
        (f"select COUNT(*) from {TABLE.upper()};", DB),
    ]:
        assert lake.rows(sql, database=database) == [["_col0"], ["5"]], sql


def test_latest_record_query_of_feature_store_users(lake: Lake) -> None:
    sql = f"""
        SELECT customer_id, age, CAST(score AS varchar) AS score_text
        FROM (
            SELECT *, row_number() OVER (PARTITION BY customer_id
                                         ORDER BY event_time DESC, api_invocation_time DESC, write_time DESC) AS row_num
            FROM "{DB}"."{TABLE}"
        )
        WHERE row_num = 1 AND is_deleted = false
        ORDER BY customer_id"""
    assert lake.rows(sql) == [["customer_id", "age", "score_text"], ["c1", "31", "0.75"], ["c3", None, "2.0"]]


def test_group_by_date_functions_and_trino_only_functions(lake: Lake) -> None:
    sql = f"""
        SELECT date_format(from_iso8601_timestamp(event_time), '%Y-%m-%d') AS day, count(*) AS n,
               max(age) AS oldest, 7 / 2 AS int_div
        FROM {TABLE}
        WHERE from_iso8601_timestamp(event_time) >= from_unixtime(1714521600)
          AND date_parse(substr(event_time, 1, 10), '%Y-%m-%d') < current_timestamp
        GROUP BY 1 ORDER BY day LIMIT 2"""
    assert lake.rows(sql) == [
        ["day", "n", "oldest", "int_div"],
        ["2024-05-01", "2", "40", "3"],
        ["2024-05-02", "2", "31", "3"],
    ]
    teradata = (
        f"SELECT count(*) FROM {TABLE} WHERE write_time <= to_timestamp('2024-05-01 00:00:00', 'yyyy-mm-dd hh24:mi:ss')"
    )
    assert lake.rows(teradata)[1] == ["5"]


def test_new_changed_and_deleted_objects_are_seen_by_the_next_query(lake: Lake) -> None:
    location = lake.new_table("changing")
    count = "SELECT count(*) FROM changing"
    lake.put("a", [{"customer_id": "c1", "event_time": "2024-05-01T00:00:00Z"}] * 2, location)
    assert lake.rows(count)[1] == ["2"]
    added = lake.put("b", [{"customer_id": "c4", "age": 50, "event_time": "2024-05-03T00:00:00Z"}], location)
    assert lake.rows(count)[1] == ["3"]
    lake.put("a", [{"customer_id": "c9", "event_time": "2024-05-01T00:00:00Z"}], location)  # overwritten
    assert lake.rows(count)[1] == ["2"]
    lake.s3.delete_object(Bucket=BUCKET, Key=added)
    assert lake.rows(count)[1] == ["1"]


def test_sql_errors_fail_the_query_with_athena_reasons(lake: Lake) -> None:
    status = lake.failure(f'SELECT * FROM "{DB}"."no_such_table"')
    assert (
        status["StateChangeReason"]
        == f"TABLE_NOT_FOUND: line 1:15: Table 'awsdatacatalog.{DB}.no_such_table' does not exist"
    )
    assert status["AthenaError"]["ErrorCategory"] == 2 and status["AthenaError"]["Retryable"] is False
    assert status["AthenaError"]["ErrorMessage"] == status["StateChangeReason"]
    assert (
        lake.failure("SELECT * FROM nodb.t")["StateChangeReason"]
        == "SCHEMA_NOT_FOUND: line 1:15: Schema 'nodb' does not exist"
    )
    assert lake.failure(f"SELECT shoe_size FROM {TABLE}")["StateChangeReason"] == (
        "COLUMN_NOT_FOUND: line 1:8: Column 'shoe_size' cannot be resolved or requester is not authorized "
        "to access requested resources"
    )
    code, message = error_of(lambda: lake.start(f"SELECT * FROM {TABLE} WHERE"))  # answered by the start itself
    assert code == "InvalidRequestException" and message.startswith("line 1:41: mismatched input '<EOF>'.")
    assert lake.failure(f"SELECT customer_id, count(*) FROM {TABLE}")["StateChangeReason"].startswith(
        "EXPRESSION_NOT_AGGREGATE: line 1:8: 'customer_id' must be an aggregate expression"
    )
    assert (
        lake.failure("SELECT nosuchfn(1)")["StateChangeReason"]
        == "FUNCTION_NOT_FOUND: line 1:8: Function 'nosuchfn' not registered"
    )
    failed = lake.start(f"SELECT * FROM {TABLE}x")
    lake.wait(failed)
    with pytest.raises(botocore.exceptions.ClientError) as err:
        lake.athena.get_query_results(QueryExecutionId=failed)
    assert err.value.response["Error"]["Code"] == "InvalidRequestException"
    assert "TABLE_NOT_FOUND" in err.value.response["Error"]["Message"]


def test_output_location_is_required_unless_the_workgroup_has_one(lake: Lake) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as err:
        lake.start("SELECT 1", ResultConfiguration={})
    assert err.value.response["Error"]["Code"] == "InvalidRequestException"
    assert "No output location provided" in err.value.response["Error"]["Message"]
    lake.athena.create_work_group(
        Name="analysts",
        Configuration={
            "ResultConfiguration": {"OutputLocation": f"s3://{BUCKET}/analysts/"},
            "EnforceWorkGroupConfiguration": True,
        },
    )
    query_id = lake.start("SELECT 1 AS one", WorkGroup="analysts", ResultConfiguration={})
    execution = lake.wait(query_id)
    assert execution["WorkGroup"] == "analysts"
    assert execution["ResultConfiguration"]["OutputLocation"] == f"s3://{BUCKET}/analysts/{query_id}.csv"
    assert lake.athena.list_query_executions(WorkGroup="analysts")["QueryExecutionIds"] == [query_id]
    with pytest.raises(botocore.exceptions.ClientError) as err:
        lake.start("SELECT 1", WorkGroup="nobody")
    assert err.value.response["Error"]["Message"] == "WorkGroup nobody is not found."


def test_missing_output_bucket_fails_the_query(lake: Lake) -> None:
    status = lake.failure("SELECT 1", ResultConfiguration={"OutputLocation": "s3://no-such-results-bucket/x/"})
    assert "Unable to verify/create output bucket no-such-results-bucket" in status["StateChangeReason"]


def test_results_are_written_as_athena_csv_and_metadata(lake: Lake) -> None:
    location = lake.new_table("quoting")
    lake.put(
        "d",
        [
            {"customer_id": 'say "hi", ok', "age": 1, "event_time": "2024-05-04T00:00:00Z"},
            {"customer_id": "c3", "score": 2.0, "event_time": "2024-05-04T00:00:00Z"},
            {"customer_id": "c2", "event_time": "2024-05-04T00:00:00Z"},
        ],
        location,
    )
    query_id = lake.start("SELECT customer_id, age, score FROM quoting ORDER BY age, customer_id DESC")
    lake.wait(query_id)
    body = lake.s3.get_object(Bucket=BUCKET, Key=f"athena-results/{query_id}.csv")["Body"].read().decode()
    assert body == '"customer_id","age","score"\n"say ""hi"", ok","1",\n"c3",,"2.0"\n"c2",,\n'
    assert list(csv.reader(io.StringIO(body)))[1] == ['say "hi", ok', "1", ""]
    metadata_key = f"athena-results/{query_id}.csv.metadata"
    metadata = json.loads(lake.s3.get_object(Bucket=BUCKET, Key=metadata_key)["Body"].read())
    assert [c["Type"] for c in metadata["ColumnInfo"]] == ["varchar", "bigint", "double"]


def test_get_query_results_pages_with_header_on_first_page(lake: Lake) -> None:
    location = lake.new_table("paged")
    lake.put(
        "e", [{"customer_id": f"p{i:02d}", "age": i, "event_time": "2024-05-05T00:00:00Z"} for i in range(20)], location
    )
    query_id = lake.start("SELECT customer_id FROM paged ORDER BY customer_id")
    lake.wait(query_id)
    first = lake.athena.get_query_results(QueryExecutionId=query_id, MaxResults=8)
    assert [r["Data"][0]["VarCharValue"] for r in first["ResultSet"]["Rows"]] == ["customer_id"] + [
        f"p{i:02d}" for i in range(7)
    ]
    second = lake.athena.get_query_results(QueryExecutionId=query_id, MaxResults=8, NextToken=first["NextToken"])
    assert [r["Data"][0]["VarCharValue"] for r in second["ResultSet"]["Rows"]] == [f"p{i:02d}" for i in range(7, 15)]
    third = lake.athena.get_query_results(QueryExecutionId=query_id, MaxResults=8, NextToken=second["NextToken"])
    assert [r["Data"][0]["VarCharValue"] for r in third["ResultSet"]["Rows"]] == [f"p{i:02d}" for i in range(15, 20)]
    assert "NextToken" not in third
    for bad in (1001, 0):
        with pytest.raises((botocore.exceptions.ClientError, botocore.exceptions.ParamValidationError)):
            lake.athena.get_query_results(QueryExecutionId=query_id, MaxResults=bad)
    with pytest.raises(botocore.exceptions.ClientError) as err:
        lake.athena.get_query_results(QueryExecutionId=query_id, NextToken="garbage")
    assert err.value.response["Error"]["Code"] == "InvalidRequestException"


def test_stop_cancels_running_and_queued_queries(lake: Lake) -> None:
    running = [lake.start(SLOW_QUERY, database=None) for _ in range(2)]
    queued = lake.start(SLOW_QUERY, database=None)  # two run at a time; the third waits
    states = [
        e["Status"]["State"]
        for e in lake.athena.batch_get_query_execution(QueryExecutionIds=running + [queued])["QueryExecutions"]
    ]
    assert states[2] == "QUEUED" and set(states[:2]) <= {"QUEUED", "RUNNING"}
    with pytest.raises(botocore.exceptions.ClientError) as err:
        lake.athena.get_query_results(QueryExecutionId=running[0])
    assert err.value.response["Error"]["Message"].startswith("Query has not yet finished. Current state: ")
    for query_id in [queued] + running:
        lake.athena.stop_query_execution(QueryExecutionId=query_id)
    for query_id in running + [queued]:
        execution = lake.wait(query_id)
        assert execution["Status"]["State"] == "CANCELLED"
    assert lake.rows("SELECT 42 AS answer", database=None) == [["answer"], ["42"]]  # slots were freed


def test_list_and_batch_get_query_executions(lake: Lake) -> None:
    lake.athena.create_work_group(Name="listing", Configuration={})
    ids = [lake.start(f"SELECT {i}", WorkGroup="listing") for i in range(5)]
    first = lake.athena.list_query_executions(WorkGroup="listing", MaxResults=3)
    newer = lake.start("SELECT 5", WorkGroup="listing")  # listed first from now on: the next page must not shift
    second = lake.athena.list_query_executions(WorkGroup="listing", MaxResults=3, NextToken=first["NextToken"])
    assert first["QueryExecutionIds"] + second["QueryExecutionIds"] == list(reversed(ids))
    assert "NextToken" not in second
    assert lake.athena.list_query_executions(WorkGroup="listing", MaxResults=1)["QueryExecutionIds"] == [newer]
    batch = lake.athena.batch_get_query_execution(QueryExecutionIds=[ids[0], "not-a-query"])
    assert [e["QueryExecutionId"] for e in batch["QueryExecutions"]] == [ids[0]]
    assert batch["UnprocessedQueryExecutionIds"][0]["QueryExecutionId"] == "not-a-query"
    with pytest.raises(botocore.exceptions.ClientError) as err:
        lake.athena.get_query_execution(QueryExecutionId="not-a-query")
    assert err.value.response["Error"]["Code"] == "InvalidRequestException"


def test_client_request_token_makes_start_idempotent(lake: Lake) -> None:
    token = "t" * 32
    first = lake.start("SELECT 1", ClientRequestToken=token)
    assert lake.start("SELECT 1", ClientRequestToken=token) == first
    with pytest.raises(botocore.exceptions.ClientError) as err:
        lake.start("SELECT 2", ClientRequestToken=token)
    assert "Idempotent parameters do not match" in err.value.response["Error"]["Message"]


def test_csv_table_with_hive_partitions(lake: Lake) -> None:
    lake.glue.create_table(
        DatabaseName=DB,
        TableInput={
            "Name": "daily_csv",
            "PartitionKeys": [{"Name": "dt", "Type": "string"}],
            "Parameters": {"skip.header.line.count": "1"},
            "StorageDescriptor": {
                "Location": f"s3://{BUCKET}/csv/daily/",
                "Columns": [{"Name": "item", "Type": "string"}, {"Name": "qty", "Type": "int"}],
                "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
                "SerdeInfo": {
                    "SerializationLibrary": "org.apache.hadoop.hive.serde2.OpenCSVSerde",
                    "Parameters": {"separatorChar": ","},
                },
            },
        },
    )
    for day, body in (("2024-05-01", 'item,qty\n"apple, red",3\npear,4\n'), ("2024-05-02", "item,qty\nfig,5\n")):
        lake.s3.put_object(Bucket=BUCKET, Key=f"csv/daily/dt={day}/part-0.csv", Body=body.encode())
    lake.s3.put_object(Bucket=BUCKET, Key="csv/daily/_SUCCESS", Body=b"")
    assert lake.rows(
        "SELECT dt, count(*) AS items, sum(qty) AS total, max(item) AS last_item FROM daily_csv GROUP BY dt ORDER BY dt"
    ) == [["dt", "items", "total", "last_item"], ["2024-05-01", "2", "7", "pear"], ["2024-05-02", "1", "5", "fig"]]


def test_array_columns_of_collection_features(lake: Lake) -> None:
    location = f"s3://{BUCKET}/offline/tagged/data"
    lake.glue.create_table(
        DatabaseName=DB,
        TableInput={
            "Name": "tagged",
            "StorageDescriptor": {
                "Location": location,
                "Columns": [{"Name": "id", "Type": "string"}, {"Name": "tags", "Type": "array<string>"}],
            },
        },
    )
    out = io.BytesIO()
    pq.write_table(pa.table({"id": ["a", "b"], "tags": pa.array([["x", "y"], []], pa.list_(pa.string()))}), out)
    lake.s3.put_object(Bucket=BUCKET, Key="offline/tagged/data/part.parquet", Body=out.getvalue())
    query_id = lake.start("SELECT id, tags, cardinality(tags) AS n FROM tagged ORDER BY id")
    lake.wait(query_id)
    result = lake.athena.get_query_results(QueryExecutionId=query_id)
    assert [[d.get("VarCharValue") for d in r["Data"]] for r in result["ResultSet"]["Rows"]] == [
        ["id", "tags", "n"],
        ["a", "[x, y]", "2"],
        ["b", "[]", "0"],
    ]
    assert [c["Type"] for c in result["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]] == ["varchar", "array", "bigint"]


def test_execution_parameters_fill_the_placeholders(lake: Lake) -> None:
    sql = f"SELECT count(*) FROM {TABLE} WHERE customer_id = ? AND age > ? AND event_time <> '?'"
    assert lake.rows(sql, ExecutionParameters=["'c1'", "30"]) == [["_col0"], ["1"]]
    status = lake.failure(sql, ExecutionParameters=["'c1'"])
    assert (
        status["StateChangeReason"] == "INVALID_PARAMETER_USAGE: Incorrect number of parameters: expected 2 but found 1"
    )
