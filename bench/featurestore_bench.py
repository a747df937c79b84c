"""What Feature Store ingestion costs on local_aws, against moto's own S3 PutObject on the same server.

Side by side in one run against a local_aws this script starts on a free port:
(1) PutRecord throughput of the SDK's `ingest_dataframe` with 4 workers for --rows rows (default
    100,000), then the flush of all of them to Parquet (rows checked back from S3);
(2) PutRecord median latency in a single-threaded boto3 loop (--calls, default 2,000) against S3
    PutObject of a body of the same size through the same server, the two calls interleaved so
    both see the same conditions. Goal: PutRecord at most 1.5x PutObject.
Prints the figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import statistics
import time

import numpy as np
import pandas as pd
import psutil

import local_aws

GROUP = "bench-abalone"
BUCKET = "bench-feature-store"
ROLE = "arn:aws:iam::123456789012:role/FeatureStoreRole"


def frame(rows: int) -> pd.DataFrame:
    """Abalone-like rows: a string id, 7 measurements, a category and an ISO-8601 event time."""
    generator = np.random.default_rng(1)
    data = {"abalone_id": [f"abalone-{i:07d}" for i in range(rows)], "sex": generator.choice(["M", "F", "I"], rows)}
    for name in ("length", "diameter", "height", "whole_weight", "shucked_weight", "viscera_weight"):
        data[name] = generator.random(rows).round(4)
    data["rings"] = generator.integers(1, 30, rows)
    data["event_time"] = [f"2024-05-01T{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z" for i in range(rows)]
    return pd.DataFrame(data)


def offline_rows(s3, resolved_uri: str) -> int:
    import pyarrow.parquet as pq

    prefix = resolved_uri.split("/", 3)[3] + "/"
    total = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix):
        for obj in page.get("Contents", []):
            body = s3.get_object(Bucket=BUCKET, Key=obj["Key"])["Body"].read()
            total += pq.read_metadata(io.BytesIO(body)).num_rows
    return total


def create_group(sm, data: pd.DataFrame) -> dict:
    from sagemaker.mlops.feature_store import load_feature_definitions_from_dataframe

    definitions = [
        {"FeatureName": d.feature_name, "FeatureType": d.feature_type}
        for d in load_feature_definitions_from_dataframe(data)
    ]
    sm.create_feature_group(
        FeatureGroupName=GROUP,
        RecordIdentifierFeatureName="abalone_id",
        EventTimeFeatureName="event_time",
        FeatureDefinitions=definitions,
        OnlineStoreConfig={"EnableOnlineStore": True},
        OfflineStoreConfig={"S3StorageConfig": {"S3Uri": f"s3://{BUCKET}/fs"}},
        RoleArn=ROLE,
    )
    while (described := sm.describe_feature_group(FeatureGroupName=GROUP))["FeatureGroupStatus"] == "Creating":
        time.sleep(0.05)
    return described


def client_cpu() -> float:
    """CPU seconds of this process and its reaped children (the SDK's ingestion pool)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def ingest(port: int, server: psutil.Process, s3, described: dict, rows: int) -> None:
    from sagemaker.mlops.feature_store import ingest_dataframe

    data = frame(rows)
    server_before, client_before = sum(server.cpu_times()[:2]), client_cpu()
    started = time.perf_counter()
    manager = ingest_dataframe(GROUP, data, max_workers=4)
    elapsed = time.perf_counter() - started
    server_ms = (sum(server.cpu_times()[:2]) - server_before) * 1000 / rows
    client_ms = (client_cpu() - client_before) * 1000 / rows
    assert not manager.failed_rows, f"{len(manager.failed_rows)} rows failed"
    started = time.perf_counter()
    flushed = local_aws.flush(port)["offline_store"]
    flush_seconds = time.perf_counter() - started
    written = offline_rows(s3, described["OfflineStoreConfig"]["S3StorageConfig"]["ResolvedOutputS3Uri"])
    print(
        f"ingest_dataframe, 4 workers, {rows:,} rows x {data.shape[1]} features: {elapsed:.1f} s, "
        f"{rows / elapsed:,.0f} PutRecord/s"
    )
    print(
        f"CPU per PutRecord: client (SDK + boto3) {client_ms:.2f} ms, server (HTTP + router + Feature Store + "
        f"offline flushes) {server_ms:.2f} ms"
    )
    print(
        f"offline store: {written:,} rows in Parquet (expected {rows:,}); last flush {flushed['rows']:,} rows, "
        f"{flushed['files']} files in {flush_seconds * 1000:.0f} ms"
    )


def latency(runtime, s3, calls: int) -> None:
    record = [
        {"FeatureName": name, "ValueAsString": value}
        for name, value in {
            "abalone_id": "abalone-0000001",
            "sex": "M",
            "length": "0.455",
            "diameter": "0.365",
            "height": "0.095",
            "whole_weight": "0.514",
            "shucked_weight": "0.2245",
            "viscera_weight": "0.101",
            "rings": "15",
            "event_time": "2024-05-02T00:00:00Z",
        }.items()
    ]
    payload = os.urandom(len(json.dumps({"Record": record}, separators=(",", ":"))))
    put_record, put_object = [], []
    for _ in range(50):  # warm both paths (connections, caches) before measuring
        runtime.put_record(FeatureGroupName=GROUP, Record=record)
        s3.put_object(Bucket=BUCKET, Key="latency/warm", Body=payload)
    for i in range(calls):
        started = time.perf_counter()
        runtime.put_record(FeatureGroupName=GROUP, Record=record)
        middle = time.perf_counter()
        s3.put_object(Bucket=BUCKET, Key=f"latency/{i % 100}", Body=payload)
        put_record.append(middle - started)
        put_object.append(time.perf_counter() - middle)
    record_ms, object_ms = statistics.median(put_record) * 1000, statistics.median(put_object) * 1000
    print(
        f"median latency over {calls:,} interleaved calls, {len(payload)} B bodies: PutRecord {record_ms:.2f} ms, "
        f"S3 PutObject {object_ms:.2f} ms (ratio {record_ms / object_ms:.2f}x, goal <= 1.5x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="rows ingest_dataframe writes (default 100,000)")
    parser.add_argument("--calls", type=int, default=2_000, help="calls per side in the latency loop (default 2,000)")
    args = parser.parse_args()
    with local_aws.temporary_server() as server:  # its environment is set before the SDK makes its clients
        import boto3
        import sagemaker.mlops.feature_store  # noqa: F401  (its import logs at INFO; keep the figures readable)

        logging.disable(logging.INFO)

        s3, sm = boto3.client("s3"), boto3.client("sagemaker")
        runtime = boto3.client("sagemaker-featurestore-runtime")
        s3.create_bucket(Bucket=BUCKET)
        described = create_group(sm, frame(1))
        ingest(server["port"], psutil.Process(server["pid"]), s3, described, args.rows)
        latency(runtime, s3, args.calls)


if __name__ == "__main__":
    main()
