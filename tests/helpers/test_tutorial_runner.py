"""`make tutorial` (python -m helpers.tutorial_runner): papermill runs of the notebooks in order.

The full run is the Studio rehearsal: a local_aws playing a SageMaker Studio domain
(LOCAL_AWS_IDENTITY=studio), so every notebook acts as the domain's execution role, which has only
AmazonSageMakerFullAccess (no IAM writes, no bucket tagging, Glue deletes only on sagemaker_tmp_*),
and every job as the role it is given. It uses non-default parameters (project demo, n_estimators 20):
the same code path as `make tutorial PARAMS="-p project demo -p n_estimators 20"`, in two parts with a
restart of local_aws between 03 and 04, as a learner who comes back the next day. Then 99_cleanup
runs as that identity too, and keeps, saying why, what the role may not delete. (The nbval run in
tests/notebooks runs the same notebooks as the account's administrator.)
"""

from __future__ import annotations

import os
import subprocess
import sys

import nbformat
import pytest
from support import REPO
from support.restart import OwnServer
from support.serving import serve_model_package

import local_aws
from helpers.tutorial_runner import TUTORIAL


def run_tutorial(*args: str, timeout: float = 900, env: dict | None = None) -> subprocess.CompletedProcess:
    """The runner as `make tutorial` starts it, with this process's environment (the test server)."""
    return subprocess.run(
        [sys.executable, "-m", "helpers.tutorial_runner", *args],
        capture_output=True,
        text=True,
        env=env or dict(os.environ),
        cwd=REPO,
        timeout=timeout,
    )


@pytest.fixture()
def studio(tmp_path):
    """A local_aws playing a Studio domain, and the environment a kernel started against it has."""
    server = OwnServer(tmp_path / "studio_home", LOCAL_AWS_IDENTITY="studio").start()
    yield server, {**server.env, **local_aws.client_environment(server.port, home=server.server_home)}
    server.kill()


