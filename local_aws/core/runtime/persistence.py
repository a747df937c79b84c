"""Durable state: what local_aws holds survives a stop, a crash and a reboot.

Each part of the server that holds state registers a store with `durable(name, dump, load)` and
calls `store.changed()` when its state changes (a flag: nothing is written on the request path).
Every `LOCAL_AWS_SAVE_SECONDS` (default 0.5 s) a thread runs the `before_save` hooks (the offline store
writes its buffered rows to S3, so they are in the S3 this save keeps), then writes each changed
store's snapshot to `<home>/state/<name>.pickle` (written aside, fsynced and renamed into place, so a
file is always whole). A clean stop saves everything once work has stopped; a kill -9 loses at most
what changed since the last save. At start the server loads every store before it answers anything.
A snapshot that no longer loads (written by another version of local_aws or moto) is moved to
`state/unreadable/` and that store starts empty, with a warning in the log: nothing is deleted.
`reset` deletes the state for good.
"""

from __future__ import annotations

import logging
import os
import pickle
import shutil
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from local_aws.core.runtime.store import Store

log = logging.getLogger("local_aws.persistence")

FORMAT = 1  # bumped when a snapshot's layout changes incompatibly


_directory: list[Path] = []  # the running server's state directory


def files(name: str) -> Path:
    """A folder beside the snapshots for a store that keeps large items as files (S3's objects)."""
    folder = _directory[0] / f"{name}.files"
    if not folder.is_dir():
        folder.mkdir(parents=True)
    return folder


def state_dir(home: Path) -> Path:
    return home / "state"


class Persistence:
    """Loads the stores at start, saves the changed ones in the background, all of them at a stop."""

    def __init__(
        self, directory: Path, interval: float, stores: Sequence[Store], before_save: Sequence[Callable[[], None]] = ()
    ):
        self.directory = directory
        self.stores = list(stores)  # loaded in this order (moto's state first)
        self.before_save = list(before_save)
        _directory[:] = [directory]
        self.interval = interval
        self.lock = threading.Lock()  # one save (or wipe) at a time
        self._marked = False  # whether the directory says its snapshots' FORMAT
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def restore(self) -> dict[str, Any]:
        """Load every store that has a snapshot; returns what was loaded and how long it took."""
        started = time.monotonic()
        loaded, unreadable = [], []
        version = self.directory / "FORMAT"
        if version.exists() and version.read_text().strip() != str(FORMAT):
            unreadable = [path.stem for path in self.directory.glob("*.pickle")]
            self._set_aside(*self.directory.glob("*.pickle"))
        for store in self.stores:
            path = self.directory / f"{store.name}.pickle"
            if not path.exists():
                continue
            try:
                with open(path, "rb") as fh:
                    store.load(pickle.load(fh))
            except Exception:
                log.exception(
                    "the saved state of %s does not load; it starts empty (the file is kept in %s)",
                    store.name,
                    self.directory / "unreadable",
                )
                self._set_aside(path)
                unreadable.append(store.name)
                continue
            loaded.append(store.name)
        return {"loaded": loaded, "unreadable": unreadable, "seconds": round(time.monotonic() - started, 3)}

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="state-saver", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop saving in the background and save everything (a clean stop, once work has stopped)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=60)
        self.save(everything=True)

    def save(self, everything: bool = False) -> list[str]:
        """Write the changed stores (every store when `everything`); returns the names written."""
        with self.lock:
            for hook in self.before_save:
                hook()
            written = []
            for store in self.stores:
                if not (store.dirty or everything):
                    continue
                store.dirty = False  # a change during the dump marks it again, for the next save
                try:
                    self._write(store.name, store.dump())
                except Exception:
                    store.dirty = True
                    log.exception("saving the state of %s failed; retrying at the next save", store.name)
                    continue
                store.saved()
                written.append(store.name)
            return written

    def wipe(self, forget: Callable[[], None]) -> None:
        """Forget every store's state (`forget`) and delete the saved state, with no save in between."""
        with self.lock:
            forget()
            shutil.rmtree(self.directory, ignore_errors=True)
            self._marked = False
            for store in self.stores:
                store.dirty = False

    def _run(self) -> None:
        """Save at a steady rate (a save starts every interval, however long the last one took), so what
        was acknowledged is on disk within the interval plus one save's time."""
        due = time.monotonic() + self.interval
        while not self._stop.wait(max(0.0, due - time.monotonic())):
            due += self.interval
            try:
                self.save()  # cheap when nothing changed: the hooks find nothing to do, no store is written
            except Exception:  # never let the saver die: the next round retries
                log.exception("saving state failed")
            due = max(due, time.monotonic())  # a save longer than the interval: the next one starts at once

    def _write(self, name: str, snapshot: Any) -> None:
        if not self._marked:  # once per directory (a wipe deletes it): which layout its snapshots have
            self.directory.mkdir(parents=True, exist_ok=True)
            (self.directory / "FORMAT").write_text(str(FORMAT))
            self._marked = True
        path = self.directory / f"{name}.pickle"
        partial = path.with_suffix(".pickle.partial")
        with open(partial, "wb") as fh:
            pickle.dump(snapshot, fh, protocol=pickle.HIGHEST_PROTOCOL)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(partial, path)

    def _set_aside(self, *paths: Path) -> None:
        aside = self.directory / "unreadable"
        aside.mkdir(parents=True, exist_ok=True)
        for path in paths:
            os.replace(path, aside / f"{path.name}.{int(time.time())}")
