"""`make tutorial`: run notebooks 00 to 06 in order with papermill, then summarise what they built.

    python -m helpers.tutorial_runner [-p NAME VALUE]... [-r NAME VALUE]... [--from NOTEBOOK] [--output-dir DIR]

Each executed notebook is saved under runs/<UTC timestamp>/ with its outputs. The run stops at
the first failing cell and prints that cell's source and error. Parameters (`-p project demo
-p n_estimators 50`, as with papermill: values typed like Python literals; `-r` keeps a string
raw) go to every notebook that declares them in its `parameters` cell.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
import time
from pathlib import Path
from typing import Any

from helpers.paths import NOTEBOOKS, RUNS

TUTORIAL = [
    "00_setup",
    "01_feature_store_check",
    "02_ingest",
    "03_train",
    "04_register",
    "05_build_pipeline",
    "06_inspect_executions",
]
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class NotebookFailed(Exception):
    """A cell raised: carries the notebook, the cell's source and the error to show."""

    def __init__(self, notebook: str, source: str, error: str, output: Path):
        super().__init__(f"{notebook} failed")
        self.notebook, self.source, self.error, self.output = notebook, source, error, output


def literal(value: str) -> Any:
    """papermill's typing of `-p` values: True/False/None, int, float, else the string."""
    from papermill.cli import _resolve_type

    return _resolve_type(value)


def selected(first: str, last: str | None = None) -> list[str]:
    """The tutorial's notebooks from `first` to `last` (each a name or its number; default: the end)."""
    start = _position(first, "--from")
    end = _position(last, "--to") if last else len(TUTORIAL) - 1
    if end < start:
        raise SystemExit(f"--to {last!r} comes before --from {first!r}; the notebooks run in order")
    return TUTORIAL[start : end + 1]


def _position(name: str, option: str) -> int:
    for index, notebook in enumerate(TUTORIAL):
        if notebook == name or notebook.split("_")[0] == name:
            return index
    raise SystemExit(f"{option} {name!r} names no notebook of the tutorial; use one of {', '.join(TUTORIAL)}")


def declared_parameters(notebook: Path) -> set[str]:
    import papermill

    return set(papermill.inspect_notebook(str(notebook)))


def split_parameters(parameters: dict[str, Any], notebooks: list[Path]) -> dict[Path, dict[str, Any]]:
    """Each notebook's share of the parameters; an unknown name is an error listing the known ones."""
    declared = {nb: declared_parameters(nb) for nb in notebooks}
    known = set().union(*declared.values())
    unknown = sorted(set(parameters) - known)
    if unknown:
        raise SystemExit(f"unknown parameter(s) {', '.join(unknown)}: the notebooks accept {', '.join(sorted(known))}")
    return {nb: {k: v for k, v in parameters.items() if k in declared[nb]} for nb in notebooks}


def run_notebook(notebook: Path, output: Path, parameters: dict[str, Any]) -> float:
    """Execute one notebook with papermill in a fresh kernel; seconds taken, or NotebookFailed."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    started = time.perf_counter()
    try:
        papermill.execute_notebook(
            str(notebook),
            str(output),
            parameters=parameters,
            cwd=str(notebook.parent),
            progress_bar=sys.stderr.isatty(),
            kernel_name="python3",
            extra_arguments=["--IPKernelApp.log_level=ERROR"],
        )  # no TCP warning
    except PapermillExecutionError as err:
        trace = _ANSI.sub("", "\n".join(err.traceback))
        raise NotebookFailed(notebook.stem, err.source, trace or f"{err.ename}: {err.evalue}", output) from None
    return time.perf_counter() - started


def configure_from(parameters: dict[str, Any]) -> Any:
    """helpers.configure with the run's parameters: for local, the server is up before notebook 00."""
    from helpers.session import configure

    return configure(
        backend=parameters.get("backend", "local"),
        region=parameters.get("region"),
        project=parameters.get("project", "abalone"),
        role_arn=parameters.get("role_arn") or None,
        bucket=parameters.get("bucket") or None,
    )


