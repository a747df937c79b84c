"""A local_aws server of a test's own that it can stop, kill and start again on the same port and home,
to check what survives (the `server` fixture is shared by a whole test worker and never restarts)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import boto3

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
