"""The job process groups a server runs, recorded under its home, so that the next start ends those a
killed server left behind.

Each running host's process group (led by its supervisor, see supervisor) has a record file under
<home>/job_processes/ while it runs: its group id, its /opt/ml stand-in and the server that started
it. On Linux the supervisor takes the group down with the server; `sweep_orphans` is the net under
that (and the way elsewhere): at a server's start it kills every recorded group whose server is gone,
once a process of the group proves to be that job's by its environment (LOCAL_AWS_OPT_ML naming the
recorded stand-in, inside this home). A recorded id that now belongs to anything else is left alone.
"""

from __future__ import annotations

import json
import logging
import os
import signal
from pathlib import Path

import psutil

from local_aws import settings

log = logging.getLogger("local_aws.jobs")

RECORDS_DIR = "job_processes"
_STARTED_TOLERANCE = 0.01  # seconds: psutil recomputes a process's start time from clock ticks


def register(home: Path, pgid: int, opt_ml: Path) -> Path:
    """Record a running job process group of this server; returns the record to pass to `unregister`."""
    folder = home / RECORDS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    server = psutil.Process()
    record = folder / f"{pgid}.json"
    record.write_text(
        json.dumps(
            {"pgid": pgid, "opt_ml": str(opt_ml), "server_pid": server.pid, "server_started": server.create_time()}
        )
    )
    return record


def unregister(record: Path) -> None:
    """Forget a group once its processes are gone."""
    record.unlink(missing_ok=True)


def sweep_orphans(home: Path) -> list[int]:
    """Kill the job process groups a previous server of this home left running; returns their ids.

    Call it at a server's start, once the server holds its port (so no other server of this home runs).
    """
    killed = []
    for record_file in sorted((home / RECORDS_DIR).glob("*.json")):
        try:
            record = json.loads(record_file.read_text())
        except (OSError, ValueError):
            record_file.unlink(missing_ok=True)
            continue
        if _server_running(record):
            continue
        if _is_job_group(record, home):
            try:
                os.killpg(record["pgid"], signal.SIGKILL)
                killed.append(record["pgid"])
            except ProcessLookupError:
                pass
        record_file.unlink(missing_ok=True)
    return killed


def _server_running(record: dict) -> bool:
    """Whether the server that recorded the group still runs (the same process, not a reused pid)."""
    try:
        started = psutil.Process(record["server_pid"]).create_time()
    except psutil.Error:
        return False
    return abs(started - record["server_started"]) < _STARTED_TOLERANCE


def _is_job_group(record: dict, home: Path) -> bool:
    """Whether a process of the recorded group carries the job's stand-in, inside this home, in its environment."""
    opt_ml = record["opt_ml"]
    if not Path(os.path.realpath(opt_ml)).is_relative_to(os.path.realpath(home)):
        return False
    for process in psutil.process_iter():
        try:
            if os.getpgid(process.pid) == record["pgid"] and process.environ().get(settings.JOB_OPT_ML.name) == opt_ml:
                return True
        except (OSError, psutil.Error):
            continue
    return False


def sweep_at_start(home: Path) -> None:
    killed = sweep_orphans(home)
    if killed:
        log.warning("killed %d job process group(s) a previous server left running: %s", len(killed), killed)
