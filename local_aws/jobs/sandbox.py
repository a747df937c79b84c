"""A job's sandbox: what local_aws writes for a job stays in its /opt/ml stand-in, and what it reads back
from there (outputs to upload, messages) is the job's own regular files, never what a link points at.

On SageMaker these paths live in a container whose filesystem holds nothing of the host. Here a job's
/opt/ml is a directory on the user's machine, so a LocalPath /opt/ml/processing/../../../x, an S3 key
or a manifest entry with ../ segments, or a channel named `..` would reach beyond it: every such path
is resolved first and, when it leaves the directory it belongs in, the job fails with a ClientError
naming it. Reading back never follows a symbolic link (SageMaker: "Symlinks are not followed when
uploading output data"), so a link the job made to ~/.ssh/id_rsa is skipped, not uploaded.
"""

from __future__ import annotations

import os
import posixpath
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

from local_aws.job_side.opt_ml_guard import CONTAINER_ROOT
from local_aws.jobs.specs import ContainerError


def _under(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip("/") + "/")


def resolve(container_path: str, confined_to: str = CONTAINER_ROOT) -> str:
    """The container path with its `.` and `..` segments resolved; a ClientError when it is not under
    `confined_to` (e.g. /opt/ml/processing for a processing job's inputs and outputs)."""
    resolved = posixpath.normpath(container_path) if container_path.startswith("/") else container_path
    if _under(resolved, confined_to):
        return resolved
    if not _under(container_path, confined_to):
        raise ContainerError(
            f"ClientError: local path {container_path} is not under {confined_to}/; SageMaker "
            f"containers read and write this data under {confined_to}/."
        )
    raise ContainerError(
        f"ClientError: local path {container_path} resolves to {resolved}, outside "
        f"{confined_to}/; a job's paths must stay inside its container."
    )


def local_path(container_path: str, root: Path, confined_to: str = CONTAINER_ROOT) -> Path:
    """Where a container path is on a host's /opt/ml stand-in `root`, once resolved (see `resolve`)."""
    resolved = resolve(container_path, confined_to)
    return root.joinpath(resolved[len(CONTAINER_ROOT) :].lstrip("/"))


def placed(directory: str, relative: str, root: Path, source: str) -> Path:
    """Where `relative` (an S3 key below an input's prefix, a manifest entry, ...) lands below the container
    directory `directory` (leading slashes collapse, as in a key like data//x); a ClientError naming
    `source` when its ../ segments would take it anywhere else."""
    target = posixpath.normpath(posixpath.join(directory, relative.lstrip("/")))
    if not target.startswith(directory.rstrip("/") + "/"):
        raise ContainerError(
            f"ClientError: {source} would be written to {target}, outside the input's local "
            f"path {directory}; keys and manifest entries must not climb out of it with ../."
        )
    return local_path(target, root)


def is_inside(path: Path, root: Path) -> bool:
    """Whether `path`, its links and `..` resolved, is `root` or below it."""
    return _under(os.path.realpath(path), os.path.realpath(root))


def container_name(path: Path, root: Path) -> str:
    """A host path below `root` as the job sees it (/opt/ml/...), for messages."""
    relative = path.relative_to(root).as_posix()
    return CONTAINER_ROOT if relative == "." else f"{CONTAINER_ROOT}/{relative}"


def _first_link(path: Path, root: Path) -> Path | None:
    """The first symbolic link on the way from `root` down to `path`, `path` included."""
    current = root
    for part in path.relative_to(root).parts:
        current = current / part
        if current.is_symlink():
            return current
    return None


def regular_files(base: Path, root: Path, on_link: Callable[[Path], None]) -> Iterator[Path]:
    """The regular files below `base` (a directory in the stand-in `root`), sorted, without following a
    symbolic link anywhere: each link met is handed to `on_link` and skipped, with what lies behind it."""
    link = _first_link(base, root)
    if link is not None:
        on_link(link)
        return
    if not base.is_dir():
        return
    found = []
    for directory, subdirs, files in os.walk(base):  # does not enter linked directories
        for name in subdirs + files:
            path = Path(directory, name)
            if path.is_symlink():
                on_link(path)
            elif name in files and stat.S_ISREG(path.lstat().st_mode):
                found.append(path)
    yield from sorted(found)


def read_regular(path: Path) -> bytes | None:
    """A regular file's bytes, opened without following a link (nor blocking on a FIFO); None when `path`
    is missing, a symbolic link or anything but a regular file."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as handle:
        return handle.read() if stat.S_ISREG(os.fstat(fd).st_mode) else None


def read_inside(root: Path, container_path: str) -> bytes | None:
    """A container file's bytes from the stand-in `root` (see read_regular), None when a link is on its way."""
    path = local_path(container_path, root)
    return None if _first_link(path, root) else read_regular(path)
