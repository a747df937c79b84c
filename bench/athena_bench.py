"""What an Athena query over a 1M-row offline store costs in local_aws, against DuckDB alone.

Writes OBJECTS Parquet objects of ROWS_PER_OBJECT rows in the offline store's layout straight into
a fresh local_aws's S3 (plus the Glue table), and the same files to a local directory. Then, side
by side: COUNT(*) and a GROUP BY through boto3 (start, poll GetQueryExecution, GetQueryResults),
each cold (the first query of a table loads its objects from S3) and warm (cached), against DuckDB
reading the local Parquet files directly (cold: a new connection; warm: the same query again).
Prints the figures and the ratios; asserts nothing. Goal: under 2 s each.
"""

from __future__ import annotations

import datetime as dt
import io
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import boto3
import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

import local_aws

OBJECTS = 100
ROWS_PER_OBJECT = 10_000
WARM_RUNS = 3
BUCKET = "athena-bench"
DATABASE = "sagemaker_featurestore"
COLUMNS = [
    ("abalone_id", "string"),
    ("event_time", "string"),
    ("sex", "string"),
    ("length", "double"),
    ("diameter", "double"),
    ("whole_weight", "double"),
    ("rings", "bigint"),
    ("write_time", "timestamp"),
    ("api_invocation_time", "timestamp"),
    ("is_deleted", "boolean"),
]
COUNT = 'SELECT COUNT(*) FROM "{db}"."{table}"'
GROUP_BY = (
    "SELECT sex, COUNT(*) AS n, AVG(length) AS mean_length, MAX(rings) AS max_rings "
    'FROM "{db}"."{table}" WHERE is_deleted = false GROUP BY sex ORDER BY sex'
)


def parquet_object(index: int, rng: np.random.Generator) -> bytes:
    """One offline-store file: ROWS_PER_OBJECT abalone-like records."""
    n = ROWS_PER_OBJECT
    stamp = pa.array([dt.datetime(2024, 5, 1, tzinfo=dt.UTC)] * n, pa.timestamp("us", tz="UTC"))
    table = pa.table(
        {
            "abalone_id": [f"abalone-{index * n + i:07d}" for i in range(n)],
            "event_time": ["2024-05-01T12:00:00Z"] * n,
            "sex": rng.choice(["M", "F", "I"], n),
            "length": rng.random(n),
            "diameter": rng.random(n),
            "whole_weight": rng.random(n) * 2,
            "rings": rng.integers(1, 30, n),
            "write_time": stamp,
            "api_invocation_time": stamp,
            "is_deleted": rng.random(n) < 0.01,
        }
    )
    out = io.BytesIO()
    pq.write_table(table, out)
    return out.getvalue()


def athena_query(athena, sql: str) -> tuple[float, list, int]:
    """Start, poll every 20 ms, read the results: the whole round trip in seconds, the data rows and
    the EngineExecutionTimeInMillis local_aws reports."""
    started = time.perf_counter()
    query_id = athena.start_query_execution(
        QueryString=sql,
        QueryExecutionContext={"Database": DATABASE},
        ResultConfiguration={"OutputLocation": f"s3://{BUCKET}/athena-results/"},
    )["QueryExecutionId"]
    while (execution := athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"])["Status"]["State"] in (
        "QUEUED",
        "RUNNING",
    ):
        time.sleep(0.02)
    assert execution["Status"]["State"] == "SUCCEEDED", execution["Status"]
    rows = athena.get_query_results(QueryExecutionId=query_id)["ResultSet"]["Rows"][1:]
    return (
        time.perf_counter() - started,
        [[d.get("VarCharValue") for d in r["Data"]] for r in rows],
        execution["Statistics"]["EngineExecutionTimeInMillis"],
    )


def duckdb_query(connection: duckdb.DuckDBPyConnection, sql: str, files: str) -> tuple[float, list]:
    started = time.perf_counter()
    rows = connection.execute(sql.replace('"{db}"."{table}"', f"read_parquet('{files}')")).fetchall()
    return time.perf_counter() - started, rows


def main() -> None:
    home = Path(tempfile.mkdtemp(prefix="athena_bench_"))
    with local_aws.temporary_server():
        s3, glue, athena = boto3.client("s3"), boto3.client("glue"), boto3.client("athena")
        s3.create_bucket(Bucket=BUCKET)
        glue.create_database(DatabaseInput={"Name": DATABASE})
        location = f"s3://{BUCKET}/store/123456789012/sagemaker/us-east-1/offline-store/bench-1714560000/data"
        # Two Glue tables over the same objects, so the GROUP BY has a cold first run of its own.
        for table in ("bench_count", "bench_group_by"):
            glue.create_table(
                DatabaseName=DATABASE,
                TableInput={
                    "Name": table,
                    "StorageDescriptor": {
                        "Location": location,
                        "Columns": [{"Name": n, "Type": t} for n, t in COLUMNS],
                        "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
                        "SerdeInfo": {
                            "SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
                        },
                    },
                },
            )
        local_dir = home / "parquet"
        rng = np.random.default_rng(7)
        for i in range(OBJECTS):
            data = parquet_object(i, rng)
            key = f"year=2024/month=05/day=01/hour={i % 24:02d}/20240501T120000Z_{i:016x}.parquet"
            s3.put_object(Bucket=BUCKET, Key=f"{location[len(f's3://{BUCKET}/') :]}/{key}", Body=data)
            (local_dir / key).parent.mkdir(parents=True, exist_ok=True)
            (local_dir / key).write_bytes(data)
        files = f"{local_dir}/**/*.parquet"
        print(
            f"offline store: {OBJECTS} Parquet objects x {ROWS_PER_OBJECT:,} rows = {OBJECTS * ROWS_PER_OBJECT:,} "
            f"rows, {sum(p.stat().st_size for p in local_dir.rglob('*.parquet')) / 2**20:.1f} MiB"
        )

        for label, template, table in (("COUNT(*)", COUNT, "bench_count"), ("GROUP BY", GROUP_BY, "bench_group_by")):
            sql = template.format(db=DATABASE, table=table)
            cold, athena_rows, engine_ms = athena_query(athena, sql)
            warm = statistics.median(athena_query(athena, sql)[0] for _ in range(WARM_RUNS))
            base_cold, duck_rows = duckdb_query(duckdb.connect(), template, files)
            connection = duckdb.connect()
            duckdb_query(connection, template, files)
            base_warm = statistics.median(duckdb_query(connection, template, files)[0] for _ in range(WARM_RUNS))
            assert [[str(v) for v in row] for row in duck_rows][0][0] == athena_rows[0][0], (duck_rows, athena_rows)
            print(
                f"{label}: local_aws Athena cold {cold * 1000:.0f} ms (engine {engine_ms} ms), "
                f"warm {warm * 1000:.0f} ms | DuckDB on local files cold {base_cold * 1000:.0f} ms, "
                f"warm {base_warm * 1000:.0f} ms | ratio cold {cold / base_cold:.1f}x, warm {warm / base_warm:.1f}x"
            )
    shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
