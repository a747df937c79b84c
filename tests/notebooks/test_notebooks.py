"""nbval over every notebook, in order 00 ... 06 then 99, on a fresh local_aws of their own.

The notebooks depend on each other's AWS state, so they must run in order in one process. One
test item does it, wherever xdist puts it: a nested `pytest --nbval notebooks/` (nbval executes
each notebook in a fresh kernel and compares every output not tagged `nbval-ignore-output` with
the committed one, after notebooks/nbval_sanitize.cfg). Its environment points at a local_aws
started for it alone, with its own home, port and network-guard log; the kernels inherit that
environment, and the server's job processes inherit the guard log. (Per-cell xdist items grouped
with --dist loadgroup would be the obvious design, but pytest-xdist 3.8 marks groups by rewriting
item._nodeid, which pytest 9 no longer reads, so the cells would scatter over the workers.)
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from support import REPO

import local_aws

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


@pytest.fixture()
def notebook_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A local_aws for the notebooks only; yields the environment their kernels must see."""
    log = tmp_path / "netguard.log"
    monkeypatch.setenv("LOCAL_AWS_NETGUARD_LOG", str(log))  # the server and its jobs inherit it
    with local_aws.temporary_server():
        yield dict(os.environ), log


def test_every_notebook_runs_in_order_with_its_recorded_outputs_and_nothing_leaves_loopback(notebook_server):
    env, log = notebook_server
    assert [p.name for p in NOTEBOOKS] == [
        "00_setup.ipynb",
        "01_feature_store_check.ipynb",
        "02_ingest.ipynb",
        "03_train.ipynb",
        "04_register.ipynb",
        "05_build_pipeline.ipynb",
        "06_inspect_executions.ipynb",
        "99_cleanup.ipynb",
    ]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:xdist",
            "-q",
            "--nbval",
            "--nbval-current-env",
            "--nbval-sanitize-with",
            str(REPO / "notebooks" / "nbval_sanitize.cfg"),
            *map(str, NOTEBOOKS),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, f"nbval failed:\n{result.stdout[-12000:]}\n{result.stderr[-3000:]}"
    assert " passed" in result.stdout and "failed" not in result.stdout, result.stdout[-3000:]
    blocked = log.read_text() if log.exists() else ""
    assert blocked == "", f"connections outside loopback were attempted (and refused) during the notebooks:\n{blocked}"
