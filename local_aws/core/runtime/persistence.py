"""Durable state: what local_aws acknowledged survives a stop, a crash, a reboot and a full disk.

Each part of the server that holds state has a store (local_aws.core.runtime.store) and calls
`store.changed()` when its state changes (a flag: nothing is written on the request path). Every
`LOCAL_AWS_SAVE_SECONDS` (default 0.5 s) a thread runs the `before_save` hooks (the offline store writes its
buffered rows to S3, so they are in the S3 this save keeps), then writes each changed store's snapshot to
`<home>/state/<name>.pickle` (written aside, fsynced and renamed into place, so a file is always whole). A
clean stop saves everything once work has stopped; a kill -9 loses at most what changed since the last save.
At start the server loads every store before it answers anything.

The room a save needs is held in advance (local_aws.core.runtime.durability): a write is acknowledged only
once the next save can keep it, and a save that finds the file system full releases the reserve and
completes; until a save succeeds again, write requests are refused. A stop whose save fails says so.

The state directory's FORMAT file says how it is laid out (README, "The saved state"). State this version
cannot read (another FORMAT, or a snapshot that no longer loads: another layout, another moto) is moved to
`state/unreadable/` and those stores start empty, as the health record and `python -m local_aws start` say:
nothing is deleted. `reset` deletes the state for good.
"""

from __future__ import annotations

import errno
import logging
import os
import pickle
import shutil
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

from local_aws.core.runtime import reserve
from local_aws.core.runtime.durability import Durability, cannot_save
from local_aws.core.runtime.store import Store

log = logging.getLogger("local_aws.persistence")

