"""The Feature Store offline store: rows buffered in memory, written to moto's S3 as Parquet.

PutRecord and DeleteRecord only append a row to an in-memory buffer (cheap, on the request path);
a background thread encodes and writes the buffered rows at least every
LOCAL_AWS_OFFLINE_STORE_FLUSH_SECONDS (default 1.0 s), like AWS's buffered replication (AWS takes
up to 15 minutes). Each flush takes the buffer whole, so a row is written exactly once; rows whose
write fails (the bucket is gone) go back to the buffer and are retried on the next flush.

Layout (as AWS writes it): `<ResolvedOutputS3Uri>/year=YYYY/month=MM/day=DD/hour=HH/
<latest event time in file, YYYYMMDDTHHMMSSZ>_<16 hex chars>.parquet`, partitioned by event time
(UTC), columns = the features, then write_time, api_invocation_time, is_deleted.
"""
from __future__ import annotations

import datetime as dt
import io
import logging
import os
import threading
import time
from dataclasses import dataclass
from typing import Callable, NamedTuple

import pyarrow as pa
import pyarrow.parquet as pq

from local_aws.core import moto_state
from local_aws.core.protocol import admin_action, on_reset, on_shutdown

log = logging.getLogger("local_aws.offline_store")

FLUSH_SECONDS_ENV = "LOCAL_AWS_OFFLINE_STORE_FLUSH_SECONDS"
_ARROW_TYPES = {"Integral": pa.int64(), "Fractional": pa.float64(), "String": pa.string()}
_TIMESTAMP = pa.timestamp("us", tz="UTC")


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
    bucket: str
    prefix: str  # key prefix of ResolvedOutputS3Uri, without a trailing slash
    columns: Callable[[], list[Column]]  # read at flush time, so added features appear
    report: Callable[[str | None], None]  # told None after a good write, the reason after a failed one


def seconds_from_env(name: str, default: str) -> float:
    """A positive number of seconds from the environment; a bad value stops the server with the fix."""
    value = os.environ.get(name, default)
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not seconds > 0:
        raise ValueError(f"{name}={value!r} is not a positive number of seconds; set it like {default} or unset it")
    return seconds


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
    start = dt.datetime.fromtimestamp(hour * 3600, dt.timezone.utc)
    latest = dt.datetime.fromtimestamp(latest_event_time, dt.timezone.utc)
    return (f"{prefix}/year={start:%Y}/month={start:%m}/day={start:%d}/hour={start:%H}/"
            f"{latest:%Y%m%dT%H%M%SZ}_{os.urandom(8).hex()}.parquet")


class OfflineStore:
    """The buffer of rows not yet written, and the thread that writes them."""

    def __init__(self, interval: float) -> None:
        self.interval = interval  # seconds between background flushes
        self._pending: dict[Destination, list[Row]] = {}
        self._lock = threading.Lock()  # guards _pending
        self._flush_lock = threading.Lock()  # one flush at a time, so flush() returns only when all is written
        self._wake = threading.Event()
        self._closed = False
        self._thread: threading.Thread | None = None

    def append(self, destination: Destination, row: Row) -> None:
        """Queue one row (the request path: no encoding here)."""
        with self._lock:
            rows = self._pending.get(destination)
            if rows is None:
                rows = self._pending[destination] = []
            rows.append(row)
        if self._thread is None:
            self._start()

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
        by_hour: dict[int, list[Row]] = {}
        for row in rows:
            by_hour.setdefault(int(row.event_time // 3600), []).append(row)
        columns = destination.columns()
        write_time = time.time()
        written = files = 0
        hours = sorted(by_hour)
        for index, hour in enumerate(hours):
            part = by_hour[hour]
            key = partition_key(destination.prefix, hour, max(row.event_time for row in part))
            try:
                moto_state.put_object(destination.bucket, key, encode_parquet(columns, part, write_time),
                                      destination.account_id)
            except Exception as exc:  # moto's MissingBucket and the like: keep the rows, say why
                reason = (f"Feature Store could not write to s3://{destination.bucket}/{destination.prefix}: "
                          f"{type(exc).__name__} {exc}. Create the bucket; buffered records are retried "
                          f"every flush.")
                log.warning("%s", reason)
                destination.report(reason)
                return written, files, [row for later in hours[index:] for row in by_hour[later]]
            written += len(part)
            files += 1
        destination.report(None)
        return written, files, []

    def _start(self) -> None:
        with self._lock:
            if self._thread is not None or self._closed:
                return
            self._thread = threading.Thread(target=self._run, name="offline-store-flusher", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            self._wake.wait(self.interval)
            if self._closed:
                return  # close() writes what is left
            try:
                self.flush()
            except Exception:  # never let the flusher die: the next round retries
                log.exception("offline store flush failed")

    def close(self) -> dict:
        """Stop the thread and write everything still buffered (a clean server stop)."""
        self._closed = True
        self._wake.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout=60)
        return self.flush()

    def forget(self) -> None:
        """Drop buffered rows (a reset); waits for a flush under way to finish first."""
        with self._flush_lock, self._lock:
            self._pending.clear()


STORE = OfflineStore(seconds_from_env(FLUSH_SECONDS_ENV, "1.0"))


@admin_action("flush")
def _flush_now() -> dict:
    return {"offline_store": STORE.flush()}


@on_shutdown
def _flush_before_exit() -> None:
    result = STORE.close()
    log.info("offline store flushed before exit: %s", result)


@on_reset
def _forget() -> None:
    STORE.forget()
