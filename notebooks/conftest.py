"""Run the notebooks under nbval (`make test`) against a fresh local_aws of their own.

The notebooks run in order (00 ... 06, then 99) on one xdist worker (`--dist loadgroup`, group
"tutorial"). Before the first cell, a dedicated local_aws server starts with its own home, port
and network-guard log, and this process's environment points at it, so every notebook kernel
(which inherits the environment when it starts) talks to it and nothing else; the conftest
`server` fixture of tests/ is neither used nor disturbed. After the last notebook the server
stops and the environment is restored. tests/test_notebooks_network.py then checks the guard's log.
"""
from __future__ import annotations

import os
import shutil
import socket
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import local_aws

GROUP = "tutorial"
NETWORK_TEST = "test_notebooks_network.py::test_the_notebooks_opened_no_connection_outside_loopback"


@dataclass
class TutorialRun:
    """The dedicated server of one nbval run of the notebooks."""

    home: Path | None = None
    port: int | None = None
    saved_environment: dict[str, str] = field(default_factory=dict)
    finished: bool = False

    @property
    def netguard_log(self) -> Path | None:
        return self.home / "netguard.log" if self.home else None


RUN = TutorialRun()


def is_notebook_cell(item: pytest.Item) -> bool:
    return item.path.suffix == ".ipynb" and item.path.parent == Path(__file__).parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Notebook cells and the network check form one group, in order, the check last."""
    cells = [item for item in items if is_notebook_cell(item)]
    checks = [item for item in items if item.nodeid.endswith(NETWORK_TEST)]
    for item in cells + checks:
        item.add_marker(pytest.mark.xdist_group(GROUP))
        item.add_marker(pytest.mark.notebooks)
    if cells and checks:
        for check in checks:
            items.remove(check)
        position = items.index(cells[-1]) + 1
        items[position:position] = checks


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Before the first cell (and so before its kernel starts): a fresh server for the notebooks."""
    if not is_notebook_cell(item) or RUN.home is not None:
        return
    RUN.home = Path(tempfile.mkdtemp(prefix="tutorial-local-aws-"))
    RUN.port = _free_port()
    RUN.saved_environment = dict(os.environ)
    os.environ.update({"LOCAL_AWS_HOME": str(RUN.home), "LOCAL_AWS_NETGUARD_LOG": str(RUN.netguard_log)})
    local_aws.ensure_running(RUN.port)
    os.environ.update(local_aws.client_environment(RUN.port))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None):
    """After the last cell of the last notebook (its kernel has stopped): stop the server."""
    yield
    if is_notebook_cell(item) and RUN.home is not None and not RUN.finished:
        if nextitem is None or not is_notebook_cell(nextitem):
            local_aws.stop(RUN.port)
            os.environ.clear()
            os.environ.update(RUN.saved_environment)
            RUN.finished = True


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Never leave the server running (an interrupted run), and remove its home."""
    if RUN.home is None:
        return
    if not RUN.finished:
        local_aws.stop(RUN.port)
        os.environ.clear()
        os.environ.update(RUN.saved_environment)
        RUN.finished = True
    shutil.rmtree(RUN.home, ignore_errors=True)
