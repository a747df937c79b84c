"""`make lab`: JupyterLab on a working copy of the notebooks, with local_aws running and every kernel
pointed at it.

    make lab [LAB_PORT=8890] [LAB_ARGS="--no-browser"]
    python -m helpers.lab [jupyter lab options...]

JupyterLab opens `runs/lab/`, a copy of `notebooks/` made the first time (notebooks added later are
copied in too; a notebook already there is never overwritten): a learner's edits and outputs stay
there and the tracked notebooks stay as committed, as a course's handouts do. Delete a copy to get
the original back. Kernels inherit this process's environment, so boto3 and the SDK in every notebook
reach local_aws even before `helpers.configure(backend="local")` runs (set `backend = "aws"` in a
notebook's parameters cell for AWS). Kernels talk to JupyterLab over local sockets (IPC), not TCP. At
the end (Ctrl-C), a local_aws this command started is stopped; one that was already running is left
running, and the last line says which.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from helpers.paths import NOTEBOOKS, RUNS

WORKING_COPY = RUNS / "lab"


def working_copy(source: Path = NOTEBOOKS, target: Path = WORKING_COPY) -> list[str]:
    """Copy the notebooks (and their nbval config) the working copy lacks; the names copied."""
    target.mkdir(parents=True, exist_ok=True)
    copied = []
    for notebook in sorted(source.glob("*.ipynb")):
        if not (target / notebook.name).exists():
            shutil.copy2(notebook, target / notebook.name)
            copied.append(notebook.name)
    return copied


def jupyter_command(options: list[str], notebook_dir: Path = WORKING_COPY) -> list[str]:
    """JupyterLab on the working copy, kernels on IPC (the secure transport for kernels on this machine)."""
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        f"--notebook-dir={notebook_dir}",
        "--KernelManager.transport=ipc",
        *options,
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0 and "--allow-root" not in command:
        command.append("--allow-root")  # containers often run as root; JupyterLab refuses it otherwise
    return command


def main(argv: list[str] | None = None) -> int:
    import local_aws
    from helpers.session import configure

    already_running = local_aws.status() is not None
    setup = configure(backend="local")
    copied = working_copy()
    print(f"local_aws is running at {setup.endpoint_url}.")
    print(
        f"JupyterLab opens {WORKING_COPY.relative_to(RUNS.parent)}/, your copy of notebooks/"
        + (f" (copied now: {len(copied)} notebooks)" if copied else "")
        + ": start with 00_setup.ipynb.",
        flush=True,
    )
    jupyter = subprocess.Popen(jupyter_command(sys.argv[1:] if argv is None else argv))
    while True:
        try:
            result = jupyter.wait()
            break
        except KeyboardInterrupt:  # JupyterLab got the same Ctrl-C: it asks to confirm, or stops
            continue
    if already_running:
        print("local_aws keeps running, as it was before (stop it with `.venv/bin/python -m local_aws stop`).")
    else:
        local_aws.stop()
        print("Stopped local_aws, which `make lab` had started; its state is saved for the next start.")
    return result


if __name__ == "__main__":
    sys.exit(main())
