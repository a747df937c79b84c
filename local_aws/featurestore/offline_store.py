"""The Feature Store offline store: rows buffered in memory, written to moto's S3 as Parquet.

PutRecord and DeleteRecord only append a row to an in-memory buffer (cheap, on the request path);
the buffered rows are encoded and written to S3 right before each save of the server's state
(local_aws.core.runtime.persistence: every LOCAL_AWS_SAVE_SECONDS, default 0.5 s), like AWS's buffered
replication (AWS takes up to 15 minutes), so a row acknowledged before a save is in the S3 that save
keeps. Each flush takes the buffer whole, so a row is written exactly once; rows whose write fails
(the bucket is gone) go back to the buffer and are retried on the next flush. Once the server has
written the buffer for the last time at a stop, a row can no longer be kept: it is refused with
ServiceUnavailable (SDKs retry it), never acknowledged and dropped.

Layout of the Glue table format (as AWS writes it): `<ResolvedOutputS3Uri>/year=YYYY/month=MM/day=DD/
hour=HH/<latest event time in file, YYYYMMDDTHHMMSSZ>_<16 hex chars>.parquet`, partitioned by event
time (UTC), columns = the features, then write_time, api_invocation_time, is_deleted. A group of the
Iceberg table format gives its destination an `append_snapshot`: the flush hands it the group's rows
whole, and it commits them as one Iceberg snapshot (iceberg_store.py).
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import pyarrow as pa
import pyarrow.parquet as pq

from local_aws.core.gateway.errors import AwsError, ServiceUnavailable
from local_aws.core.iam import authorization
from local_aws.core.iam.authorization import Need
from local_aws.core.moto import state as moto_state

log = logging.getLogger("local_aws.offline_store")

_ARROW_TYPES = {"Integral": pa.int64(), "Fractional": pa.float64(), "String": pa.string()}
_TIMESTAMP = pa.timestamp("us", tz="UTC")
SESSION_NAME = "SageMaker"  # the session Feature Store acts in with the group's role


class Column(NamedTuple):
    """One feature column: its name, FeatureType and whether it holds a list (CollectionType set)."""

    name: str
    feature_type: str
    is_list: bool


class Row(NamedTuple):
    values: dict  # feature name -> parsed value (int, float, str, or a list of them)
    event_time: float  # epoch seconds, chooses the partition
    api_invocation_time: float  # epoch seconds when the PutRecord/DeleteRecord call arrived
    is_deleted: bool


@dataclass(eq=False)  # compared by identity: one destination per feature group
class Destination:
    """Where one feature group's rows go and what its columns are at flush time."""

    account_id: str  # whose S3 holds the bucket
    role_arn: str  # Feature Store writes as this role: it needs s3:PutObject there
    bucket: str
    prefix: str  # key prefix of ResolvedOutputS3Uri, without a trailing slash
    columns: Callable[[], list[Column]]  # read at flush time, so added features appear
    report: Callable[[str | None], None]  # told None after a good write, the reason after a failed one
    # An Iceberg table's append of (rows, write time), returning the files written; None: the Glue layout
    append_snapshot: Callable[[list[Row], float], int] | None = None


def encode_parquet(columns: list[Column], rows: list[Row], write_time: float) -> bytes:
    """One Parquet file holding the rows: feature columns, then the three columns Feature Store adds."""
    arrays, names = [], []
    for column in columns:
        kind = _ARROW_TYPES[column.feature_type]
        name = column.name
        arrays.append(pa.array([row.values.get(name) for row in rows], type=pa.list_(kind) if column.is_list else kind))
        names.append(name)
    written = int(write_time * 1_000_000)
    arrays += [
        pa.array([written] * len(rows), type=_TIMESTAMP),
        pa.array([int(row.api_invocation_time * 1_000_000) for row in rows], type=_TIMESTAMP),
        pa.array([row.is_deleted for row in rows], type=pa.bool_()),
    ]
    names += ["write_time", "api_invocation_time", "is_deleted"]
    sink = io.BytesIO()
    pq.write_table(pa.Table.from_arrays(arrays, names=names), sink)
    return sink.getvalue()


def partition_key(prefix: str, hour: int, latest_event_time: float) -> str:
    """The S3 key of a new file in the hour partition `hour` (hours since the epoch)."""
    start = dt.datetime.fromtimestamp(hour * 3600, dt.UTC)
    latest = dt.datetime.fromtimestamp(latest_event_time, dt.UTC)
    return (
        f"{prefix}/year={start:%Y}/month={start:%m}/day={start:%d}/hour={start:%H}/"
        f"{latest:%Y%m%dT%H%M%SZ}_{os.urandom(8).hex()}.parquet"
    )


