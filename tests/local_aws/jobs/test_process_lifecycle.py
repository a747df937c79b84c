"""Job processes end with the server however it ends: after kill -9 no job process survives it (the
parent-death signal on Linux), and the sweep at a server's start kills the process groups a dead server
left behind, never a process that is not that server's job."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support import wait_until
from support.jobs import PROCESSING_BUCKET, gone, put_script, start_processing

from local_aws.jobs import sweep_orphans

# A job whose script starts a grandchild, says who they are in PIDS_FILE (a file of the test's), and sleeps.
SLEEPER = """
    import json, os, subprocess, sys, time
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    pids = {"job": os.getpid(), "grandchild": child.pid, "group": os.getpgid(0)}
    with open(os.environ["PIDS_FILE"] + ".tmp", "w") as fh:
        json.dump(pids, fh)
    os.rename(os.environ["PIDS_FILE"] + ".tmp", os.environ["PIDS_FILE"])
    time.sleep(300)
"""
SLEEP = [sys.executable, "-c", "import time; time.sleep(300)"]


def start_sleeper(server, pids_file: Path) -> dict[str, int]:
    """Run the sleeper job on `server`; the pids of its processes once they run."""
    s3 = server.client("s3")
    s3.create_bucket(Bucket=PROCESSING_BUCKET)
    put_script(s3, "sleeper.py", SLEEPER)
    start_processing(server.client("sagemaker"), "sleeper", "sleeper.py", env={"PIDS_FILE": str(pids_file)})
    wait_until(pids_file.exists, timeout=60, interval=0.1, what="the sleeper's processes")
    return json.loads(pids_file.read_text())


def kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def record_as_a_dead_server(home: Path, groups: dict[int, Path]) -> None:
    """Record process groups as jobs of a server that has ended (a process that records them and exits)."""
    code = (
        "import sys; from pathlib import Path; from local_aws.jobs.process_registry import register\n"
        "for pgid, opt_ml in zip(sys.argv[2::2], sys.argv[3::2]): register(Path(sys.argv[1]), int(pgid), "
        "Path(opt_ml))"
    )
    subprocess.run([sys.executable, "-c", code, str(home), *(str(v) for g in groups.items() for v in g)], check=True)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the parent-death signal is Linux's")
def test_no_job_process_outlives_a_killed_server(own_server, tmp_path):
    pids = start_sleeper(own_server, tmp_path / "pids.json")
    assert not any(gone(pid) for pid in pids.values())
    own_server.kill()
    wait_until(
        lambda: [name for name, pid in pids.items() if not gone(pid)],
        lambda alive: not alive,
        timeout=5,
        interval=0.1,
        what="the end of the job's processes (supervisor, script, grandchild)",
    )


def test_the_sweep_kills_what_a_dead_server_left_and_spares_a_live_servers_jobs(own_server, tmp_path):
    pids = start_sleeper(own_server, tmp_path / "pids.json")
    try:
        assert sweep_orphans(own_server.server_home) == []  # their server runs: they are its jobs
        assert not any(gone(pid) for pid in pids.values())
        os.killpg(pids["group"], signal.SIGSTOP)  # stopped, they cannot act on the parent-death signal
        own_server.kill()
        time.sleep(1)
        assert not any(gone(pid) for pid in pids.values())  # left behind, as without the signal
        assert sweep_orphans(own_server.server_home) == [pids["group"]]
        wait_until(
            lambda: [pid for pid in pids.values() if not gone(pid)],
            lambda alive: not alive,
            timeout=5,
            interval=0.1,
            what="the end of the left-behind job processes",
        )
        assert sweep_orphans(own_server.server_home) == []
    finally:
        kill_group(pids["group"])


def test_the_sweep_never_kills_a_process_that_is_not_the_recorded_job(tmp_path):
    home = tmp_path / "home" / "4577"
    job_dir = home / "jobs" / "processing" / "left" / "algo-1"
    leftover = subprocess.Popen(SLEEP, start_new_session=True, env={**os.environ, "LOCAL_AWS_OPT_ML": str(job_dir)})
    stranger = subprocess.Popen(
        SLEEP, start_new_session=True, env={k: v for k, v in os.environ.items() if k != "LOCAL_AWS_OPT_ML"}
    )
    elsewhere = tmp_path / "other-home" / "jobs" / "processing" / "x" / "algo-1"  # a job of another home
    foreign_job = subprocess.Popen(
        SLEEP, start_new_session=True, env={**os.environ, "LOCAL_AWS_OPT_ML": str(elsewhere)}
    )
    try:
        record_as_a_dead_server(home, {leftover.pid: job_dir, stranger.pid: job_dir, foreign_job.pid: elsewhere})
        assert sweep_orphans(home) == [leftover.pid]
        assert leftover.wait(timeout=5) == -signal.SIGKILL
        assert stranger.poll() is None and foreign_job.poll() is None
        assert sweep_orphans(home) == []  # the records are gone
    finally:
        for process in (leftover, stranger, foreign_job):
            process.kill()
            process.wait()
