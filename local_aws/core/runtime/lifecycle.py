"""Start, find, reset and stop a local_aws server running in the background."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from local_aws import settings
from local_aws.core.gateway import admin_token
from local_aws.core.runtime.config import STALE_VARIABLES, client_environment, endpoint_url, home_dir, port_from_env
from local_aws.core.runtime.persistence import state_dir


class LocalAwsError(RuntimeError):
    """The server could not be started, reached or stopped; the message says what to do."""


def _call(port: int, name: str, method: str = "GET", timeout: float = 2.0) -> dict:
    """An admin command; a POST carries the server's admin token, and a refusal is a LocalAwsError."""
    headers = {admin_token.HEADER: _admin_token(port)} if method == "POST" else {}
    request = urllib.request.Request(
        f"{endpoint_url(port)}/_local_aws/{name}",
        method=method,
        headers=headers,
        data=b"" if method == "POST" else None,
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as err:
        if method != "POST":
            raise
        raise LocalAwsError(f"local_aws refused {name}: {err.read().decode(errors='replace')}") from None


def _admin_token(port: int) -> str:
    """The running server's admin token, from the file it wrote beside its log (only its user can read it)."""
    log_file = _call(port, "health").get("log")
    home = Path(log_file).parent if log_file else home_dir(port)
    try:
        return admin_token.read(home)
    except OSError as exc:
        raise LocalAwsError(
            f"cannot read local_aws's admin token in {home} ({exc.strerror}); run this as the user "
            "who started local_aws"
        ) from None


def status(port: int | None = None) -> dict | None:
    """The running server's health record, or None when nothing answers on the port."""
    port = port_from_env(port)
    try:
        health = _call(port, "health", timeout=1.0)
    except (
        urllib.error.URLError,
        ConnectionError,
        TimeoutError,
        OSError,
        json.JSONDecodeError,
        http.client.HTTPException,
    ):  # HTTPException: a server stopping cut its answer short
        return None
    if health.get("service") != "local_aws":
        raise LocalAwsError(
            f"port {port} answers, but not as local_aws; choose another port with --port or LOCAL_AWS_PORT"
        )
    return health


def _port_taken(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def ensure_running(port: int | None = None, timeout: float = 60.0) -> dict:
    """Start the server in the background unless it already runs; return its health record."""
    port = port_from_env(port)
    health = status(port)
    if health:
        return health
    if _port_taken(port):
        raise LocalAwsError(f"port {port} is in use by another program; pick a free one with --port or LOCAL_AWS_PORT")
    log_path = home_dir(port) / "server.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "local_aws", "serve", "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            close_fds=True,
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise LocalAwsError(f"local_aws exited with code {process.returncode} while starting; see {log_path}")
        health = status(port)
        if health:
            return health
        time.sleep(0.1)
    process.terminate()
    raise LocalAwsError(f"local_aws did not answer on port {port} within {timeout:.0f} s; see {log_path}")


def reset(port: int | None = None) -> None:
    """Forget all state for good, saved state included: buckets, feature groups, jobs, pipelines,
    model packages. Works whether the server runs or not."""
    port = port_from_env(port)
    if status(port):
        _call(port, "reset", method="POST", timeout=60)
    else:
        shutil.rmtree(state_dir(home_dir(port)), ignore_errors=True)


def flush(port: int | None = None) -> dict:
    """Write everything buffered now (the Feature Store's offline store); returns what was written."""
    port = port_from_env(port)
    if not status(port):
        raise LocalAwsError(f"local_aws is not running on port {port}; start it with `python -m local_aws start`")
    return _call(port, "flush", method="POST", timeout=60)


def stop(port: int | None = None, timeout: float = 60.0) -> bool:
    """Stop the server cleanly (pending offline-store writes are flushed first). False if none ran. Raises
    LocalAwsError when it stopped without saving all of its state (the server answers the stop once its final
    save is done), or did not stop in time."""
    port = port_from_env(port)
    health = status(port)
    if not health:
        return False
    answer: dict = {}
    try:
        answer = _call(port, "shutdown", method="POST", timeout=timeout)
    except (OSError, LocalAwsError):  # no token to read, or no answer: the signal stops it as cleanly
        os.kill(health["pid"], signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not status(port) and not _pid_alive(health["pid"]):
            if answer.get("saved") is False:
                raise LocalAwsError(f"local_aws stopped without saving all of its state. {answer.get('problem')}")
            return True
        time.sleep(0.1)
    raise LocalAwsError(f"local_aws (pid {health['pid']}) did not stop within {timeout:.0f} s")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie child of this process counts as gone
        return os.waitpid(pid, os.WNOHANG) == (0, 0)
    except ChildProcessError:
        return True


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def temporary_server() -> Iterator[dict]:
    """A local_aws of its own on a free port, with a throwaway LOCAL_AWS_HOME, stopped on exit.

    For runs that must neither see nor disturb another server's state (benchmarks, test runs).
    Inside the block this process's environment points boto3 (its default session too), the SDK and any
    child process at it, with the key pair it issued;
    the environment is restored afterwards. Yields the server's health record (port, pid, endpoint).
    """
    saved = dict(os.environ)
    boto3 = sys.modules.get("boto3")  # its default session, if any, holds another server's (or AWS's) credentials
    saved_session = boto3.DEFAULT_SESSION if boto3 else None
    home = tempfile.mkdtemp(prefix="local_aws_")
    port = free_port()
    os.environ[settings.HOME.name] = home
    try:
        health = ensure_running(port)
        for name in STALE_VARIABLES:
            os.environ.pop(name, None)
        os.environ.update(client_environment(port))
        if boto3:
            boto3.DEFAULT_SESSION = None  # boto3.client() makes a new one, from this environment
        yield health
    finally:
        stop(port)
        os.environ.clear()
        os.environ.update(saved)
        if boto3:
            boto3.DEFAULT_SESSION = saved_session
        shutil.rmtree(home, ignore_errors=True)
