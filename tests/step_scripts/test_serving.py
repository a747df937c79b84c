"""The model train.py writes, served as the SageMaker scikit-learn container serves it (support.serving).

train.py packs inference.py into model.tar.gz and register_model.py points the container at it. The
module fixture ingests and trains once on a slice of the data set against local_aws; the tests then
send CSV rows of data/abalone.csv through the container's handler chain, from the file train.py wrote
and from a registered model package. STEP_SCRIPTS_PYTHON=/path/to/python runs the scripts and the
serving with another interpreter, e.g. one with the container's pandas and scikit-learn.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from support import GUARD_SITE, REPO
from support.iam import reset_with_test_roles
from support.serving import ServingError, serve, serve_model_package

import local_aws

SCRIPTS = REPO / "step_scripts"
ABALONE = REPO / "data" / "abalone.csv"
PYTHON = os.environ.get("STEP_SCRIPTS_PYTHON", sys.executable)
ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
BUCKET = "serving-bucket"
GROUP = "abalone-fg"
TRAINING_ROWS = 200
ENVIRONMENT = {"SAGEMAKER_PROGRAM": "inference.py", "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code"}
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.9-0-cpu-py3"


def run(script: Path, *args: Any, stdin: str | None = None) -> subprocess.CompletedProcess:
    """`python <script> args...` with the test's environment (the server's endpoint) and the network guard."""
    path = [str(GUARD_SITE), str(REPO), os.environ.get("PYTHONPATH")]
    env = {"AWS_REGION": "us-east-1", **os.environ, "PYTHONPATH": os.pathsep.join(filter(None, path))}
    return subprocess.run(
        [PYTHON, str(script), *map(str, args)],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=REPO,
    )


def one_error(result: subprocess.CompletedProcess) -> str:
    """The one error line of a run that exited 1."""
    assert result.returncode == 1, (result.stdout, result.stderr)
    errors = [line for line in result.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1, result.stderr
    return errors[0]


def abalone_rows(first: int, count: int) -> tuple[str, list[int]]:
    """Lines of data/abalone.csv without its header and rings column, as a CSV body, and their rings."""
    lines = ABALONE.read_text().splitlines()[first : first + count]
    return "".join(line.rsplit(",", 1)[0] + "\n" for line in lines), [int(line.rsplit(",", 1)[1]) for line in lines]


def assert_near_rings(response, rings: list[int]) -> list[float]:
    """A 200 in text/csv with one predicted number per row, each within 4 rings (years) of the truth."""
    assert (response.status, response.content_type) == (200, "text/csv"), response.body
    predicted = [float(line) for line in response.body.splitlines()]
    assert len(predicted) == len(rings)
    assert all(abs(p - r) <= 4 for p, r in zip(predicted, rings)), (predicted, rings)
    return predicted


@pytest.fixture(scope="module")
def trained(server, tmp_path_factory) -> Path:
    """A directory holding train.py's model/model.tar.gz and evaluation/evaluation.json, trained once."""
    session = reset_with_test_roles(server.port)  # the feature group's role, as the `aws` fixture creates it
    session.client("s3").create_bucket(Bucket=BUCKET)
    work = tmp_path_factory.mktemp("trained")
    (work / "input").mkdir()
    pd.read_csv(ABALONE).head(TRAINING_ROWS).to_csv(work / "input" / "abalone.csv", index=False)
    result = run(
        SCRIPTS / "featurestore_df_ingestion.py",
        "--input-dir",
        work / "input",
        "--output-dir",
        work / "ingest",
        "--feature-group-name",
        GROUP,
        "--role-arn",
        ROLE,
        "--offline-store-s3-uri",
        f"s3://{BUCKET}/feature-store",
    )
    assert result.returncode == 0, result.stderr
    local_aws.flush(server.port)  # buffered records reach the offline store now (on AWS: minutes)
    result = run(
        SCRIPTS / "train.py",
        "--feature-group-name",
        GROUP,
        "--expected-rows",
        TRAINING_ROWS,
        "--fetch-timeout-seconds",
        "20",
        "--n-estimators",
        "20",
        "--model-dir",
        work / "model",
        "--evaluation-dir",
        work / "evaluation",
    )
    assert result.returncode == 0, result.stderr
    return work


def test_train_packs_the_serving_code_and_the_container_serves_predicted_rings(trained):
    archive = trained / "model" / "model.tar.gz"
    with tarfile.open(archive) as tar:
        assert tar.getnames() == ["model.joblib", "code/inference.py"]
        assert tar.extractfile("code/inference.py").read() == (SCRIPTS / "inference.py").read_bytes()
    body, rings = abalone_rows(1, 6)
    predicted = assert_near_rings(serve(archive, ENVIRONMENT, body, "text/csv", "text/csv", python=PYTHON), rings)
    # JSON when asked for, and without an Accept header (the container's default accept); a charset
    # in the content type makes the container hand over bytes.
    for accept in ("application/json", None):
        response = serve(archive, ENVIRONMENT, body.encode(), "text/csv; charset=utf-8", accept, python=PYTHON)
        assert (response.status, response.content_type) == (200, "application/json"), response.body
        assert json.loads(response.body) == predicted


