"""The reserve: room on the state directory's file system, held for the next save.

A save writes what was acknowledged since the last one, and each snapshot anew beside the old one before it
replaces it, so it needs room. The reserve is a file of allocated blocks (not a sparse file: the blocks are
taken from the file system) in the state directory, as large as the next save may need: when a save finds
the file system full, the reserve is given back and the save completes in its room
(local_aws.core.runtime.durability decides its size and what is refused meanwhile).
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

FILE_NAME = "reserve"
_ZEROS = bytes(1 << 20)
_STEP = 64 << 10  # the reserve takes what is free down to this much


class Reserve:
    """The reserve file and the bytes it holds."""

    def __init__(self, path: Path):
        self.path = path
        self.size = 0

    def take_over(self) -> None:
        """Count the reserve a server of this state directory left behind (a kill -9 leaves it in place)."""
        try:
            self.size = self.path.stat().st_size
        except FileNotFoundError:
            self.size = 0

    def resize(self, size: int) -> None:
        """Hold `size` bytes. Raises the OSError of a file system that cannot give them (ENOSPC), holding what
        it held before."""
        if size == self.size:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if size > self.size:
                try:
                    _allocate(fd, self.size, size - self.size)
                except OSError:
                    os.ftruncate(fd, self.size)  # give back what a partial allocation took
                    raise
            else:
                os.ftruncate(fd, size)
        finally:
            os.close(fd)
        self.size = size

    def take_what_is_free(self, size: int) -> None:
        """Hold as much of `size` as the file system has free (the room a full disk has left is kept for the
        next save, not left to other programs)."""
        try:
            stat = os.statvfs(self.path.parent)
        except OSError:
            return
        size = min(size, self.size + stat.f_bavail * stat.f_frsize)
        while size - self.size >= _STEP:
            try:
                self.resize(size)
                return
            except OSError as exc:
                if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
                    return
                size = self.size + (size - self.size) // 2

    def release(self) -> bool:
        """Give the room back to the file system; False when there was none to give."""
        held = self.size > 0
        self.resize(0)
        return held

    def forget(self) -> None:
        """The file went with the state directory (a reset)."""
        self.size = 0


def _allocate(fd: int, offset: int, length: int) -> None:
    """Take the blocks of [offset, offset + length) from the file system."""
    if hasattr(os, "posix_fallocate"):  # Linux: the blocks are allocated at once, none written
        os.posix_fallocate(fd, offset, length)
        return
    os.lseek(fd, offset, os.SEEK_SET)  # elsewhere (macOS): zeros written
    while length > 0:
        length -= os.write(fd, _ZEROS[: min(length, len(_ZEROS))])
