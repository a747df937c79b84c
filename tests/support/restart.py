"""A local_aws server of a test's own that it can stop, kill and start again on the same port and home,
to check what survives (the `server` fixture is shared by a whole test worker and never restarts); its state
directory may be put on a small file system of its own, and that file system filled up."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import boto3
import pytest

import local_aws
from local_aws.core.iam import access_keys
from support.iam import create_test_roles


class OwnServer:
    """`python -m local_aws serve` in a process of its own; `home` is its LOCAL_AWS_HOME."""

    def __init__(self, home: Path, port: int | None = None, **env: str):
        home.mkdir(parents=True, exist_ok=True)
        self.home = home
        self.port = port or local_aws.free_port()
        self.env = {**os.environ, "LOCAL_AWS_HOME": str(home), "LOCAL_AWS_PORT": str(self.port), **env}
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> OwnServer:
        """Start it and return once it answers (its state restored)."""
        log = open(self.home / "serve.out", "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "local_aws", "serve", "--port", str(self.port)],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while not local_aws.status(self.port):  # not support.wait_until: a dead server must fail at once
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"local_aws did not start: {self.output()[-3000:]}")
            time.sleep(0.05)
        create_test_roles(self.session())
        return self

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> None:
        """Send `sig` (SIGTERM: a clean stop; SIGKILL: a crash) and wait for the process to end."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=timeout)

    def kill(self) -> None:
        """kill -9: a crash."""
        self.stop(signal.SIGKILL)

    @property
    def server_home(self) -> Path:
        """Where the server keeps its pid file, log, job directories and state (home_dir of its port)."""
        return self.home / str(self.port)

    def output(self) -> str:
        return (self.home / "serve.out").read_text(errors="replace")

    def session(self) -> boto3.Session:
        """A boto3 session whose clients reach this server (and nothing else), with the key pair it issued."""
        return _Session(local_aws.endpoint_url(self.port), access_keys.read(self.server_home))

    def client(self, service: str, **kwargs):
        return self.session().client(service, **kwargs)


class _Session(boto3.Session):
    def __init__(self, endpoint: str, keys: access_keys.KeyPair):
        super().__init__(
            aws_access_key_id=keys.access_key_id, aws_secret_access_key=keys.secret_access_key, region_name="us-east-1"
        )
        self.endpoint = endpoint

    def client(self, *args, **kwargs):  # type: ignore[override]
        kwargs.setdefault("endpoint_url", self.endpoint)
        return super().client(*args, **kwargs)


@contextmanager
def state_on_small_disk(server: OwnServer, size: str = "4m") -> Iterator[Path]:
    """Put the server's state directory on a file system of its own of `size` (a tmpfs) for the block, before
    the server starts; yields the directory. Mounting needs root: elsewhere the test is skipped, saying so."""
    state = server.server_home / "state"
    state.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(state)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"a small file system for the state directory needs `mount -t tmpfs` (root): {mounted.stderr}")
    try:
        yield state
    finally:
        server.kill()
        subprocess.run(["umount", "--lazy", str(state)], check=False)


def fill_up(directory: Path, name: str = "filler") -> Path:
    """Take every free byte of the file system `directory` is on, with one more file there; returns that file
    (deleting it makes the room again)."""
    path = directory / name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    chunk = 1 << 16
    try:
        while chunk:
            try:
                os.write(fd, bytes(chunk))
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                chunk //= 2  # the last free pages, smaller writes at a time
    finally:
        os.close(fd)
    return path