def summary(setup: Any) -> list[str]:
    """Where the tutorial ended: the pipeline's last execution and the newest registered model."""
    sm = setup.boto_session.client("sagemaker")
    lines = []
    try:
        executions = sm.list_pipeline_executions(
            PipelineName=setup.names.pipeline, SortBy="CreationTime", SortOrder="Descending"
        )["PipelineExecutionSummaries"]
    except sm.exceptions.ResourceNotFound:  # a run that stopped before 05_build_pipeline
        executions = []
    if executions:
        last = executions[0]
        steps = sm.list_pipeline_execution_steps(PipelineExecutionArn=last["PipelineExecutionArn"])
        states = ", ".join(f"{s['StepName']} {s['StepStatus']}" for s in reversed(steps["PipelineExecutionSteps"]))
        lines.append(
            f"pipeline   {setup.names.pipeline}: last execution {last['PipelineExecutionStatus']} "
            f"({len(executions)} in total); steps: {states}"
        )
    packages = sm.list_model_packages(
        ModelPackageGroupName=setup.names.model_package_group, SortBy="CreationTime", SortOrder="Descending"
    )["ModelPackageSummaryList"]
    if packages:
        newest = sm.describe_model_package(ModelPackageName=packages[0]["ModelPackageArn"])
        lines.append(
            f"model      {setup.names.model_package_group} version {newest['ModelPackageVersion']} "
            f"({newest['ModelApprovalStatus']}){_metrics_text(setup, newest)}"
        )
        approved = [p for p in packages if p["ModelApprovalStatus"] == "Approved"]
        if approved:
            lines.append(f"approved   version {approved[0]['ModelPackageVersion']}")
    return lines


def _metrics_text(setup: Any, package: dict) -> str:
    uri = package.get("ModelMetrics", {}).get("ModelQuality", {}).get("Statistics", {}).get("S3Uri")
    if not uri:
        return ""
    bucket, key = uri[len("s3://") :].split("/", 1)
    body = setup.boto_session.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    values = {name: entry["value"] for group in json.loads(body).values() for name, entry in group.items()}
    return ": " + ", ".join(f"{name} {value:.3f}" for name, value in values.items())


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m helpers.tutorial_runner", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "-p",
        "--parameters",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help="a notebook parameter, typed like papermill does (repeatable)",
    )
    parser.add_argument(
        "-r",
        "--parameters-raw",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help="a notebook parameter kept as a string (repeatable)",
    )
    parser.add_argument(
        "--from",
        dest="first",
        default=TUTORIAL[0],
        metavar="NOTEBOOK",
        help="start at this notebook, e.g. 05 or 05_build_pipeline (default: %(default)s)",
    )
    parser.add_argument(
        "--to",
        dest="last",
        default=None,
        metavar="NOTEBOOK",
        help=f"stop after this notebook, e.g. 03 (default: the last, {TUTORIAL[-1]})",
    )
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=None,
        help="where to save executed notebooks (default: runs/<UTC timestamp>/)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    parameters = {name: literal(value) for name, value in args.parameters}
    parameters.update(dict(args.parameters_raw))
    notebooks = [NOTEBOOKS / f"{name}.ipynb" for name in selected(args.first, args.last)]
    shares = split_parameters(parameters, notebooks)
    try:
        setup = configure_from(parameters)
    except ValueError as err:
        raise SystemExit(f"error: {err}") from None
    output_dir = args.output_dir or RUNS / dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    output_dir.mkdir(parents=True, exist_ok=True)
    shown = " ".join(f"{k}={v!r}" for k, v in parameters.items()) or "defaults"
    print(f"Running the tutorial ({len(notebooks)} notebooks, parameters: {shown}) into {output_dir}/", flush=True)
    started = time.perf_counter()
    for index, notebook in enumerate(notebooks, 1):
        print(f"[{index}/{len(notebooks)}] {notebook.stem:<24}", end="", flush=True)
        try:
            seconds = run_notebook(notebook, output_dir / notebook.name, shares[notebook])
        except NotebookFailed as failed:
            print("FAILED")
            print(f"\n--- failing cell of {failed.notebook} ---\n{failed.source}\n--- error ---\n{failed.error}")
            print(f"\nThe executed notebook, up to the failure, is {failed.output}")
            return 1
        print(f"ok  {seconds:6.1f} s", flush=True)
    print(f"\nAll {len(notebooks)} notebooks ran in {time.perf_counter() - started:.1f} s.")
    for line in summary(setup):
        print(line)
    print(f"executed   {output_dir}/")
    if setup.endpoint_url:
        print(
            f"local_aws  keeps running at {setup.endpoint_url} (for `make lab`); "
            "stop it with `.venv/bin/python -m local_aws stop`"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
