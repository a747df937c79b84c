"""The online stores' records on disk, as a journal: each save appends what changed since the previous
one, so saving during an ingestion costs the records written in the last second, not the whole store.

A segment is one pickled `{group id: {record identifier: entry, or None for a hard delete}}`, a file
of its own beside the snapshots (`state/featurestore.files/`), written aside, fsynced and renamed into
place before the snapshot that names it replaces the previous one; so a crash at any moment leaves a
snapshot whose segments are all whole. Loading replays the segments the snapshot names, in order. Once
the segments hold more than twice the live records (plus COMPACT_SLACK), the next save writes every
live record as one segment instead, and the segments no snapshot names any more are deleted once the
new snapshot is on disk.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Iterator
from typing import Any

from local_aws.core.runtime import persistence

COMPACT_SLACK = 10_000  # records the journal may hold beyond twice the live ones before it is rewritten
Changes = dict[str, dict[str, Any]]  # group id -> record identifier -> entry (None: hard-deleted)


class Journal:
    """The segments the newest snapshot names, and how many records they hold."""

    def __init__(self, store_name: str) -> None:
        self.store_name = store_name
        self.segments: list[str] = []
        self.records = 0
        self.in_use = False  # replayed or written since the start (or the last reset)
        self._next = 0

    def due_for_rewrite(self, live_records: int) -> bool:
        return self.records > 2 * live_records + COMPACT_SLACK

    def append(self, changes: Changes) -> None:
        """Add a segment holding `changes` (nothing when there are none)."""
        count = sum(len(records) for records in changes.values())
        if count:
            self.segments.append(self._write(changes))
            self.records += count

    def rewrite(self, everything: Changes) -> None:
        """One segment holding every live record replaces all the others."""
        self.segments = [self._write(everything)]
        self.records = sum(len(records) for records in everything.values())

    def replay(self, segments: list[str]) -> Iterator[Changes]:
        """The changes of the named segments, oldest first; they become this journal's segments."""
        folder = persistence.files(self.store_name)
        self.segments, self.records, self.in_use = list(segments), 0, True
        self._next = 1 + max((int(name.split(".")[0]) for name in os.listdir(folder) if name[0].isdigit()), default=-1)
        for name in segments:
            with open(folder / name, "rb") as fh:
                changes = pickle.load(fh)
            self.records += sum(len(records) for records in changes.values())
            yield changes

    def drop_unnamed(self) -> None:
        """Delete the segments the newest snapshot does not name (rewritten, or written by a save that failed
        before a restart)."""
        folder = persistence.files(self.store_name)
        for name in set(os.listdir(folder)) - set(self.segments):
            (folder / name).unlink(missing_ok=True)

    def forget(self) -> None:
        """A reset: the files go with the state directory."""
        self.segments, self.records, self.in_use, self._next = [], 0, False, 0

    def _write(self, changes: Changes) -> str:
        folder = persistence.files(self.store_name)
        name = f"{self._next:010d}.pickle"
        self._next += 1
        self.in_use = True
        partial = folder / f"{name}.partial"
        with open(partial, "wb") as fh:
            pickle.dump(changes, fh, protocol=pickle.HIGHEST_PROTOCOL)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(partial, folder / name)
        return name
