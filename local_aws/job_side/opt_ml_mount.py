"""A job host's own /opt/ml: a private mount namespace in which the host's directory is bound at /opt/ml.

On SageMaker each job runs in a container whose /opt/ml is its own. Here the supervisor of each host
(see supervisor) calls `enter(root)` before it starts the job's command: unshare(2) gives it a mount
namespace of its own (without root, or as a root without CAP_SYS_ADMIN, inside a user namespace that
maps the user to itself), every mount is made private so nothing propagates back to the machine, and
`root` is bind-mounted at /opt/ml. The command and every process it starts then see /opt/ml as in a
container, literal paths, os.path.exists, shell tools and C++ readers alike, and two jobs running at
once each see their own.

The mount point is made where it is missing: as root, the directory /opt/ml itself; without root, a
tmpfs over /opt inside the namespace that holds /opt's own entries, bound back, next to ml.
`unavailable()` says, once per server, why a job cannot have its own /opt/ml (not Linux, unshare refused,
LOCAL_AWS_JOB_ISOLATION=off): jobs then run with /opt/ml rewritten (see container). Standard library
only, and nothing at import but definitions: the supervisor loads this file by its path.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os
import subprocess
import sys
import tempfile

CONTAINER_ROOT = "/opt/ml"
PROBE_TIMEOUT_SECONDS = 30
# From <sched.h> and <sys/mount.h>.
CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 0x40000
MNT_DETACH = 2


def enter(root: str) -> None:
    """Give this process, single-threaded and before it starts anything, a private /opt/ml that is `root`;
    a working directory inside `root` moves to the same place under /opt/ml. OSError says what failed."""
    if not sys.platform.startswith("linux"):
        raise OSError(errno.ENOSYS, f"{sys.platform} has no mount namespaces")
    libc = ctypes.CDLL(None, use_errno=True)
    uid, gid = os.geteuid(), os.getegid()
    if uid != 0 or libc.unshare(CLONE_NEWNS) != 0:  # without root (or its CAP_SYS_ADMIN): a user namespace
        _check(libc.unshare(CLONE_NEWUSER | CLONE_NEWNS), "unshare(CLONE_NEWUSER | CLONE_NEWNS)")
        for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
            with open(f"/proc/self/{name}", "w") as fh:
                fh.write(text)
    _mount(libc, None, "/", MS_REC | MS_PRIVATE, "making the mounts private")
    if not os.path.isdir(CONTAINER_ROOT):
        _make_mount_point(libc, root)
    _mount(libc, root, CONTAINER_ROOT, MS_BIND | MS_REC, f"binding {root} at {CONTAINER_ROOT}")
    cwd, real_root = os.getcwd(), os.path.realpath(root)
    if cwd == real_root or cwd.startswith(real_root + "/"):
        os.chdir(CONTAINER_ROOT + cwd[len(real_root) :])


def _make_mount_point(libc: ctypes.CDLL, root: str) -> None:
    """/opt/ml where it is missing: the directory, or (where /opt is not writable) a tmpfs over /opt in this
    namespace holding /opt's entries, each bound back from a stash next to `root`, and an empty ml."""
    try:
        os.makedirs(CONTAINER_ROOT, exist_ok=True)
        return
    except OSError as exc:
        if not os.path.isdir("/opt"):
            raise OSError(exc.errno, f"cannot create the mount point {CONTAINER_ROOT}: {exc.strerror}") from None
    stash = tempfile.mkdtemp(prefix=".opt-", dir=os.path.dirname(root))
    _mount(libc, "/opt", stash, MS_BIND | MS_REC, "stashing /opt")
    _mount(libc, "tmpfs", "/opt", 0, "mounting a tmpfs over /opt", fstype="tmpfs")
    for name in os.listdir(stash):
        source, target = os.path.join(stash, name), os.path.join("/opt", name)
        if os.path.islink(source):
            os.symlink(os.readlink(source), target)
            continue
        if os.path.isdir(source):
            os.mkdir(target)
        else:
            open(target, "x").close()
        _mount(libc, source, target, MS_BIND | MS_REC, f"binding /opt/{name} back")
    os.mkdir(CONTAINER_ROOT)
    libc.umount2(stash.encode(), MNT_DETACH)
    os.rmdir(stash)


def _mount(
    libc: ctypes.CDLL, source: str | None, target: str, flags: int, what: str, fstype: str | None = None
) -> None:
    def encode(text: str | None) -> bytes | None:
        return text.encode() if text is not None else None

    _check(libc.mount(encode(source), encode(target), encode(fstype), ctypes.c_ulong(flags), None), what)


def _check(result: int, what: str) -> None:
    if result != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"{what}: {os.strerror(code)}")


def unavailable() -> str | None:
    """Why jobs on this machine cannot have their own /opt/ml, or None when they can."""
    from local_aws import settings  # here: the supervisor loads this module by path, with no package

    if settings.JOB_ISOLATION() == "off":
        return f"{settings.JOB_ISOLATION.name} is off"
    if not sys.platform.startswith("linux"):
        return f"{sys.platform} has no mount namespaces"
    return _probe()


@functools.lru_cache(maxsize=1)
def _probe() -> str | None:
    """Run `enter` once in a process of its own on a directory holding a marker, and see the marker."""
    with tempfile.TemporaryDirectory(prefix="local_aws-opt-ml-probe-") as root:
        open(os.path.join(root, "marker"), "w").close()
        try:
            done = subprocess.run(
                [sys.executable, "-I", "-S", __file__, root],
                capture_output=True,
                text=True,
                timeout=PROBE_TIMEOUT_SECONDS,
                stdin=subprocess.DEVNULL,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"the check could not run: {exc}"
    return None if done.returncode == 0 else (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]


def _probe_main(root: str) -> None:
    try:
        enter(root)
    except OSError as exc:
        sys.exit(exc.strerror or str(exc))
    if not os.path.exists(os.path.join(CONTAINER_ROOT, "marker")):
        sys.exit(f"the directory bound at {CONTAINER_ROOT} does not show there")


if __name__ == "__main__":
    _probe_main(sys.argv[1])
