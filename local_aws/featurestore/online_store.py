"""The online store: per feature group, the latest record of each record identifier.

A write replaces the stored record when its event time is as new or newer (an equal event time
overwrites). A soft delete leaves a tombstone no read returns, which also keeps out writes older than
the delete; a hard delete forgets the identifier. A record with a TTL stops being returned once it
expires. Each feature group's store lives here, keyed by the group itself, not in the group's
record: the control plane never sees it, and a group's store is dropped when its deletion completes.
Each store notes the identifiers written since the last save (a set add under the lock it already
holds), so a save writes only those (durable.py, online_journal.py).
"""

from __future__ import annotations

import threading
import time
from typing import NamedTuple

from local_aws.featurestore.models import GROUPS, FeatureGroup


class OnlineEntry(NamedTuple):
    """One record identifier's state in the online store (compact: ~0.7 KB for 10 features)."""

    event_time: float
    names: tuple
    texts: tuple  # ValueAsString (or ValueAsStringList) per name, as the client sent it
    deleted: bool  # a soft-delete tombstone: no read returns it
    expires_at: float | None


class OnlineStore:
    """One feature group's records by identifier; `lock` serialises read-modify-write changes."""

    __slots__ = ("entries", "lock", "unsaved")

    def __init__(self, entries: dict[str, OnlineEntry] | None = None) -> None:
        self.entries: dict[str, OnlineEntry] = entries or {}
        self.lock = threading.Lock()
        self.unsaved: set[str] = set()  # identifiers written or deleted since the last save

    def put(self, key: str, entry: OnlineEntry) -> None:
        """Keep `entry` unless the stored one (a tombstone included) has a later event time."""
        with self.lock:
            current = self.entries.get(key)
            if current is None or entry.event_time >= current.event_time:
                self.entries[key] = entry
                self.unsaved.add(key)

    def keep(self, key: str, entry: OnlineEntry) -> None:
        """Store `entry` as it is (UpdateRecord's merge); the caller holds `lock`."""
        self.entries[key] = entry
        self.unsaved.add(key)

    def live(self, key: str) -> OnlineEntry | None:
        """The entry a read may return: not soft-deleted, not expired."""
        entry = self.entries.get(key)
        if entry is None or entry.deleted or (entry.expires_at is not None and time.time() >= entry.expires_at):
            return None
        return entry

    def delete(self, key: str, event_time: float, hard: bool) -> bool:
        """Soft- or hard-delete the identifier as of `event_time`; False (and nothing changes) when the
        stored record is as new or newer."""
        with self.lock:
            current = self.entries.get(key)
            if current is not None and event_time <= current.event_time:
                return False
            if hard:
                self.entries.pop(key, None)
            else:
                self.entries[key] = OnlineEntry(event_time, (), (), True, None)
            self.unsaved.add(key)
            return True

    def identifiers(self, include_deleted: bool) -> list[str]:
        """The identifiers held, in order: unexpired ones, with soft-deleted ones if asked for."""
        now = time.time()
        with self.lock:
            return sorted(
                key
                for key, entry in self.entries.items()
                if (include_deleted or not entry.deleted) and (entry.expires_at is None or now < entry.expires_at)
            )

    def take_unsaved(self, everything: bool = False) -> tuple[set[str], dict[str, OnlineEntry | None]]:
        """(identifiers unsaved until now, their entries: None when hard-deleted), or every entry when
        `everything`; from now on they count as saved. Entries are immutable, so the copy is a snapshot."""
        with self.lock:
            keys, self.unsaved = self.unsaved, set()
            return keys, dict(self.entries) if everything else {key: self.entries.get(key) for key in keys}

    def unsaved_again(self, keys: set[str]) -> None:
        """A save failed: these identifiers go into the next one."""
        with self.lock:
            self.unsaved |= keys


_stores: dict[FeatureGroup, OnlineStore] = {}


def store_of(group: FeatureGroup) -> OnlineStore:
    """The group's online store (made on first use)."""
    store = _stores.get(group)
    if store is None:
        store = _stores.setdefault(group, OnlineStore())
    return store


def _drop(group: FeatureGroup) -> None:
    _stores.pop(group, None)


def stores() -> list[tuple[FeatureGroup, OnlineStore]]:
    """Every group's online store, for a save."""
    return list(_stores.items())


def restore(records: dict[FeatureGroup, dict[str, OnlineEntry]]) -> None:
    """Hold exactly these records per group (saved state loaded at start)."""
    _stores.clear()
    _stores.update((group, OnlineStore(entries)) for group, entries in records.items())


GROUPS.when_deleted(_drop)


def forget_all() -> None:
    _stores.clear()
