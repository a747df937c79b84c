"""The four step scripts, run from the command line as a user (or a SageMaker job) runs them.

Bad input must end with exit code 1 (2 for argparse's own checks) and one line naming the bad
value; good runs go end to end against the local_aws server: ingest -> fetch -> train -> register.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import urllib.request
from pathlib import Path

import joblib
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = REPO / "step_scripts"
ABALONE = REPO / "data" / "abalone.csv"
GUARD_SITE = REPO / "local_aws" / "_guard_site"  # network guard in the child processes too
ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
BUCKET = "tutorial-bucket"


def run(script: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    """`python step_scripts/<script> args...` with the test's environment (the server's endpoint)."""
    child_env = {"AWS_REGION": "us-east-1", **os.environ, **env,
                 "PYTHONPATH": os.pathsep.join(filter(None, [str(GUARD_SITE), os.environ.get("PYTHONPATH")]))}
    return subprocess.run([sys.executable, str(SCRIPTS / script), *args], capture_output=True, text=True,
                          env=child_env, timeout=120, cwd=REPO)


def failed_with(result: subprocess.CompletedProcess, *words: str, code: int = 1) -> None:
    """Non-zero exit and a one-line error on stderr naming every word (the bad value, the fix)."""
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    errors = [line for line in result.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1, result.stderr
    for word in words:
        assert word in errors[0], (word, errors[0])


# -- --help -------------------------------------------------------------------------------------

@pytest.mark.parametrize("script, flags", [
    ("featurestore_df_ingestion.py", ["--input-dir", "--feature-group-name", "--event-time", "--no-create",
                                      "--max-workers", "--max-retries", "/opt/ml/processing/input"]),
    ("fetch_data.py", ["--feature-group-name", "--expected-rows", "--timeout-seconds", "--athena-output-s3-uri"]),
    ("train.py", ["--feature-group-name", "--target", "--n-estimators", "--max-depth", "--test-size",
                  "/opt/ml/processing/model", "/opt/ml/processing/evaluation"]),
    ("register_model.py", ["--model-package-group-name", "--model-data-url", "--evaluation-s3-uri",
                           "PendingManualApproval", "--image-uri"]),
])
def test_help_lists_the_flags_and_the_sagemaker_defaults(script, flags):
    result = run(script, "--help")
    assert result.returncode == 0, result.stderr
    for flag in flags:
        assert flag in result.stdout, flag


# -- bad input caught before any AWS call -------------------------------------------------------

def test_ingestion_refuses_a_missing_input_file(tmp_path):
    failed_with(run("featurestore_df_ingestion.py", "--input-dir", str(tmp_path), "--feature-group-name", "g"),
                str(tmp_path / "abalone.csv"), "--input-dir")


def test_ingestion_refuses_a_csv_without_the_abalone_columns(tmp_path):
    (tmp_path / "abalone.csv").write_text("sex,length,diameter\nM,0.4,0.3\n")
    failed_with(run("featurestore_df_ingestion.py", "--input-dir", str(tmp_path), "--feature-group-name", "g"),
                "height", "rings", "found: sex, length, diameter")


@pytest.mark.parametrize("flag, value, words", [
    ("--event-time", "yesterday", ["'yesterday'", "2024-05-01T12:00:00Z"]),
    ("--offline-store-s3-uri", "my-bucket/prefix", ["'my-bucket/prefix'", "s3://bucket/prefix"]),
    ("--role-arn", "SageMakerRole", ["'SageMakerRole'", "arn:aws:iam::"]),
    ("--max-workers", "0", ["--max-workers 0"]),
])
def test_ingestion_refuses_bad_flags(tmp_path, flag, value, words):
    (tmp_path / "abalone.csv").write_text(ABALONE.read_text()[:2000].rsplit("\n", 1)[0] + "\n")
    failed_with(run("featurestore_df_ingestion.py", "--input-dir", str(tmp_path), "--feature-group-name", "g",
                    flag, value), *words)


@pytest.mark.parametrize("script, args, words", [
    ("fetch_data.py", ["--athena-output-s3-uri", "athena-results/"], ["'athena-results/'", "s3://"]),
    ("fetch_data.py", ["--expected-rows", "0"], ["--expected-rows 0"]),
    ("train.py", ["--test-size", "1.5"], ["--test-size 1.5", "between 0 and 1"]),
    ("train.py", ["--fetch-timeout-seconds", "-1"], ["--fetch-timeout-seconds -1"]),
    ("train.py", ["--athena-output-s3-uri", "s3:/x"], ["'s3:/x'"]),
])
def test_fetch_and_train_refuse_bad_flags(script, args, words):
    failed_with(run(script, "--feature-group-name", "g", *args), *words)


def test_register_refuses_an_unknown_approval_status():
    result = run("register_model.py", "--model-package-group-name", "g", "--model-data-url", "s3://b/model.tar.gz",
                 "--approval-status", "Maybe")
    failed_with(result, "'Maybe'", "PendingManualApproval", code=2)


@pytest.mark.parametrize("args, words", [
    (["--model-data-url", "model.tar.gz"], ["--model-data-url 'model.tar.gz'", "s3://bucket/path/to/file"]),
    (["--model-data-url", "s3://bucket/m.tar.gz", "--evaluation-s3-uri", "s3://bucket"], ["--evaluation-s3-uri 's3://bucket'"]),
    (["--model-data-url", "s3://bucket/m.tar.gz", "--region", "xx-nowhere-1"], ["'xx-nowhere-1'", "--image-uri"]),
])
def test_register_refuses_bad_uris_and_regions_without_a_default_image(args, words):
    failed_with(run("register_model.py", "--model-package-group-name", "g", *args), *words)


def test_register_refuses_a_bad_group_name():
    failed_with(run("register_model.py", "--model-package-group-name", "abalone_models", "--model-data-url",
                    "s3://bucket/m.tar.gz"), "'abalone_models'", "hyphens")


# -- against local_aws --------------------------------------------------------------------------

def abalone_slice(directory: Path, rows: int, name: str = "abalone.csv") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    pd.read_csv(ABALONE).head(rows).to_csv(directory / name, index=False)
    return directory


def ingest(input_dir: Path, output_dir: Path, group: str, *extra: str) -> subprocess.CompletedProcess:
    return run("featurestore_df_ingestion.py", "--input-dir", str(input_dir), "--output-dir", str(output_dir),
               "--feature-group-name", group, "--role-arn", ROLE,
               "--offline-store-s3-uri", f"s3://{BUCKET}/feature-store", *extra)


def flush_offline_store(server) -> None:
    """Make buffered records visible in the offline store now (on AWS this takes minutes)."""
    request = urllib.request.Request(f"{server.endpoint}/_local_aws/flush", data=b"", method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200


def test_ingestion_creates_the_group_and_puts_every_row(aws, tmp_path):
    aws.client("s3").create_bucket(Bucket=BUCKET)
    result = ingest(abalone_slice(tmp_path / "in", 40), tmp_path / "out", "abalone-fg",
                    "--event-time", "2024-05-01T12:00:00Z")
    assert result.returncode == 0, result.stderr
    assert "creating feature group abalone-fg" in result.stdout and "ingested 40 of 40 rows" in result.stdout
    report = json.loads((tmp_path / "out" / "ingest_report.json").read_text())
    assert report["rows_read"] == report["rows_ingested"] == 40 and report["rows_failed"] == 0
    assert report["event_time"] == "2024-05-01T12:00:00Z"

    group = aws.client("sagemaker").describe_feature_group(FeatureGroupName="abalone-fg")
    assert group["FeatureGroupStatus"] == "Created"
    assert (group["RecordIdentifierFeatureName"], group["EventTimeFeatureName"]) == ("abalone_id", "event_time")
    types = {d["FeatureName"]: d["FeatureType"] for d in group["FeatureDefinitions"]}
    assert types == {"abalone_id": "String", "sex": "String", "length": "Fractional", "diameter": "Fractional",
                     "height": "Fractional", "whole_weight": "Fractional", "shucked_weight": "Fractional",
                     "viscera_weight": "Fractional", "shell_weight": "Fractional", "rings": "Integral",
                     "event_time": "String"}
    record = aws.client("sagemaker-featurestore-runtime").get_record(
        FeatureGroupName="abalone-fg", RecordIdentifierValueAsString="abalone-00001")["Record"]
    assert {f["FeatureName"]: f["ValueAsString"] for f in record} == {
        "abalone_id": "abalone-00001", "sex": "M", "length": "0.455", "diameter": "0.365", "height": "0.095",
        "whole_weight": "0.514", "shucked_weight": "0.2245", "viscera_weight": "0.101", "shell_weight": "0.15",
        "rings": "15", "event_time": "2024-05-01T12:00:00Z"}


def test_ingestion_into_a_missing_group_needs_a_role_and_no_no_create(aws, tmp_path):
    abalone_slice(tmp_path, 5)
    failed_with(run("featurestore_df_ingestion.py", "--input-dir", str(tmp_path), "--output-dir", str(tmp_path),
                    "--feature-group-name", "nope", "--no-create"), "'nope'", "--no-create")
    failed_with(run("featurestore_df_ingestion.py", "--input-dir", str(tmp_path), "--output-dir", str(tmp_path),
                    "--feature-group-name", "nope"), "'nope'", "--role-arn", "--offline-store-s3-uri")


def test_ingestion_refuses_columns_the_existing_group_lacks(aws, tmp_path):
    aws.client("s3").create_bucket(Bucket=BUCKET)
    assert ingest(abalone_slice(tmp_path / "in", 5), tmp_path / "out", "abalone-fg").returncode == 0
    frame = pd.read_csv(ABALONE).head(5).assign(colour="red")
    frame.to_csv(tmp_path / "in" / "abalone.csv", index=False)
    failed_with(ingest(tmp_path / "in", tmp_path / "out", "abalone-fg"), "colour", "'abalone-fg'")


def test_fetch_and_train_name_a_missing_feature_group(aws, tmp_path):
    for script in ("fetch_data.py", "train.py"):
        failed_with(run(script, "--feature-group-name", "no-such-group", "--model-dir", str(tmp_path),
                        "--evaluation-dir", str(tmp_path)) if script == "train.py" else
                    run(script, "--feature-group-name", "no-such-group", "--output-dir", str(tmp_path)),
                    "'no-such-group'", "does not exist")


EVALUATION = {"regression_metrics": {name: {"value": value, "standard_deviation": 0.1} for name, value in
                                     (("mse", 4.5), ("rmse", 2.12), ("mae", 1.5), ("r2", 0.55))}}


def register(evaluation_dir: Path, output_dir: Path, *extra: str) -> subprocess.CompletedProcess:
    return run("register_model.py", "--model-package-group-name", "abalone-models",
               "--model-data-url", f"s3://{BUCKET}/model/model.tar.gz",
               "--evaluation-s3-uri", f"s3://{BUCKET}/evaluation/evaluation.json",
               "--evaluation-dir", str(evaluation_dir), "--output-dir", str(output_dir), *extra)


def test_register_names_a_missing_model_artifact_and_a_missing_report(aws, tmp_path):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    failed_with(register(tmp_path, tmp_path), f"s3://{BUCKET}/model/model.tar.gz", "does not exist")
    s3.put_object(Bucket=BUCKET, Key="model/model.tar.gz", Body=b"model")
    failed_with(register(tmp_path, tmp_path), f"s3://{BUCKET}/evaluation/evaluation.json", "does not exist")
    s3.put_object(Bucket=BUCKET, Key="evaluation/evaluation.json", Body=b'{"mse": 1}')
    failed_with(register(tmp_path, tmp_path), "evaluation/evaluation.json", "regression_metrics")
    assert aws.client("sagemaker").list_model_package_groups()["ModelPackageGroupSummaryList"] == []


def test_register_reads_the_report_from_s3_when_the_directory_lacks_it(aws, tmp_path):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="model/model.tar.gz", Body=b"model")
    s3.put_object(Bucket=BUCKET, Key="evaluation/evaluation.json", Body=json.dumps(EVALUATION).encode())
    result = register(tmp_path / "empty", tmp_path / "out", "--approval-status", "Approved", "--region", "eu-west-1")
    assert result.returncode == 0, result.stderr
    registration = json.loads((tmp_path / "out" / "registration.json").read_text())
    assert registration["metrics"] == {"mse": 4.5, "rmse": 2.12, "mae": 1.5, "r2": 0.55}
    assert registration["approval_status"] == "Approved" and registration["version"] == 1
    package = aws.client("sagemaker", region_name="eu-west-1").describe_model_package(
        ModelPackageName=registration["model_package_arn"])
    assert package["InferenceSpecification"]["Containers"][0]["Image"] == (
        "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3")
    assert "rmse 2.120" in package["ModelPackageDescription"]
