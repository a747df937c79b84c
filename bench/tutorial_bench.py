"""Wall time of the tutorial on the local backend, per notebook (server start excluded).

    .venv/bin/python bench/tutorial_bench.py [--runs 2]

Starts a fresh local_aws on a free port (not timed), then runs notebooks 00 to 06 in order with
papermill, as `make tutorial` does. Side by side, as the baseline, it runs a one-cell notebook
that only starts a kernel, imports the helpers and the SDK and configures the session: the fixed
cost every notebook pays before its first AWS call (three times: twice before the runs, once after;
the ratio divides by their median). For each notebook it prints the total, the
kernel's start (papermill's time outside the cells), the cells (imports, jobs, pipeline
executions, queries, plots) and the ratio to the baseline. `--runs 2` runs the tutorial a second
time on the same server: `make tutorial` twice in a row.
Goal: under 90 s in total for one run on a 2-core machine; SageMaker needs about 15 minutes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

import nbformat

import local_aws
from helpers.tutorial_runner import TUTORIAL, run_notebook

REPO = Path(__file__).resolve().parents[1]

GOAL_SECONDS = 90
SAGEMAKER_MINUTES = 15


def cells_seconds(executed: Path) -> float:
    """Seconds papermill recorded inside the notebook's cells."""
    cells = nbformat.read(executed, as_version=4).cells
    return sum(float(c.metadata.get("papermill", {}).get("duration") or 0.0) for c in cells)


def baseline(work: Path) -> float:
    """A kernel that only imports and configures: the floor of any notebook."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.cells = [
        nbformat.v4.new_code_cell(
            "import helpers\nsetup = helpers.configure(backend='local')\n"
            "from sagemaker.core.processing import ScriptProcessor\nfrom sagemaker.mlops.workflow import Pipeline"
        )
    ]
    path = work / "baseline.ipynb"
    nbformat.write(notebook, path)
    return run_notebook(path, work / "baseline-out.ipynb", {})


def run_tutorial(work: Path, label: str, floor: float) -> float:
    print(f"\n{label}")
    print(f"{'notebook':<24} {'total s':>8} {'kernel start s':>15} {'cells s':>8} {'x baseline':>11}")
    total = 0.0
    for name in TUTORIAL:
        executed = work / f"{label}-{name}.ipynb"
        seconds = run_notebook(REPO / "notebooks" / f"{name}.ipynb", executed, {})
        cells = cells_seconds(executed)
        total += seconds
        print(f"{name:<24} {seconds:8.1f} {seconds - cells:15.1f} {cells:8.1f} {seconds / floor:11.1f}", flush=True)
    print(
        f"{'total':<24} {total:8.1f}   goal {GOAL_SECONDS} s: {'met' if total <= GOAL_SECONDS else 'missed'}; "
        f"about {SAGEMAKER_MINUTES * 60 / total:.0f}x faster than the ~{SAGEMAKER_MINUTES} min on SageMaker"
    )
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1, help="tutorial runs in a row on the same server (default 1)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tutorial-bench-"))
    with local_aws.temporary_server():  # setup, not timed; the notebooks' kernels inherit its environment
        # The machine's speed drifts (shared, noisy): the baseline is measured three times, before and after
        # the runs, and its median is the floor every ratio divides by.
        samples = [baseline(work), baseline(work)]
        floor = statistics.median(samples)
        print(
            f"baseline: a kernel that imports and configures takes {floor:.1f} s "
            f"({os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f})"
        )
        totals = [run_tutorial(work, f"run {run}", floor) for run in range(1, args.runs + 1)]
        samples.append(baseline(work))
        floor = statistics.median(samples)
        print(
            f"\nbaseline samples {', '.join(f'{s:.1f}' for s in samples)} s: median {floor:.1f} s; "
            f"tutorial total {', '.join(f'{t:.1f}' for t in totals)} s = "
            f"{', '.join(f'{t / floor:.1f}' for t in totals)} times the baseline"
        )
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
