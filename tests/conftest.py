"""Shared fixtures: a real local_aws server per test worker, reached over HTTP as a user would.

Every test process refuses connections outside loopback (local_aws.netguard), so a test that
would reach the network fails loudly instead of passing by accident.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest

import local_aws
from local_aws import free_port
from local_aws.core.runtime.config import STALE_VARIABLES
from local_aws.job_side import netguard

netguard.install()

REPO = Path(__file__).resolve().parents[1]
# The two longest tests (two minutes each: the notebook sequence as a Studio user, and under nbval) start
# at once, each on a worker of its own, rather than meeting at the end of the run with the others idle.
LONGEST = ("tests/helpers/test_tutorial_runner.py::test_a_full_run", "tests/notebooks/test_notebooks.py::")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    longest = [item for item in items if item.nodeid.startswith(LONGEST)]
    if workers < 2 or not longest:
        return
    rest = [item for item in items if not item.nodeid.startswith(LONGEST)]
    chunk = max(len(items) // workers // 4, 2)  # the first batch xdist sends each worker (--dist load)
    for position, item in zip(range(0, chunk * len(longest), chunk), longest):
        rest.insert(position, item)
    items[:] = rest


class Server:
    """A `python -m local_aws serve` process on a free port with its own LOCAL_AWS_HOME."""

    def __init__(self, home: Path):
        self.port = free_port()
        self.home = home
        self.env = {
            **os.environ,
            "LOCAL_AWS_HOME": str(home),
            "LOCAL_AWS_PORT": str(self.port),
            "LOCAL_AWS_NETGUARD_LOG": str(home / "netguard.log"),
        }
        self.log = open(home / "serve.out", "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "local_aws", "serve", "--port", str(self.port)],
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while not local_aws.status(self.port):  # not support.wait_until: a dead server must fail at once
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"local_aws did not start: {(home / 'serve.out').read_text()[-3000:]}")
            time.sleep(0.1)
        self.endpoint = local_aws.endpoint_url(self.port)

    def client_env(self) -> dict[str, str]:
        """What `python -m local_aws env` exports for this server: its endpoint and the key pair it issued."""
        return local_aws.client_environment(self.port, home=self.home / str(self.port))

    def stop(self) -> None:
        local_aws.stop(self.port)
        self.process.wait(timeout=30)
        self.log.close()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Server:
    srv = Server(tmp_path_factory.mktemp("local_aws_home"))
    saved = dict(os.environ)
    for name in STALE_VARIABLES:  # a session token of AWS in the runner's environment would not go with its keys
        os.environ.pop(name, None)
    os.environ.update(srv.client_env())
    os.environ["LOCAL_AWS_HOME"] = str(srv.home)
    yield srv
    srv.stop()
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture()
def aws(server: Server) -> boto3.Session:
    """A boto3 session against a freshly reset local_aws, as the account's administrator, with the roles the
    suite's builders pass to SageMaker (support.iam.TEST_ROLES)."""
    from support.iam import reset_with_test_roles

    return reset_with_test_roles(server.port)


@pytest.fixture()
def own_server(tmp_path: Path):
    """A server of the test's own (home under tmp_path) that it may stop, kill and start again; stopped after."""
    from support.restart import OwnServer

    own = OwnServer(tmp_path / "own_server").start()
    yield own
    own.kill()