BAD_REQUESTS = {  # name: (body, content type, accept, words the one-line error must name)
    "a row of 7 columns": (
        "0.455,0.365,0.095,0.514,0.2245,0.101,0.15\n",
        "text/csv",
        "text/csv",
        ["row 1 '0.455,0.365", "has 7 columns, expected 8", "sex, length, diameter"],
    ),
    "a header row": (
        "sex,length,diameter,height,whole_weight,shucked_weight,viscera_weight,shell_weight\n",
        "text/csv",
        "text/csv",
        ["row 1: length 'length' is not a number", "without a header"],
    ),
    "json rows": ('[["M", 0.455]]', "application/json", "text/csv", ["'application/json'", "text/csv rows"]),
    "an unsupported accept": (
        "M,0.455,0.365,0.095,0.514,0.2245,0.101,0.15\n",
        "text/csv",
        "application/x-npy",
        ["accept 'application/x-npy'", "text/csv", "application/json"],
    ),
}


@pytest.mark.parametrize("case", BAD_REQUESTS)
def test_a_bad_request_fails_with_one_error_naming_the_bad_value(trained, case):
    body, content_type, accept, words = BAD_REQUESTS[case]
    response = serve(trained / "model" / "model.tar.gz", ENVIRONMENT, body, content_type, accept, python=PYTHON)
    assert response.status == 500 and response.body.startswith("ValueError: ") and "\n" not in response.body
    for word in words:
        assert word in response.body, (word, response.body)


def test_without_its_code_or_environment_the_container_cannot_serve_the_model(trained, tmp_path):
    body, _ = abalone_rows(1, 2)
    with tarfile.open(trained / "model" / "model.tar.gz") as tar:  # the model alone, as train.py packed it before
        tar.extract("model.joblib", tmp_path, filter="data")
    with pytest.raises(ServingError, match="cannot import inference from /opt/ml/model/code"):
        serve(tmp_path, ENVIRONMENT, body, "text/csv", "text/csv")
    with pytest.raises(ServingError, match="no SAGEMAKER_PROGRAM"):
        serve(trained / "model" / "model.tar.gz", {}, body, "text/csv", "text/csv")


def test_train_without_inference_py_next_to_it_fails_before_fetching(tmp_path):
    for name in ("train.py", "fetch_data.py"):
        shutil.copy(SCRIPTS / name, tmp_path)
    result = run(
        tmp_path / "train.py",
        "--feature-group-name",
        "nope",
        "--model-dir",
        tmp_path / "model",
        "--evaluation-dir",
        tmp_path / "evaluation",
    )
    error = one_error(result)
    assert str(tmp_path / "inference.py") in error and "source_dir" in error, error
    assert not (tmp_path / "model").exists()


def test_inference_py_predicts_the_rows_on_stdin_from_the_command_line(trained, tmp_path):
    with tarfile.open(trained / "model" / "model.tar.gz") as tar:
        tar.extractall(tmp_path, filter="data")
    body, _ = abalone_rows(1, 4)
    result = run(SCRIPTS / "inference.py", "--model-dir", tmp_path, stdin=body)
    assert result.returncode == 0, result.stderr
    assert result.stdout == serve(tmp_path, ENVIRONMENT, body, "text/csv", "text/csv", python=PYTHON).body
    error = one_error(run(SCRIPTS / "inference.py", "--model-dir", tmp_path / "nowhere", stdin=body))
    assert str(tmp_path / "nowhere" / "model.joblib") in error, error
    result = run(SCRIPTS / "inference.py", "--help")
    assert result.returncode == 0 and "--model-dir" in result.stdout and "/opt/ml/model" in result.stdout


def test_a_registered_version_is_served_by_its_container_as_registered(aws, trained, tmp_path):
    s3, sagemaker = aws.client("s3"), aws.client("sagemaker")
    s3.create_bucket(Bucket=BUCKET)
    s3.upload_file(str(trained / "model" / "model.tar.gz"), BUCKET, "model/model.tar.gz")
    s3.upload_file(str(trained / "evaluation" / "evaluation.json"), BUCKET, "evaluation/evaluation.json")
    result = run(
        SCRIPTS / "register_model.py",
        "--model-package-group-name",
        "abalone-models",
        "--model-data-url",
        f"s3://{BUCKET}/model/model.tar.gz",
        "--evaluation-s3-uri",
        f"s3://{BUCKET}/evaluation/evaluation.json",
        "--evaluation-dir",
        trained / "evaluation",
        "--output-dir",
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    arn = json.loads((tmp_path / "registration.json").read_text())["model_package_arn"]
    spec = sagemaker.describe_model_package(ModelPackageName=arn)["InferenceSpecification"]
    assert spec["Containers"][0]["Environment"] == ENVIRONMENT and spec["Containers"][0]["Image"] == IMAGE
    body, rings = abalone_rows(100, 5)
    assert_near_rings(serve_model_package(sagemaker, s3, arn, body, python=PYTHON), rings)
