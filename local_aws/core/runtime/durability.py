"""Writes are acknowledged only when the next save can keep them, even if the disk fills up meanwhile.

The state is saved after the answer (local_aws.core.runtime.persistence, twice a second), so the room that save
needs is taken before the answer: the reserve (local_aws.core.runtime.reserve) holds the size of the snapshots
(a save may write each of them anew), the bytes written since the last save and those being written now (a
request's body plus PER_WRITE for what it records beside it), MARGIN for the changes no request announces (a
job's record, a log line) and HEADROOM, so that it grows once per megabyte written, not per request.

- A write request is admitted once the reserve has room for it; when the reserve cannot grow for it, the
  request is refused with ServiceUnavailable (503, which SDKs retry) before any of it runs.
- A save that finds the file system full releases the reserve and completes in its room; the reserve then
  takes back what is still free, for the writes acknowledged meanwhile. From then on every write request is
  refused, until a save succeeds and the reserve is made whole again: once room is made on disk, writes are
  accepted again within half a second. Reads are always answered. A snapshot that fails for another reason
  (a store that does not pickle) refuses writes the same way, naming the store, until a save succeeds.
- Writes made inside local_aws (a job uploading its outputs, a pipeline's steps, the offline store's rows)
  finish work already acknowledged: they are counted, so the reserve grows for them, but never refused; when
  the reserve cannot grow for them, the write requests that follow are refused.
"""

from __future__ import annotations

import errno
import logging
import os
import threading
from pathlib import Path

from local_aws.core.gateway.errors import ServiceUnavailable
from local_aws.core.runtime.reserve import FILE_NAME, Reserve

log = logging.getLogger("local_aws.persistence")

PER_WRITE = 4 << 10  # what a write records beside its body (a key's metadata, a record's fields)
MARGIN = 256 << 10  # changes no request announces, saved with the next save
HEADROOM = 1 << 20  # the reserve grows by at least this much, so not on every request


def cannot_save(directory: Path, error: BaseException, stores: str = "its state") -> str:
    """Why local_aws cannot save its state (`stores`: whose snapshot failed), and what to do, in one sentence."""
    code = getattr(error, "errno", None)
    if code == errno.ENOSPC:
        cause, fix = f"the file system of {directory} is full ({os.strerror(code)})", "free some space"
    elif code == errno.EDQUOT:
        cause, fix = f"the disk quota of {directory} is used up ({os.strerror(code)})", "free some space"
    elif code is not None:
        cause, fix = f"writing to {directory} fails ({os.strerror(code)})", "make it writable again"
    else:
        cause, fix = f"the snapshot of {stores} fails ({type(error).__name__}: {error})", "see the server's log"
    return f"local_aws cannot save its state: {cause}; {fix}"


class Durability:
    """The bytes acknowledged and not yet saved, the reserve that holds room for them, and whether writes are
    refused (`problem`: why, or None)."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.reserve = Reserve(directory / FILE_NAME)
        self.problem: str | None = None
        self._snapshots = 0  # bytes of the snapshots on disk: the next save may write each of them anew
        self._in_flight = 0  # bytes of the writes being made now
        self._unsaved = 0  # bytes of the writes made since the last save began
        self._lock = threading.Lock()

    # -- the request path ------------------------------------------------------------------------------
    def admit(self, size: int) -> None:
        """Take room for a write request of `size` bytes, or raise the ServiceUnavailable it is refused with."""
        with self._lock:
            if self.problem is not None:
                raise ServiceUnavailable(self.problem)
            try:
                self._make_room(size)
            except OSError as exc:
                raise ServiceUnavailable(cannot_save(self.directory, exc)) from None
            self._in_flight += size

    def count(self, size: int) -> None:
        """Count a write made inside local_aws (never refused); a reserve that cannot grow for it refuses the
        write requests that follow."""
        with self._lock:
            self._in_flight += size
            if self.problem is None:
                try:
                    self._make_room(0)
                except OSError as exc:
                    self._refuse(cannot_save(self.directory, exc))

    def done(self, size: int) -> None:
        """The write admitted or counted with `size` is made: the next save that begins keeps it."""
        with self._lock:
            self._in_flight -= size
            self._unsaved += size

    # -- the saver -------------------------------------------------------------------------------------
    def start(self, snapshots: int) -> None:
        """At start, once the saved state is loaded: its size on disk; the reserve is made (or taken over)."""
        with self._lock:
            self.reserve.take_over()
            self._snapshots = snapshots
            self._remake()

    def save_begins(self) -> int:
        """The bytes of the writes made so far, which the save beginning now keeps."""
        with self._lock:
            return self._unsaved

    def release(self) -> bool:
        """Give the reserve's room to the save under way (the file system is full); False when it had none."""
        with self._lock:
            released = self.reserve.release()
            if released and self.problem is None:  # once: while writes are refused, each save may do it again
                log.warning("the file system of %s is full: the reserve is released for this save", self.directory)
        return released

    def saved(self, kept: int, snapshots: int | None) -> None:
        """A save kept every change it found, the `kept` bytes of writes included; the snapshots now take
        `snapshots` bytes (None: as before, nothing was written). The reserve is made to the next save's
        measure, and writes are accepted again if it is."""
        with self._lock:
            self._unsaved = max(0, self._unsaved - kept)
            if snapshots is not None:
                self._snapshots = snapshots
            self._remake()

    def failed(self, problem: str) -> bool:
        """A save could not keep every change (`problem`: why): writes are refused. True when they were accepted
        until now."""
        with self._lock:
            began = self._refuse(problem)
            self.reserve.take_what_is_free(self._needed(0) + HEADROOM)
            return began

    def wiped(self) -> None:
        """A reset deleted the saved state (the reserve with it): nothing is left to keep."""
        with self._lock:
            self.reserve.forget()
            self._snapshots = self._unsaved = 0
            self._remake()

    # -- under the lock --------------------------------------------------------------------------------
    def _needed(self, size: int) -> int:
        return self._snapshots + self._in_flight + self._unsaved + size + MARGIN

    def _make_room(self, size: int) -> None:
        needed = self._needed(size)
        if needed > self.reserve.size:
            self.reserve.resize(needed + HEADROOM)

    def _remake(self) -> None:
        """The reserve at the measure of the next save (grown or shrunk); writes accepted again if it is made,
        else it holds what the file system has free, for the writes already acknowledged."""
        target = self._needed(0) + HEADROOM
        try:
            self.reserve.resize(target)
        except OSError as exc:
            self.reserve.take_what_is_free(target)
            self._refuse(cannot_save(self.directory, exc))
            return
        if self.problem is not None:
            log.info("local_aws can save its state again: writes are accepted")
            self.problem = None

    def _refuse(self, problem: str) -> bool:
        began = self.problem is None
        if problem != self.problem:
            log.error("%s. Write requests are refused until then (reads are answered)", problem)
        self.problem = problem
        return began