def _blocked(destination: Destination, exc: Exception, fix: str = "") -> None:
    name = exc.code if isinstance(exc, AwsError) else type(exc).__name__
    reason = (
        f"Feature Store could not write to s3://{destination.bucket}/{destination.prefix}: "
        f"{name} {exc}. {fix + '. ' if fix else ''}Buffered records are retried every flush."
    )
    log.warning("%s", reason)
    destination.report(reason)


def _refusal(destination: Destination) -> AwsError | None:
    """The AccessDenied AWS would give the role writing this offline store, if its policies refuse it.

    Feature Store reads the bucket's ACL before it writes (AmazonSageMakerFeatureStoreAccess grants
    s3:GetBucketAcl for that), and the key always holds "/sagemaker/", which the managed policies'
    `*sagemaker*` resources match: the bucket's name decides."""
    for need in (
        Need("s3:GetBucketAcl", f"arn:aws:s3:::{destination.bucket}"),
        Need("s3:PutObject", f"arn:aws:s3:::{destination.bucket}/{destination.prefix}/"),
    ):
        decision = authorization.allowed(destination.role_arn, need)
        if decision != "allowed":
            principal = authorization.acting_as(destination.role_arn, SESSION_NAME).arn
            return authorization.denied(principal, need, decision, "s3")
    return None


class OfflineStore:
    """The buffer of rows not yet written."""

    def __init__(self) -> None:
        self._pending: dict[Destination, list[Row]] = {}
        self._lock = threading.Lock()  # guards _pending and _closed
        self._flush_lock = threading.Lock()  # one flush at a time, so flush() returns only when all is written
        self._closed = False

    def append(self, destination: Destination, row: Row) -> None:
        """Queue one row (the request path: no encoding here)."""
        with self._lock:
            if self._closed:
                raise ServiceUnavailable(
                    "The offline store has been written for the last time: local_aws is "
                    "stopping. Retry once it is running again."
                )
            rows = self._pending.get(destination)
            if rows is None:
                rows = self._pending[destination] = []
            rows.append(row)

    def pending_rows(self) -> int:
        with self._lock:
            return sum(len(rows) for rows in self._pending.values())

    def flush(self) -> dict:
        """Write every buffered row now; rows that cannot be written stay buffered for the next flush."""
        with self._flush_lock:
            with self._lock:
                pending, self._pending = self._pending, {}
            rows_written = files = 0
            for destination, rows in pending.items():
                written, count, failed = self._write(destination, rows)
                rows_written += written
                files += count
                if failed:
                    with self._lock:
                        self._pending.setdefault(destination, [])[:0] = failed
            return {"rows": rows_written, "files": files, "pending": self.pending_rows()}

    def _write(self, destination: Destination, rows: list[Row]) -> tuple[int, int, list[Row]]:
        """(rows written, files written, rows not written) for one destination."""
        write_time = time.time()
        refusal = _refusal(destination)
        if refusal is not None:
            _blocked(destination, refusal)
            return 0, 0, rows
        if destination.append_snapshot is not None:
            try:
                files = destination.append_snapshot(rows, write_time)
            except Exception as exc:  # a missing bucket or Glue table: keep the rows, say why
                _blocked(destination, exc, "Create the bucket, or the Glue table if it was deleted")
                return 0, 0, rows
            destination.report(None)
            return len(rows), files, []
        by_hour: dict[int, list[Row]] = {}
        for row in rows:
            by_hour.setdefault(int(row.event_time // 3600), []).append(row)
        columns = destination.columns()
        written = files = 0
        hours = sorted(by_hour)
        for index, hour in enumerate(hours):
            part = by_hour[hour]
            key = partition_key(destination.prefix, hour, max(row.event_time for row in part))
            try:
                moto_state.put_object(
                    destination.bucket, key, encode_parquet(columns, part, write_time), destination.account_id
                )
            except Exception as exc:  # moto's MissingBucket and the like: keep the rows, say why
                _blocked(destination, exc, "Create the bucket")
                return written, files, [row for later in hours[index:] for row in by_hour[later]]
            written += len(part)
            files += 1
        destination.report(None)
        return written, files, []

    def close(self) -> dict:
        """Take no more rows and write everything still buffered (a clean server stop)."""
        with self._lock:
            self._closed = True
        return self.flush()

    def forget(self) -> None:
        """Drop buffered rows (a reset); waits for a flush under way to finish first."""
        with self._flush_lock, self._lock:
            self._pending.clear()


STORE = OfflineStore()


def flush_now() -> dict:
    return {"offline_store": STORE.flush()}


def flush_before_exit() -> None:
    result = STORE.close()
    log.info("offline store flushed before exit: %s", result)


def forget_buffered() -> None:
    STORE.forget()
