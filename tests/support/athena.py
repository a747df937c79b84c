"""What the Athena tests share: Glue tables over Parquet objects in S3, and queries run and awaited."""

from __future__ import annotations

import datetime as dt
import io

import boto3
import pyarrow as pa
import pyarrow.parquet as pq

from support import wait_until

BUCKET = "athena-test-data"
RESULTS = f"s3://{BUCKET}/athena-results/"
DB = "sagemaker_featurestore"
TABLE = "customers_1700000000"
UTC = dt.UTC
FINISHED = ("SUCCEEDED", "FAILED", "CANCELLED")


def parquet(rows: list[dict]) -> bytes:
    """Rows in the offline store's Parquet layout."""
    table = pa.table(
        {
            "customer_id": pa.array([r["customer_id"] for r in rows], pa.string()),
            "age": pa.array([r.get("age") for r in rows], pa.int64()),
            "score": pa.array([r.get("score") for r in rows], pa.float64()),
            "event_time": pa.array([r["event_time"] for r in rows], pa.string()),
            "write_time": pa.array(
                [r.get("write_time", dt.datetime(2024, 5, 1, tzinfo=UTC)) for r in rows], pa.timestamp("us", tz="UTC")
            ),
            "api_invocation_time": pa.array(
                [dt.datetime(2024, 5, 1, tzinfo=UTC)] * len(rows), pa.timestamp("us", tz="UTC")
            ),
            "is_deleted": pa.array([r.get("is_deleted", False) for r in rows], pa.bool_()),
        }
    )
    out = io.BytesIO()
    pq.write_table(table, out)
    return out.getvalue()


class Lake:
    """Glue tables over Parquet objects in S3, and an Athena client to query them."""

    def __init__(self, session: boto3.Session):
        self.s3 = session.client("s3")
        self.glue = session.client("glue")
        self.athena = session.client("athena")
        self.s3.create_bucket(Bucket=BUCKET)
        self.glue.create_database(DatabaseInput={"Name": DB})
        self.location = self.new_table(TABLE)

    def new_table(self, name: str) -> str:
        """A Glue table in the offline store's schema; returns its S3 location."""
        location = f"s3://{BUCKET}/offline/{name}/data"
        self.glue.create_table(
            DatabaseName=DB,
            TableInput={
                "Name": name,
                "StorageDescriptor": {
                    "Location": location,
                    "Columns": [
                        {"Name": "customer_id", "Type": "string"},
                        {"Name": "age", "Type": "bigint"},
                        {"Name": "score", "Type": "double"},
                        {"Name": "event_time", "Type": "string"},
                        {"Name": "write_time", "Type": "timestamp"},
                        {"Name": "api_invocation_time", "Type": "timestamp"},
                        {"Name": "is_deleted", "Type": "boolean"},
                    ],
                    "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
                    "SerdeInfo": {
                        "SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
                    },
                },
            },
        )
        return location

    def put(self, name: str, rows: list[dict], location: str = "") -> str:
        """Write one Parquet object under the table's location; returns its key."""
        prefix = (location or self.location)[len(f"s3://{BUCKET}/") :]
        key = f"{prefix}/year=2024/month=05/day=01/hour=00/{name}.parquet"
        self.s3.put_object(Bucket=BUCKET, Key=key, Body=parquet(rows))
        return key

    def start(self, sql: str, database: str | None = DB, **extra) -> str:
        extra.setdefault("ResultConfiguration", {"OutputLocation": RESULTS})
        if database:
            extra["QueryExecutionContext"] = {"Database": database, "Catalog": "AwsDataCatalog"}
        return self.athena.start_query_execution(QueryString=sql, **extra)["QueryExecutionId"]

    def wait(self, query_id: str, timeout: float = 30) -> dict:
        return wait_until(
            lambda: self.athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"],
            lambda execution: execution["Status"]["State"] in FINISHED,
            timeout=timeout,
            what=f"query {query_id} finishing",
        )

    def rows(self, sql: str, **extra) -> list[list[str | None]]:
        """Header row then data rows, as GetQueryResults returns them."""
        query_id = self.start(sql, **extra)
        execution = self.wait(query_id)
        assert execution["Status"]["State"] == "SUCCEEDED", execution["Status"]
        pages = self.athena.get_paginator("get_query_results").paginate(QueryExecutionId=query_id)
        return [[d.get("VarCharValue") for d in row["Data"]] for page in pages for row in page["ResultSet"]["Rows"]]

    def failure(self, sql: str, **extra) -> dict:
        execution = self.wait(self.start(sql, **extra))
        assert execution["Status"]["State"] == "FAILED", execution["Status"]
        return execution["Status"]
