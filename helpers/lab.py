"""`make lab`: JupyterLab on the notebooks, with local_aws running and every kernel pointed at it.

    python -m helpers.lab [jupyter lab options...]

Kernels inherit this process's environment, so boto3 and the SDK in every notebook reach
local_aws even before `helpers.configure(backend="local")` runs. To use AWS instead, set
`backend = "aws"` in a notebook's parameters cell.
"""
from __future__ import annotations

import os
import sys

from helpers.paths import NOTEBOOKS


def main(argv: list[str] | None = None) -> None:
    from helpers.session import configure

    setup = configure(backend="local")
    print(f"local_aws is running at {setup.endpoint_url}; stop it with `.venv/bin/python -m local_aws stop`.")
    print(f"Opening JupyterLab on {NOTEBOOKS}: start with 00_setup.ipynb.", flush=True)
    command = [sys.executable, "-m", "jupyterlab", f"--notebook-dir={NOTEBOOKS}", *(sys.argv[1:] if argv is None else argv)]
    if hasattr(os, "geteuid") and os.geteuid() == 0 and "--allow-root" not in command:
        command.append("--allow-root")  # containers often run as root; JupyterLab refuses it otherwise
    os.execv(sys.executable, command)  # replaces this process; Ctrl-C stops JupyterLab


if __name__ == "__main__":
    main()
