"""`make notebook-outputs`: the outputs committed in notebooks/ come from a default run.

Starts local_aws on its default port with a home of its own (nothing of the user's state), runs the
tutorial's notebooks in order with their default parameters, each in a fresh kernel, and writes each
notebook back with its new outputs (no timing metadata). Then it checks that no output shows where it
ran: no path of this machine (the project, the home directory, /tmp), only container paths (/opt/ml)
and paths relative to the project. A reader sees what they will see.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient

import local_aws
from helpers.paths import NOTEBOOKS, REPO
from helpers.tutorial_runner import TUTORIAL

CELL_TIMEOUT_SECONDS = 900
NOTEBOOKS_IN_ORDER = [*TUTORIAL, "99_cleanup"]


def machine_paths(notebook: nbformat.NotebookNode) -> list[str]:
    """The outputs' mentions of this machine: its paths and a local_aws port other than the default."""
    machine = {str(REPO), str(Path.home()), tempfile.gettempdir()}
    pattern = re.compile(
        "|".join(re.escape(path) + r"\b" for path in sorted(machine, key=len, reverse=True))
        + r"|127\.0\.0\.1:(?!"
        + str(local_aws.DEFAULT_PORT)
        + r"\b)\d+"
    )
    found = []
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            texts = [output.get("text", "")] + [v for k, v in output.get("data", {}).items() if k.startswith("text/")]
            found += [f"cell {index}: {match.group(0)}" for text in texts for match in pattern.finditer(str(text))]
    return found


def run(path: Path) -> nbformat.NotebookNode:
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT_SECONDS,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    ).execute(extra_arguments=["--IPKernelApp.log_level=ERROR"])  # not the kernel's own start-up warnings
    return notebook


def main() -> int:
    port = local_aws.DEFAULT_PORT
    if local_aws.status(port):
        print(
            f"local_aws already runs on port {port}: stop it (`.venv/bin/python -m local_aws stop`) so the "
            "notebooks run on a fresh one, then run this again",
            file=sys.stderr,
        )
        return 1
    os.environ.update({"LOCAL_AWS_HOME": tempfile.mkdtemp(prefix="notebook-outputs-"), "LOCAL_AWS_PORT": str(port)})
    local_aws.ensure_running(port)
    os.environ.update(local_aws.client_environment(port))
    try:
        for name in NOTEBOOKS_IN_ORDER:
            path = NOTEBOOKS / f"{name}.ipynb"
            print(f"running {path.relative_to(REPO)}", flush=True)
            notebook = run(path)
            nbformat.write(notebook, path)
            if machine_paths(notebook):
                print(f"{path.relative_to(REPO)} shows this machine: {machine_paths(notebook)}", file=sys.stderr)
                return 1
    finally:
        local_aws.stop(port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
