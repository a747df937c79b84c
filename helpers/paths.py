"""Where the tutorial's files are on this machine, whatever the notebook's working directory."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA_FILE = REPO / "data" / "abalone.csv"
STEP_SCRIPTS = REPO / "step_scripts"
NOTEBOOKS = REPO / "notebooks"
RUNS = REPO / "runs"


def step_script(name: str) -> Path:
    """The path of one step script, e.g. step_script('train.py'); a clear error if it is missing."""
    path = STEP_SCRIPTS / name
    if not path.is_file():
        available = ", ".join(sorted(p.name for p in STEP_SCRIPTS.glob("*.py"))) or "none"
        raise FileNotFoundError(f"no step script {name!r} in {STEP_SCRIPTS} (available: {available})")
    return path
