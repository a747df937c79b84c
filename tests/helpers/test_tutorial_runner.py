"""`make tutorial` (python -m helpers.tutorial_runner): papermill runs of the notebooks in order.

The full run uses non-default parameters (project demo, n_estimators 20) on the test server,
after a reset: the same code path as `make tutorial PARAMS="-p project demo -p n_estimators 20"`.
"""
from __future__ import annotations

import os
import subprocess
import sys

import nbformat

from helpers.tutorial_runner import TUTORIAL
from support import REPO



def run_tutorial(*args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    """The runner as `make tutorial` starts it, with this process's environment (the test server)."""
    return subprocess.run([sys.executable, "-m", "helpers.tutorial_runner", *args], capture_output=True, text=True,
                          env=dict(os.environ), cwd=REPO, timeout=timeout)


def test_a_full_run_with_parameters_reaches_every_notebook_and_summarises(aws, tmp_path):
    result = run_tutorial("-p", "project", "demo", "-p", "n_estimators", "20", "--output-dir", str(tmp_path))
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    out = result.stdout
    for index, name in enumerate(TUTORIAL, 1):
        assert f"[{index}/{len(TUTORIAL)}] {name}" in out and f"{name}.ipynb" in os.listdir(tmp_path)
    assert out.count(" ok ") == len(TUTORIAL), out
    assert "pipeline   demo-pipeline: last execution Succeeded (2 in total)" in out, out
    assert "model      demo-models version 3 (PendingManualApproval): mse " in out, out
    assert "approved   version " in out and f"executed   {tmp_path}/" in out, out

    # The parameters reached the notebooks that declare them, and through them the pipeline.
    train = nbformat.read(tmp_path / "03_train.ipynb", as_version=4)
    injected = next(c for c in train.cells if "injected-parameters" in c.metadata.get("tags", []))
    assert 'project = "demo"' in injected.source and "n_estimators = 20" in injected.source
    sm = aws.client("sagemaker")
    executions = sm.list_pipeline_executions(PipelineName="demo-pipeline")["PipelineExecutionSummaries"]
    used = sorted(int(p["Value"]) for e in executions for p in sm.list_pipeline_parameters_for_execution(
        PipelineExecutionArn=e["PipelineExecutionArn"])["PipelineParameters"] if p["Name"] == "NEstimators")
    assert used == [20, 25]  # 05 ran the default it was given, 06 its own second run
    assert sm.list_feature_groups(NameContains="abalone")["FeatureGroupSummaries"] == []


def test_the_run_stops_at_the_first_failing_cell_and_shows_it(aws, tmp_path):
    result = run_tutorial("--from", "04", "--output-dir", str(tmp_path))  # nothing trained on a fresh server
    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout
    assert "[1/3] 04_register" in out and "FAILED" in out and "05_build_pipeline" not in out
    assert "--- failing cell of 04_register ---\njobs = sagemaker_client.list_processing_jobs(" in out, out
    assert "AssertionError: no completed abalone-train-* processing job: run 03_train first" in out, out
    assert f"The executed notebook, up to the failure, is {tmp_path}/04_register.ipynb" in out


def test_bad_arguments_are_refused_before_any_notebook_runs(tmp_path):
    for args, words in ((["-p", "colour", "blue"], ["unknown parameter(s) colour", "n_estimators"]),
                        (["--from", "07"], ["--from '07'", "06_inspect_executions"]),
                        (["-r", "role_arn", "admin"], ["role_arn='admin' is not an IAM role ARN"])):
        result = run_tutorial(*args, "--output-dir", str(tmp_path), timeout=120)
        assert result.returncode != 0 and not list(tmp_path.iterdir()), result.stdout
        for word in words:
            assert word in result.stderr, result.stderr