def test_a_full_run_as_a_studio_user_with_a_restart_reaches_every_notebook_and_summarises(studio, tmp_path):
    """00-03, then local_aws stops cleanly and starts again (a reboot), then 04-06: 04 registers the model
    03 trained before the restart, without 00-03 again."""
    server, env = studio
    params = ["-p", "project", "demo", "-p", "n_estimators", "20"]
    before = run_tutorial(*params, "--to", "03", "--output-dir", str(tmp_path / "before"), env=env)
    assert before.returncode == 0, before.stdout[-4000:] + before.stderr[-4000:]
    server.stop()
    server.start()
    result = run_tutorial(
        *params,
        "-p",
        "run_tuning",
        "False",  # the tuning pipeline runs under nbval
        "--from",
        "04",
        "--output-dir",
        str(tmp_path),
        env=env,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    for out, names, where in (
        (before.stdout, TUTORIAL[:4], tmp_path / "before"),
        (result.stdout, TUTORIAL[4:], tmp_path),
    ):
        for index, name in enumerate(names, 1):
            assert f"[{index}/{len(names)}] {name}" in out and f"{name}.ipynb" in os.listdir(where)
        assert out.count(" ok ") == len(names), out
    out = result.stdout
    assert "pipeline   demo-pipeline: last execution Succeeded (2 in total)" in out, out
    assert "model      demo-models version 3 (PendingManualApproval): mse " in out, out
    assert "approved   version " in out and f"executed   {tmp_path}/" in out, out

    # The parameters reached the notebooks that declare them, and through them the pipeline.
    train = nbformat.read(tmp_path / "before" / "03_train.ipynb", as_version=4)
    injected = next(c for c in train.cells if "injected-parameters" in c.metadata.get("tags", []))
    assert 'project = "demo"' in injected.source and "n_estimators = 20" in injected.source
    admin = server.session()
    sm, iam = admin.client("sagemaker"), admin.client("iam")
    executions = sm.list_pipeline_executions(PipelineName="demo-pipeline")["PipelineExecutionSummaries"]
    used = sorted(
        int(p["Value"])
        for e in executions
        for p in sm.list_pipeline_parameters_for_execution(PipelineExecutionArn=e["PipelineExecutionArn"])[
            "PipelineParameters"
        ]
        if p["Name"] == "NEstimators"
    )
    assert used == [20, 25]  # 05 ran the default it was given, 06 its own second run
    assert sm.list_feature_groups(NameContains="abalone")["FeatureGroupSummaries"] == []

    # Everything ran as the Studio execution role: the notebooks created no role of their own.
    studio_role = local_aws.status(server.port)["execution_role"]
    assert ":role/service-role/AmazonSageMaker-ExecutionRole-" in studio_role
    assert sm.describe_pipeline(PipelineName="demo-pipeline")["RoleArn"] == studio_role
    assert "demo-sagemaker-execution" not in {r["RoleName"] for r in iam.list_roles()["Roles"]}

    # The approved model, served as the scikit-learn container serves it, predicts rings for CSV rows.
    approved = sm.list_model_packages(ModelPackageGroupName="demo-models", ModelApprovalStatus="Approved")
    rows = ["M,0.455,0.365,0.095,0.514,0.2245,0.101,0.15", "F,0.53,0.42,0.135,0.677,0.2565,0.1415,0.21"]
    served = serve_model_package(
        sm, admin.client("s3"), approved["ModelPackageSummaryList"][0]["ModelPackageArn"], "\n".join(rows) + "\n"
    )
    assert served.status == 200, served.body
    predictions = [float(line) for line in served.body.splitlines()]
    assert len(predictions) == 2 and all(3 < p < 20 for p in predictions), predictions  # true rings: 15 and 9

    # 99_cleanup as the Studio user: what the role may not delete is kept, and said so; the rest is gone.
    cleanup = subprocess.run(
        [
            sys.executable,
            "-m",
            "papermill",
            str(REPO / "notebooks" / "99_cleanup.ipynb"),
            str(tmp_path / "99_cleanup.ipynb"),
            "-p",
            "project",
            "demo",
            "--cwd",
            str(REPO / "notebooks"),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=300,
    )
    assert cleanup.returncode == 0, cleanup.stderr[-4000:]
    text = "\n".join(
        str(output.get("text", ""))
        for cell in nbformat.read(tmp_path / "99_cleanup.ipynb", 4).cells
        for output in cell.get("outputs", [])
    )
    assert "glue:DeleteTable" in text, text
    assert sm.list_pipelines(PipelineNamePrefix="demo")["PipelineSummaries"] == []
    assert sm.list_model_package_groups(NameContains="demo")["ModelPackageGroupSummaryList"] == []


def test_the_run_stops_at_the_first_failing_cell_and_shows_it(aws, tmp_path):
    result = run_tutorial("--from", "04", "--output-dir", str(tmp_path))  # nothing trained on a fresh server
    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout
    assert "[1/3] 04_register" in out and "FAILED" in out and "05_build_pipeline" not in out
    assert "--- failing cell of 04_register ---\njobs = sagemaker_client.list_processing_jobs(" in out, out
    assert (
        "NotReady: no completed abalone-train-* processing job yet: run 00_setup, 02_ingest and 03_train first" in out
    ), out
    assert f"The executed notebook, up to the failure, is {tmp_path}/04_register.ipynb" in out


def test_bad_arguments_are_refused_before_any_notebook_runs(tmp_path):
    for args, words in (
        (["-p", "colour", "blue"], ["unknown parameter(s) colour", "n_estimators"]),
        (["--from", "07"], ["--from '07'", "06_inspect_executions"]),
        (["--from", "03", "--to", "01"], ["--to '01' comes before --from '03'"]),
        (["-r", "role_arn", "admin"], ["role_arn='admin' is not an IAM role ARN"]),
    ):
        result = run_tutorial(*args, "--output-dir", str(tmp_path), timeout=120)
        assert result.returncode != 0 and not list(tmp_path.iterdir()), result.stdout
        for word in words:
            assert word in result.stderr, result.stderr
