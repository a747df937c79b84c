"""The first process of each host of a job, as a container's init: no job process outlives it or the server.

local_aws starts `python -I -S supervisor.py <server pid> <status fd> <opt_ml> <command...>` in a new
session (isolated and without site: it imports the standard library only and starts in milliseconds),
so it leads the host's process group. Given the host's directory as <opt_ml> (an empty argument: none),
it first gives itself and so the command a private /opt/ml that is that directory (see opt_ml_mount).
It starts the job's command in that group and reports on the status pipe: `started`, or
`error <reason>` when /opt/ml or the command cannot be set up; then `exit <code>` when the command
ends (a negative code is the signal that ended it). Then it kills every process left in the group,
itself included, as the end of a container takes down every process in it.

It kills the group when the server dies too, however it dies: on Linux the kernel signals it when the
server thread that started it ends (prctl PR_SET_PDEATHSIG), kill -9 included; elsewhere it checks
every second that its parent is still the server. A stop's SIGTERM reaches the whole group: the
command handles it, and the supervisor waits for the command's end.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import sys

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
PARENT_DEATH_SIGNAL = signal.SIGUSR1
PARENT_CHECK_SECONDS = 1.0


def end_group(*_: object) -> None:
    """Kill every process of the group, this one included."""
    os.killpg(0, signal.SIGKILL)


def follow_server(server_pid: int) -> None:
    """End the group when the server is gone."""

    def check_parent(*_: object) -> None:
        if os.getppid() != server_pid:
            end_group()

    if sys.platform.startswith("linux"):
        import ctypes

        signal.signal(PARENT_DEATH_SIGNAL, end_group)
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(PARENT_DEATH_SIGNAL), 0, 0, 0)
    else:
        signal.signal(signal.SIGALRM, check_parent)
        signal.setitimer(signal.ITIMER_REAL, PARENT_CHECK_SECONDS, PARENT_CHECK_SECONDS)
    check_parent()  # the server may have died before the signal was armed


def private_opt_ml(root: str) -> None:
    """Enter a mount namespace whose /opt/ml is `root` (opt_ml_mount, loaded by path: no package here)."""
    spec = importlib.util.spec_from_file_location(
        "opt_ml_mount", os.path.join(os.path.dirname(__file__), "opt_ml_mount.py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.enter(root)


def main(argv: list[str]) -> None:
    server_pid, status_fd, opt_ml, command = int(argv[0]), int(argv[1]), argv[2], argv[3:]
    os.set_inheritable(status_fd, False)  # the command must not hold the status pipe open
    if opt_ml:
        try:
            private_opt_ml(opt_ml)  # before the parent-death signal: entering a namespace may clear it
        except OSError as exc:
            os.write(status_fd, f"error this job could not get a private /opt/ml: {exc.strerror or exc}\n".encode())
            sys.exit(127)
    follow_server(server_pid)
    signal.signal(signal.SIGTERM, lambda *_: None)  # meant for the command: wait for its end
    try:
        child = os.posix_spawnp(command[0], command, os.environ)
    except OSError as exc:
        os.write(status_fd, f"error [Errno {exc.errno}] {exc.strerror}: {command[0]!r}\n".encode())
        sys.exit(127)
    os.write(status_fd, b"started\n")
    _, status = os.waitpid(child, 0)
    os.write(status_fd, f"exit {os.waitstatus_to_exitcode(status)}\n".encode())
    end_group()


if __name__ == "__main__":
    main(sys.argv[1:])
