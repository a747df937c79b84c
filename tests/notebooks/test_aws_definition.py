"""Notebook 05 builds the pipelines for `backend="aws"` without reaching AWS.

papermill runs it with backend aws, an explicit role and bucket, fake credentials and
run_pipeline=False, in a kernel whose network guard refuses (and logs) any connection outside
loopback. The SDK makes two kinds of call while building the definitions: the uploads of the step
scripts, which the definitions refer to by S3 URI, and, for each ModelTrainer (the TrainingStep and
the TuningStep), IAM checks of the role (iam:SimulatePrincipalPolicy: whether the role may write the
default bucket, and the role's permissions unless SAGEMAKER_VALIDATE_ROLE=false, the SDK's switch,
which this test sets as the role exists only in the notebook's parameters). AWS_ENDPOINT_URL_S3 and
AWS_ENDPOINT_URL_IAM send them to the test's local_aws. Everything else (STS, SageMaker) would go to
AWS and be refused, so an empty guard log proves the notebook's AWS path needs nothing but S3 and
IAM to build the definitions.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import nbformat
import papermill
import pytest
from support import GUARD_SITE, REPO

from local_aws.core.runtime.config import SDK_CONFIG_FILE

NOTEBOOK = REPO / "notebooks" / "05_build_pipeline.ipynb"
ROLE = "arn:aws:iam::111122223333:role/service-role/AmazonSageMaker-ExecutionRole-Tutorial"
BUCKET = "tutorial-definition-test"
REGION = "eu-west-1"
SKLEARN_IMAGE = re.compile(r"^\d{12}\.dkr\.ecr\.eu-west-1\.amazonaws\.com/sagemaker-scikit-learn:1\.9-0-cpu-py3$")


def processing_steps(steps: list[dict]):
    for step in steps:
        if step["Type"] == "Processing":
            yield step
        yield from processing_steps(step.get("Arguments", {}).get("IfSteps", []))
        yield from processing_steps(step.get("Arguments", {}).get("ElseSteps", []))


@pytest.fixture()
def aws_like_kernel_environment(aws, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """AWS credentials (the key pair the test's local_aws issued, so that it answers S3 and IAM), no local
    endpoint but S3's, the network guard on; its log's path."""
    aws.client("s3").create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    endpoint = aws.client("s3").meta.endpoint_url
    for name in (
        "AWS_ENDPOINT_URL",
        "AWS_SESSION_TOKEN",
        "AWS_REGION",
        "LOCAL_AWS_PORT",
        "SAGEMAKER_ADMIN_CONFIG_OVERRIDE",
    ):
        monkeypatch.delenv(name, raising=False)
    log = tmp_path / "netguard.log"
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", os.environ["AWS_ACCESS_KEY_ID"])  # kept by the session's server fixture
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", os.environ["AWS_SECRET_ACCESS_KEY"])
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", endpoint)
    monkeypatch.setenv("AWS_ENDPOINT_URL_IAM", endpoint)  # a ModelTrainer asks IAM about its role
    monkeypatch.setenv("SAGEMAKER_VALIDATE_ROLE", "false")  # ... which local_aws does not know
    monkeypatch.setenv("SAGEMAKER_USER_CONFIG_OVERRIDE", str(SDK_CONFIG_FILE))  # telemetry off, as a user may set it
    monkeypatch.setenv("PYTHONPATH", str(GUARD_SITE))
    monkeypatch.setenv("LOCAL_AWS_NETGUARD_LOG", str(log))
    return log


def test_the_aws_pipeline_definition_is_built_offline(aws, aws_like_kernel_environment: Path, tmp_path: Path):
    executed = tmp_path / "05_build_pipeline.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOK),
        str(executed),
        cwd=str(NOTEBOOK.parent),
        progress_bar=False,
        kernel_name="python3",
        parameters={"backend": "aws", "region": REGION, "role_arn": ROLE, "bucket": BUCKET, "run_pipeline": False},
        extra_arguments=["--IPKernelApp.log_level=ERROR"],
    )
    blocked = aws_like_kernel_environment.read_text() if aws_like_kernel_environment.exists() else ""
    assert blocked == "", f"building the definition tried to reach AWS:\n{blocked}"

    notebook = nbformat.read(executed, as_version=4)
    definition = next(
        output["data"]["application/json"]
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if "application/json" in output.get("data", {})
    )
    parameters = {p["Name"]: p for p in definition["Parameters"]}
    assert parameters["ProcessingInstanceType"]["DefaultValue"] == "ml.m5.large"
    assert parameters["InputDataUri"]["DefaultValue"] == f"s3://{BUCKET}/abalone/data/abalone.csv"
    steps = list(processing_steps(definition["Steps"]))
    assert [step["Name"] for step in steps] == ["Ingest", "Train", "Register"]
    for step in steps:
        arguments = step["Arguments"]
        assert SKLEARN_IMAGE.match(arguments["AppSpecification"]["ImageUri"]), arguments["AppSpecification"]
        assert arguments["RoleArn"] == ROLE
        assert arguments["ProcessingResources"]["ClusterConfig"]["InstanceType"] == {
            "Get": "Parameters.ProcessingInstanceType"
        }
        for channel in arguments["ProcessingInputs"]:
            uri = channel["S3Input"]["S3Uri"]
            assert not isinstance(uri, str) or uri.startswith(f"s3://{BUCKET}/abalone/"), uri
    assert "Parameters.NEstimators" in json.dumps(steps[1]["Arguments"]["AppSpecification"]["ContainerArguments"])

    # The training jobs of the TrainingStep and of the TuningStep: the same image and role, and every S3
    # location under the project's prefix (the tuner's train.py archive included).
    shown = {
        output["metadata"]["application/json"]["root"]: output["data"]["application/json"]
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if "application/json" in output.get("data", {})
    }
    training = shown["Train (TrainingStep) arguments"]
    tuning = shown["Tune (TuningStep) arguments"]
    for job in (training, tuning["TrainingJobDefinition"]):
        assert SKLEARN_IMAGE.match(job["AlgorithmSpecification"]["TrainingImage"]), job["AlgorithmSpecification"]
        assert job["RoleArn"] == ROLE and job["OutputDataConfig"]["S3OutputPath"] == f"s3://{BUCKET}/abalone/jobs"
        assert {d["Name"] for d in job["AlgorithmSpecification"]["MetricDefinitions"]} == {"mse", "rmse", "mae", "r2"}
        for channel in job["InputDataConfig"]:
            assert channel["DataSource"]["S3DataSource"]["S3Uri"].startswith(f"s3://{BUCKET}/abalone/"), channel
    assert "Parameters.NEstimators" in json.dumps(training["HyperParameters"])
    static = tuning["TrainingJobDefinition"]["StaticHyperParameters"]
    assert static["sagemaker_program"] == "train.py"
    assert static["sagemaker_submit_directory"].startswith(f"s3://{BUCKET}/abalone/"), static
    assert tuning["HyperParameterTuningJobConfig"]["HyperParameterTuningJobObjective"] == {
        "Type": "Minimize",
        "MetricName": "rmse",
    }

    # The SDK put the step scripts where the definitions say, under the project's prefix.
    keys = [o["Key"] for o in aws.client("s3").list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert all(k.startswith("abalone/") for k in keys), [k for k in keys if not k.startswith("abalone/")]
    assert any(k.startswith("abalone/abalone-pipeline/code/") and k.endswith("/register_model.py") for k in keys), keys
    assert any(k.endswith("/sourcedir.tar.gz") for k in keys), keys
    # Nothing was created: run_pipeline=False stops before upsert.
    assert notebook.cells[-1].cell_type == "markdown"
    assert any(
        "nothing was created or started" in "".join(o.get("text", ""))
        for c in notebook.cells
        for o in c.get("outputs", [])
    )
