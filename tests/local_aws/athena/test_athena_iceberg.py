"""Athena over Iceberg tables that another writer made: pyiceberg's own Glue catalog creates a partitioned
table through local_aws's Glue and S3, appends, evolves the schema and deletes, and each query reads the
current snapshot, columns matched by Iceberg field id."""

from __future__ import annotations

import datetime as dt
from typing import Any

import boto3
import pyarrow as pa
import pytest
from support import wait_until
from support.athena import FINISHED
from support.iam import reset_with_test_roles

BUCKET = "athena-iceberg-test"
DB = "lake"
UTC = dt.UTC


def rows(athena: Any, sql: str) -> list[list[str | None]]:
    query_id = athena.start_query_execution(
        QueryString=sql,
        QueryExecutionContext={"Database": DB},
        ResultConfiguration={"OutputLocation": f"s3://{BUCKET}/results/"},
    )["QueryExecutionId"]
    status = wait_until(
        lambda: athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]["Status"],
        lambda found: found["State"] in FINISHED,
        what=f"query {query_id}",
    )
    if status["State"] != "SUCCEEDED":
        return [[status["State"], status.get("StateChangeReason")]]
    result = athena.get_query_results(QueryExecutionId=query_id)["ResultSet"]["Rows"]
    return [[d.get("VarCharValue") for d in row["Data"]] for row in result[1:]]


@pytest.fixture(scope="module")
def lake(server) -> Any:
    """An empty Glue database and bucket, and pyiceberg's Glue catalog on local_aws."""
    from pyiceberg.catalog import load_catalog

    reset_with_test_roles(server.port)
    session = boto3.Session(region_name="us-east-1")
    session.client("s3").create_bucket(Bucket=BUCKET)
    session.client("glue").create_database(DatabaseInput={"Name": DB})
    catalog = load_catalog(
        "glue",
        **{"type": "glue", "client.region": "us-east-1", "s3.endpoint": server.endpoint, "s3.region": "us-east-1"},
    )
    return catalog, session.client("athena")


def events(first: int, last: int, **extra: list) -> pa.Table:
    ids = list(range(first, last + 1))
    columns = {
        "id": pa.array(ids, pa.int64()),
        "name": pa.array([f"e{i}" for i in ids]),
        "at": pa.array([dt.datetime(2024, 5, i, 12, tzinfo=UTC) for i in ids], pa.timestamp("us", tz="UTC")),
        "kind": pa.array(["odd" if i % 2 else "even" for i in ids]),
    }
    return pa.table({**columns, **{name: pa.array(values) for name, values in extra.items()}})


def test_athena_reads_each_new_snapshot_of_a_pyiceberg_table(lake):
    from pyiceberg.partitioning import PartitionField, PartitionSpec
    from pyiceberg.schema import Schema
    from pyiceberg.transforms import IdentityTransform
    from pyiceberg.types import DoubleType, LongType, NestedField, StringType, TimestamptzType

    catalog, athena = lake
    schema = Schema(
        *(
            NestedField(field_id, name, kind, required=False)
            for field_id, name, kind in (
                (1, "id", LongType()),
                (2, "name", StringType()),
                (3, "at", TimestamptzType()),
                (4, "kind", StringType()),
            )
        )
    )
    table = catalog.create_table(
        f"{DB}.events",
        schema,
        location=f"s3://{BUCKET}/warehouse/events",
        partition_spec=PartitionSpec(PartitionField(4, 1000, IdentityTransform(), "kind")),
    )
    assert rows(athena, "SELECT count(*) FROM events") == [["0"]]  # no snapshot yet

    table.append(events(1, 3))
    assert rows(athena, "SELECT id, name, at FROM events ORDER BY id") == [
        ["1", "e1", "2024-05-01 12:00:00.000"],
        ["2", "e2", "2024-05-02 12:00:00.000"],
        ["3", "e3", "2024-05-03 12:00:00.000"],
    ]

    with table.update_schema() as update:  # the old files keep field ids 1-3 under their old names
        update.rename_column("name", "label")
        update.add_column("score", DoubleType())
    table.append(events(4, 5, score=[4.5, 5.5]).rename_columns(["id", "label", "at", "kind", "score"]))
    assert rows(athena, 'SELECT id, label, score FROM "lake"."events" ORDER BY id') == [
        ["1", "e1", None],
        ["2", "e2", None],
        ["3", "e3", None],
        ["4", "e4", "4.5"],
        ["5", "e5", "5.5"],
    ]

    table.delete("id = 2")  # copy-on-write: a new snapshot without the file that held id 2
    assert rows(athena, "SELECT id FROM events ORDER BY id") == [["1"], ["3"], ["4"], ["5"]]


def test_an_iceberg_table_without_metadata_location_fails(lake):
    _, athena = lake
    boto3.Session(region_name="us-east-1").client("glue").create_table(
        DatabaseName=DB,
        TableInput={
            "Name": "broken",
            "Parameters": {"table_type": "ICEBERG"},
            "StorageDescriptor": {
                "Location": f"s3://{BUCKET}/warehouse/broken",
                "Columns": [{"Name": "id", "Type": "bigint"}],
            },
        },
    )
    assert rows(athena, "SELECT * FROM broken") == [
        [
            "FAILED",
            "ICEBERG_INVALID_METADATA: Table lake.broken is an "
            "Iceberg table (table_type ICEBERG) but its Glue Parameters name "
            "no metadata_location",
        ]
    ]
