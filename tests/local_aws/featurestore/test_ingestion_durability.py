"""What PutRecord acknowledges is kept: a stop during ingestion loses nothing acknowledged, a crash
(kill -9) nothing acknowledged more than a second before it, and the offline store holds each
acknowledged record exactly once after the restart."""

from __future__ import annotations

import io
import signal
import threading
import time

import pyarrow.parquet as pq
import pytest
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from support.featurestore import create_group
from support.restart import OwnServer

GROUP = "ingested"
NO_RETRIES = Config(retries={"total_max_attempts": 1}, max_pool_connections=8)


def ingest_until_refused(session, acknowledged: dict[str, float], workers: int = 4) -> list[threading.Thread]:
    """Threads that PutRecord new ids until the server stops answering; `acknowledged`: id -> when."""
    runtime = session.client("sagemaker-featurestore-runtime", config=NO_RETRIES)
    counter = iter(range(10**9))
    lock = threading.Lock()

    def work() -> None:
        while True:
            with lock:
                record_id = f"r{next(counter):06d}"
            try:
                runtime.put_record(
                    FeatureGroupName=GROUP,
                    Record=[
                        {"FeatureName": "customer_id", "ValueAsString": record_id},
                        {"FeatureName": "event_time", "ValueAsString": "2024-05-01T10:00:00Z"},
                        {"FeatureName": "age", "ValueAsString": "42"},
                    ],
                )
            except (ClientError, BotoCoreError):
                return  # refused (503 while stopping) or no server: not acknowledged
            acknowledged[record_id] = time.monotonic()

    threads = [threading.Thread(target=work, daemon=True) for _ in range(workers)]
    for thread in threads:
        thread.start()
    return threads


def offline_ids(session, described: dict) -> list[str]:
    """Every record identifier in the offline store's Parquet objects, repeats included."""
    bucket, _, prefix = described["OfflineStoreConfig"]["S3StorageConfig"]["ResolvedOutputS3Uri"][5:].partition("/")
    s3 = session.client("s3")
    ids: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix + "/"):
        for item in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
            ids += pq.read_table(io.BytesIO(body)).column("customer_id").to_pylist()
    return ids


def online_ids(session, candidates: list[str]) -> set[str]:
    runtime = session.client("sagemaker-featurestore-runtime")
    found = set()
    for start in range(0, len(candidates), 100):
        ids = candidates[start : start + 100]
        batch = runtime.batch_get_record(
            Identifiers=[{"FeatureGroupName": GROUP, "RecordIdentifiersValueAsString": ids}]
        )
        found |= {r["RecordIdentifierValueAsString"] for r in batch["Records"]}
    return found


@pytest.mark.parametrize("sig, grace", [(signal.SIGTERM, 0.0), (signal.SIGKILL, 1.0)], ids=["stop", "kill-9"])
def test_acknowledged_records_survive_a_stop_or_crash_during_ingestion(own_server: OwnServer, sig: int, grace: float):
    session = own_server.session()
    described = create_group(session, GROUP, types={"customer_id": "String", "event_time": "String", "age": "Integral"})
    acknowledged: dict[str, float] = {}
    threads = ingest_until_refused(session, acknowledged)
    time.sleep(2.5)  # ingestion under way, saves and offline flushes included
    stopped_at = time.monotonic()
    own_server.stop(sig)
    for thread in threads:
        thread.join(timeout=60)
    assert len(acknowledged) > 50, own_server.output()[-2000:]
    own_server.start()
    kept = sorted(record_id for record_id, when in acknowledged.items() if when < stopped_at - grace)
    assert online_ids(session, kept) == set(kept)
    offline = offline_ids(session, described)
    assert set(kept) <= set(offline)
    assert len(offline) == len(set(offline)), "a record reached the offline store twice"
