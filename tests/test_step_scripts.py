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
