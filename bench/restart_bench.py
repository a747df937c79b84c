"""How long local_aws takes to come back with the tutorial's state, against starting empty.

    .venv/bin/python bench/restart_bench.py [--starts 3]

Builds the state a learner has after the tutorial (notebooks 00 to 06 on a server of its own, not
timed), then, side by side and alternately: starts a server on an empty home (the baseline: the
interpreter, moto and the services' imports) and starts the server on the tutorial's home, which
loads the saved state before it answers. Each figure is the time from launching the process until it
answers its health check, the median of `--starts`. It also reports the clean stop (final save
included) and the state's size on disk.
Goal: a restart with the tutorial's state under 3 s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import local_aws
from helpers.tutorial_runner import TUTORIAL, run_notebook

REPO = Path(__file__).resolve().parents[1]
GOAL_SECONDS = 3.0


def start(home: Path, port: int) -> tuple[subprocess.Popen, float]:
    """Launch `python -m local_aws serve`; (process, seconds until it answered)."""
    env = {**os.environ, "LOCAL_AWS_HOME": str(home)}
    began = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "local_aws", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    while not local_aws.status(port):
        if process.poll() is not None:
            raise RuntimeError(f"local_aws exited with {process.returncode}; see {home}/{port}/server.log")
        time.sleep(0.01)
    return process, time.perf_counter() - began


def stop(process: subprocess.Popen) -> float:
    began = time.perf_counter()
    process.terminate()  # SIGTERM: the clean stop, final save included
    process.wait(timeout=120)
    return time.perf_counter() - began


def size_mib(folder: Path) -> float:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file()) / 2**20


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--starts", type=int, default=3, help="starts of each kind (default 3)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="restart-bench-"))
    tutorial_home, empty_home = work / "tutorial", work / "empty"
    port = local_aws.free_port()
    saved = dict(os.environ)
    try:
        os.environ["LOCAL_AWS_HOME"] = str(tutorial_home)
        process, _ = start(tutorial_home, port)
        os.environ.update(local_aws.client_environment(port))  # the key pair the server just issued
        for name in TUTORIAL:  # the state to restore, not timed
            run_notebook(REPO / "notebooks" / f"{name}.ipynb", work / f"{name}.ipynb", {})
        stopping = stop(process)
        empty, restored = [], []
        for _ in range(args.starts):
            shutil.rmtree(empty_home, ignore_errors=True)
            process, seconds = start(empty_home, port)
            empty.append(seconds)
            stop(process)
            process, seconds = start(tutorial_home, port)
            restored.append(seconds)
            stop(process)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    state = tutorial_home / str(port) / "state"
    fresh, again = statistics.median(empty), statistics.median(restored)
    print(
        f"tutorial state: {size_mib(state):.1f} MiB in {state.name}/ ({os.cpu_count()} CPUs, "
        f"load {os.getloadavg()[0]:.1f}); clean stop with the final save {stopping:.2f} s"
    )
    print(
        f"start on an empty home {fresh:.2f} s, start restoring the tutorial's state {again:.2f} s "
        f"(ratio {again / fresh:.2f}x, median of {args.starts}); goal under {GOAL_SECONDS:.0f} s: "
        f"{'met' if again < GOAL_SECONDS else 'missed'}"
    )
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
