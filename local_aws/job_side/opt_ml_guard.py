"""Refuse literal /opt/ml paths inside a job process that has no /opt/ml of its own, saying the fix.

A job's processes normally see their host's directory at /opt/ml itself (local_aws.job_side.opt_ml_mount).
Where the machine allows no private mount namespace, a job runs with /opt/ml/... rewritten to that
directory in the entrypoint, arguments and environment, and local_aws cannot see paths written
literally in a script. There an audit hook catches file operations on such paths: it records the path
(so the job's FailureReason can explain it) and raises FileNotFoundError naming the way out. Python
raises no audit event for stat, so os.path.exists on such a path answers False unseen.
Installed by `guard_site/sitecustomize.py` when LOCAL_AWS_OPT_ML_GUARD is set; imports nothing heavy.
"""

from __future__ import annotations

import errno
import os
import sys

from local_aws import settings

CONTAINER_ROOT = "/opt/ml"
RECORD_FILE = ".local_aws/unmapped_paths"  # under the job's /opt/ml stand-in
_PATH_EVENTS = frozenset(
    {
        "open",
        "os.listdir",
        "os.scandir",
        "os.mkdir",
        "os.chdir",
        "os.remove",
        "os.rmdir",
        "os.rename",
        "shutil.copyfile",
    }
)  # audit events whose first argument is a path
_installed = False


def is_container_path(path: object) -> bool:
    if isinstance(path, bytes):
        path = path.decode(errors="replace")
    if not isinstance(path, str):
        path = getattr(path, "__fspath__", lambda: None)()
        if not isinstance(path, str):
            return False
    return path == CONTAINER_ROOT or path.startswith(CONTAINER_ROOT + "/")


def explain(path: str, root: str) -> str:
    """Why a literal container path fails here, and how to pass it instead."""
    local = root + path[len(CONTAINER_ROOT) :]
    where = (
        f"The job's {path} is {local} here. "
        if os.path.exists(local)
        else f"Nothing is mapped at {path}: no input, output or channel has that local path. "
    )
    return (
        f"The script opened the container path {path} written literally in its code. This machine gives "
        f"jobs no /opt/ml of their own (see the job's log): local_aws runs the job as a local process whose "
        f"/opt/ml is {root}, and rewrites /opt/ml/... only in the entrypoint, the arguments and the "
        f"environment. {where}Pass the path as an argument instead "
        f"(e.g. ContainerArguments ['--input-dir', '/opt/ml/processing/input'] read with argparse, or "
        f"the SM_* environment variables in training) so it works both here and on AWS."
    )


def _hook(event: str, args: tuple) -> None:
    if event not in _PATH_EVENTS or not args:
        return
    path = args[0]
    if not is_container_path(path):
        return
    path = os.fsdecode(os.fspath(path))
    root = settings.JOB_OPT_ML()
    try:
        with open(os.path.join(root, RECORD_FILE), "a", encoding="utf-8") as fh:
            fh.write(path + "\n")
    except OSError:
        pass
    raise FileNotFoundError(errno.ENOENT, explain(path, root), path)


def install() -> None:
    global _installed
    if not _installed and settings.JOB_OPT_ML_GUARD() and settings.JOB_OPT_ML():
        sys.addaudithook(_hook)
        _installed = True
