"""Records of work that runs in the background (jobs, tuning jobs): kept by key, durable, stopped at a
reset or a shutdown.

A record moves InProgress -> Completed | Failed | Stopping -> Stopped and has the members this module
reads: `status`, `last_modified`, `ended`, `failure_reason`, the `finished` event and its run's `thread`.
A reset forgets every record and stops its run; a shutdown stops the running ones and waits for their
threads. The records are saved (local_aws.core.runtime.persistence) without their live parts, and one that was
running when the server stopped comes back Failed with a reason that says so (its processes ended with it).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

from local_aws.core.gateway.errors import AwsError
from local_aws.core.runtime.store import FunctionStore
from local_aws.core.service import now

TERMINAL = frozenset({"Completed", "Failed", "Stopped"})
SHUTDOWN_JOIN_SECONDS = 15

R = TypeVar("R")


class RunRegistry(Generic[R]):
    """The records of one service's runs, by key (account, region, ..., name)."""

    def __init__(
        self,
        store: str,
        make: Callable[..., R],
        saved_fields: tuple[str, ...],
        interrupted: str,
        *,
        stop: Callable[[R], None],
        forget: Callable[[R], None] | None = None,
        after_interruption: Callable[[R, dt.datetime], None] | None = None,
    ):
        """store: the saved state's name; make: builds a record from its saved fields; interrupted: the
        FailureReason of a run the server's stop ended; stop: asks a run to stop; forget: what a reset
        does to a record (default: stop); after_interruption: a kind's own changes to such a record."""
        self.lock = threading.Lock()
        self._records: dict[Hashable, R] = {}
        self._make, self._saved_fields, self._interrupted = make, saved_fields, interrupted
        self._stop, self._forget_one = stop, forget or stop
        self._after_interruption = after_interruption
        self.state = FunctionStore(store, self._dump, self._load)

    def add(self, key: Hashable, record: R, taken: Callable[[], AwsError]) -> R:
        """Keep a new record; the error `taken` makes if the key has one already."""
        with self.lock:
            if key in self._records:
                raise taken()
            self._records[key] = record
        self.changed()
        return record

    def get(self, key: Hashable) -> R | None:
        return self._records.get(key)

    def select(self, keep: Callable[[Any], bool]) -> list[R]:
        """The records whose key `keep` accepts, in the order they were made."""
        with self.lock:
            return [record for key, record in self._records.items() if keep(key)]

    def touch(self, record: R, **changes: Any) -> None:
        """Change a record's fields and its last_modified together."""
        with self.lock:
            for name, value in changes.items():
                setattr(record, name, value)
            record.last_modified = now()
        self.changed()

    def changed(self) -> None:
        self.state.changed()

    def forget(self) -> None:
        with self.lock:
            records = list(self._records.values())
            self._records.clear()
        for record in records:
            self._forget_one(record)

    def stop_running(self) -> None:
        with self.lock:
            running = [record for record in self._records.values() if record.status not in TERMINAL]
        for record in running:
            self._stop(record)
        for record in running:
            if record.thread:
                record.thread.join(timeout=SHUTDOWN_JOIN_SECONDS)

    def _dump(self) -> dict:
        with self.lock:
            return {
                key: {name: _copied(getattr(record, name)) for name in self._saved_fields}
                for key, record in self._records.items()
            }

    def _load(self, snapshot: dict) -> None:
        with self.lock:
            for key, fields in snapshot.items():
                record = self._make(**fields)
                if record.status not in TERMINAL:  # it ran when the server stopped: its processes are gone
                    stamp = now()
                    record.status, record.failure_reason = "Failed", self._interrupted
                    record.ended = record.last_modified = stamp
                    if self._after_interruption:
                        self._after_interruption(record, stamp)
                record.finished.set()
                self._records[key] = record


def _copied(value: Any) -> Any:
    """Lists of records (transitions, metrics, summaries) copied, so a run moving on does not change a snapshot."""
    return [dict(item) for item in value] if isinstance(value, list) else value