FORMAT = 1  # bumped when the state directory's layout or its snapshots' envelope changes incompatibly
UNREADABLE = "unreadable"  # where state this version cannot read is kept

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
        self.durability = Durability(directory)
        self.lock = threading.Lock()  # one save (or wipe) at a time
        self.set_aside: dict[str, str] = {}  # store -> why its saved state was set aside at start
        self.failure: str | None = None  # what the last save could not keep, and why
        self.saved_at = time.time()  # when a save last kept every change
        self._marked = False  # whether the directory says its snapshots' FORMAT
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def restore(self) -> dict[str, Any]:
        """Load every store that has a snapshot and make the reserve; returns what was loaded, what was set aside
        and how long it took."""
        started = time.monotonic()
        loaded: list[str] = []
        found = _read_format(self.directory)
        if found is not None and found != str(FORMAT):
            self._set_aside_everything(found)
        elif found is not None:
            self._marked = True
        for store in self.stores:
            path = self.directory / f"{store.name}.pickle"
            if not path.exists():
                continue
            try:
                with open(path, "rb") as fh:
                    store.load(pickle.load(fh))
            except Exception as exc:
                log.exception(
                    "the saved state of %s does not load; it starts empty (the file is kept in %s)",
                    store.name,
                    self.directory / UNREADABLE,
                )
                self._set_aside(path, self.directory / f"{store.name}.files")
                self.set_aside[store.name] = _reason(exc)
                continue
            loaded.append(store.name)
        self._remove_partial_files()  # what a kill -9 left half written
        self.durability.start(self._snapshot_bytes())
        seconds = round(time.monotonic() - started, 3)
        return {"loaded": loaded, "unreadable": list(self.set_aside), "seconds": seconds}

    def health(self) -> dict[str, Any]:
        """The health record's `saved_state`: where, in which FORMAT, what was set aside at start, and why
        writes are refused when they are."""
        record: dict[str, Any] = {"directory": str(self.directory), "format": FORMAT}
        if self.set_aside:
            record["set_aside_at_start"] = [f"{name}: {why}" for name, why in self.set_aside.items()]
            record["set_aside_in"] = str(self.directory / UNREADABLE)
        if self.durability.problem is not None:
            record["writes_refused"] = self.durability.problem
        return {"saved_state": record}

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="state-saver", daemon=True)
        self._thread.start()

    def stop(self) -> str | None:
        """Stop saving in the background and save everything (a clean stop, once work has stopped). Returns
        None when everything is saved, else what could not be, and why."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=60)
        try:
            self.save(everything=True)
        except Exception as exc:  # a before_save hook failed
            log.exception("the final save failed")
            return cannot_save(self.directory, exc)
        return self.failure

    def save(self, everything: bool = False) -> list[str]:
        """Write the changed stores (every store when `everything`); returns the names written."""
        with self.lock:
            kept = self.durability.save_begins()  # the writes answered so far: the snapshots below hold them
            for hook in self.before_save:
                hook()
            due = [store for store in self.stores if store.dirty or everything]
            written, failures = self._write_stores(due)
            if any(_out_of_space(error) for _, error, _ in failures) and self.durability.release():
                self._remove_partial_files()
                more, failures = self._write_stores([store for store, _, _ in failures])
                written += more
            lost = [(store.name, error) for store, error, was_dirty in failures if was_dirty]
            if lost:
                since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.saved_at))
                names = ", ".join(name for name, _ in lost)
                problem = cannot_save(self.directory, lost[0][1], names)
                self.failure = f"{problem}. Not saved: what changed in {names} since {since}"
                if self.durability.failed(problem):
                    log.error("saving the state of %s failed", names, exc_info=lost[0][1])
            else:
                self.failure, self.saved_at = None, time.time()
                self.durability.saved(kept, self._snapshot_bytes() if written else None)
            return written

    def wipe(self, forget: Callable[[], None]) -> None:
        """Forget every store's state (`forget`) and delete the saved state, with no save in between."""
        with self.lock:
            forget()
            shutil.rmtree(self.directory, ignore_errors=True)
            self._marked = False
            for store in self.stores:
                store.dirty = False
            self.failure = None
            self.durability.wiped()

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

    def _write_stores(self, stores: list[Store]) -> tuple[list[str], list[tuple[Store, Exception, bool]]]:
        """Write each store's snapshot: (the names written, (store, error, whether it had changed) of the others).
        A store that had not changed and could not be written anew loses nothing: its snapshot is on disk."""
        written, failures = [], []
        for store in stores:
            was_dirty, store.dirty = store.dirty, False  # a change during the dump marks it again
            try:
                self._write(store.name, store.dump())
            except Exception as exc:
                store.dirty = store.dirty or was_dirty
                failures.append((store, exc, was_dirty))
                continue
            store.saved()
            written.append(store.name)
        return written, failures

    def _write(self, name: str, snapshot: Any) -> None:
        if not self._marked:  # once per directory (a wipe deletes it): which layout its snapshots have
            self.directory.mkdir(parents=True, exist_ok=True)
            _write_whole(self.directory / "FORMAT", lambda fh: fh.write(f"{FORMAT}\n".encode()))
            self._marked = True
        _write_whole(self.directory / f"{name}.pickle", lambda fh: pickle.dump(snapshot, fh, pickle.HIGHEST_PROTOCOL))

    def _snapshot_bytes(self) -> int:
        """What the snapshots take on disk, each of which a save may write anew: every store's snapshot and the
        files beside it that are rewritten (the Feature Store's journal; not S3's object bodies)."""
        total = 0
        for store in self.stores:
            total += _size(self.directory / f"{store.name}.pickle")
            folder = self.directory / f"{store.name}.files"
            if store.files_rewritten and folder.is_dir():
                total += sum(_size(folder / name) for name in os.listdir(folder))
        return total

    def _remove_partial_files(self) -> None:
        """Files a failed or killed save left half written (a snapshot, a journal segment, an object body): they
        are nobody's, and their room goes to the next save."""
        for folder in [self.directory, *(self.directory / f"{store.name}.files" for store in self.stores)]:
            if folder.is_dir():
                for name in os.listdir(folder):
                    if name.endswith(".partial"):
                        (folder / name).unlink(missing_ok=True)

    def _set_aside_everything(self, found: str) -> None:
        """State of another FORMAT: all of it goes to state/unreadable/, and every store starts empty."""
        log.warning(
            "the saved state in %s has FORMAT %r; this version reads FORMAT %d: it is kept in %s and the state "
            "starts empty",
            self.directory,
            found,
            FORMAT,
            self.directory / UNREADABLE,
        )
        why = f"saved in FORMAT {found or '(empty)'}; this version reads FORMAT {FORMAT}"
        for store in self.stores:
            if (self.directory / f"{store.name}.pickle").exists():
                self.set_aside[store.name] = why
        self._set_aside(*(p for p in self.directory.iterdir() if p.name not in (UNREADABLE, reserve.FILE_NAME)))

    def _set_aside(self, *paths: Path) -> None:
        aside = self.directory / UNREADABLE
        aside.mkdir(parents=True, exist_ok=True)
        stamp = int(time.time())
        for path in paths:
            if not path.exists():
                continue
            target, again = aside / f"{path.name}.{stamp}", 0
            while target.exists():  # set aside twice within a second
                again += 1
                target = aside / f"{path.name}.{stamp}-{again}"
            os.replace(path, target)


def _read_format(directory: Path) -> str | None:
    try:
        return (directory / "FORMAT").read_text().strip()
    except FileNotFoundError:
        return None


def _write_whole(path: Path, write: Callable[[IO[bytes]], Any]) -> None:
    """Write a file whole or not at all: written beside it, fsynced, renamed into place; a failed write leaves
    nothing behind."""
    partial = path.with_name(f"{path.name}.partial")
    try:
        with open(partial, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _out_of_space(error: BaseException) -> bool:
    return isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT)


def _reason(error: BaseException) -> str:
    text = f"{type(error).__name__}: {error}"
    return text if len(text) <= 300 else text[:297] + "..."
