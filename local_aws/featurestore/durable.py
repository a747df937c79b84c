"""The Feature Store's saved state: the feature groups (features, metadata, tags, pending transitions)
and each group's online store, so that after a restart the groups and their records are as they were
(local_aws.core.runtime.persistence saves it twice a second and at a stop, and loads it at start).

The request path only marks the state changed (a flag) and notes the identifier it wrote (a set add
under the lock it holds), so PutRecord stays as cheap as it was. The saver thread takes the snapshot:
the groups copied under the registry's lock, and from each online store the entries written since
the previous save, copied under the store's lock (entries are immutable tuples), appended to the
journal (online_journal.py) outside it. The offline store is not kept here: its buffered rows are
written to S3 before each save, and S3 is saved with moto's state. A group Creating, Deleting or
updating when the server stopped finishes its transition when it is next looked at, as it would have.
"""

from __future__ import annotations

import os
import time
from typing import Any

from local_aws.core.runtime import persistence
from local_aws.core.runtime.store import FunctionStore
from local_aws.featurestore import online_store
from local_aws.featurestore.models import GROUPS, FeatureGroup
from local_aws.featurestore.online_journal import Journal

NAME = "featurestore"
LAYOUT = 1  # the snapshot's shape; a snapshot of another shape does not load (and is set aside)
JOURNAL = Journal(NAME)


def _group_id(group: FeatureGroup) -> str:
    """Tells a group from an earlier one of the same name (deleted, then created again)."""
    return f"{group.arn}@{group.created.timestamp()}"


def _dump() -> dict[str, Any]:
    if not JOURNAL.in_use:
        _set_journal_aside()  # segments of a snapshot that did not load, if any: kept, as the snapshot is
    with GROUPS.lock:
        groups = [(key, group.saved(), _group_id(group)) for key, group in GROUPS.entries()]
    stores = online_store.stores()
    everything = JOURNAL.due_for_rewrite(sum(len(store.entries) for _, store in stores))
    taken = [(group, store, *store.take_unsaved(everything)) for group, store in stores]
    changes = {_group_id(group): records for group, _, _, records in taken}
    try:
        if everything:
            JOURNAL.rewrite(changes)
        else:
            JOURNAL.append(changes)
    except Exception:  # not saved: these records go into the next save
        for _, store, keys, _ in taken:
            store.unsaved_again(keys)
        raise
    return {"layout": LAYOUT, "groups": groups, "segments": list(JOURNAL.segments)}


def _load(snapshot: dict[str, Any]) -> None:
    if snapshot.get("layout") != LAYOUT:
        raise ValueError(f"the Feature Store's saved state has layout {snapshot.get('layout')}, not {LAYOUT}")
    groups = {group_id: (key, FeatureGroup.from_saved(state)) for key, state, group_id in snapshot["groups"]}
    records: dict[str, dict] = {}
    try:
        for changes in JOURNAL.replay(snapshot["segments"]):
            for group_id, written in changes.items():
                if group_id not in groups:
                    continue  # the group was deleted
                entries = records.setdefault(group_id, {})
                for key, entry in written.items():
                    if entry is None:
                        entries.pop(key, None)
                    else:
                        entries[key] = entry
    except Exception:
        _set_journal_aside()
        raise
    GROUPS.restore(list(groups.values()))
    online_store.restore({groups[group_id][1]: entries for group_id, entries in records.items()})
    JOURNAL.drop_unnamed()


def _set_journal_aside() -> None:
    """The journal of a snapshot that does not load goes where the snapshot goes (state/unreadable/)."""
    JOURNAL.forget()
    folder = persistence.files(NAME)
    if any(folder.iterdir()):
        aside = folder.parent / "unreadable"
        aside.mkdir(parents=True, exist_ok=True)
        os.replace(folder, aside / f"{folder.name}.{int(time.time())}")


STATE = FunctionStore(NAME, _dump, _load, saved=JOURNAL.drop_unnamed)
GROUPS.when_changed(STATE.changed)
