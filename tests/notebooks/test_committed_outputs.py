"""The outputs committed in notebooks/ are what a reader will see: from a default run (no injected
parameters, local_aws on its default port) and showing no path of the machine that ran them."""

from __future__ import annotations

import tempfile

import nbformat
import pytest
from support import REPO

from helpers.notebook_outputs import NOTEBOOKS_IN_ORDER, machine_paths


@pytest.mark.parametrize("name", NOTEBOOKS_IN_ORDER)
def test_outputs_come_from_a_default_run_and_show_no_machine_paths(name: str) -> None:
    notebook = nbformat.read(REPO / "notebooks" / f"{name}.ipynb", as_version=4)
    assert machine_paths(notebook) == [], "run `make notebook-outputs` to refresh the committed outputs"
    assert not [c for c in notebook.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert any(c.get("outputs") for c in notebook.cells), "the notebook was committed without its outputs"


def test_machine_paths_are_found_wherever_an_output_shows_them(tmp_path) -> None:
    notebook = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                outputs=[
                    nbformat.v4.new_output("stream", text=f"wrote {REPO}/runs/x.csv and {tmp_path}/y\n"),
                    nbformat.v4.new_output("execute_result", data={"text/plain": "endpoint http://127.0.0.1:4601"}),
                    nbformat.v4.new_output(
                        "stream", text="read /opt/ml/processing/input/abalone.csv via http://127.0.0.1:4577\n"
                    ),
                ]
            )
        ]
    )
    assert [found.split(": ", 1)[1] for found in machine_paths(notebook)] == [
        str(REPO),
        tempfile.gettempdir(),
        "127.0.0.1:4601",
    ]  # container paths and the default port are fine
