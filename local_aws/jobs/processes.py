"""A host's processes: the job's command, started under its supervisor in a process group of its own that
is recorded under the server's home while it runs (see supervisor and process_registry), and, where the
machine allows it, in a mount namespace whose /opt/ml is the host's directory (see opt_ml_mount).

The thread that starts a host is the job's thread, which waits for the host's end (see container):
on Linux the parent-death signal fires when that thread ends, so it must outlive what it starts.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import IO

from local_aws import job_side
from local_aws.jobs import process_registry
from local_aws.jobs.specs import ContainerError

SUPERVISOR = job_side.SUPERVISOR


class HostProcess:
    """One host's command under its supervisor: its output, its signals and, at its end, its exit code."""

    def __init__(self, argv: list[str], root: Path, env: dict[str, str], home: Path, private_opt_ml: bool):
        status_read, status_write = os.pipe()
        opt_ml = str(root) if private_opt_ml else ""
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-I", "-S", str(SUPERVISOR), str(os.getpid()), str(status_write), opt_ml, *argv],
                cwd=root,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                pass_fds=(status_write,),
            )
        except OSError as exc:
            os.close(status_read)
            raise ContainerError(f"ClientError: cannot start the container command: {exc}") from None
        finally:
            os.close(status_write)
        self._record = process_registry.register(home, self._proc.pid, root)
        self._status = os.fdopen(status_read, "rb")
        self._exit_code: int | None = None
        started = self._status.readline().decode(errors="replace").strip()
        if started != "started":
            self.finish()
            reason = started.removeprefix("error ") or f"its supervisor ended with code {self._proc.returncode}"
            raise ContainerError(f"ClientError: cannot start the container command: {reason}")

    @property
    def stdout(self) -> IO[bytes]:
        assert self._proc.stdout is not None
        return self._proc.stdout

    def running(self) -> bool:
        return self._proc.poll() is None

    def wait(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for the end; whether it ended."""
        try:
            self._proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return False
        return True

    def signal(self, sig: int) -> None:
        """Signal the whole process group, while its supervisor runs (so the group is still this host's)."""
        if self.running():
            try:
                os.killpg(self._proc.pid, sig)
            except (ProcessLookupError, PermissionError):
                pass

    def finish(self) -> int | None:
        """Wait for the end and forget the group; the command's exit code (negative: the signal that ended
        it), or the supervisor's when the command never reported one."""
        if self._status.closed:
            return self._exit_code
        self._proc.wait()
        process_registry.unregister(self._record)
        report = self._status.read().decode(errors="replace").split()
        self._status.close()
        self._exit_code = int(report[-1]) if report[-2:-1] == ["exit"] else self._proc.returncode
        return self._exit_code
