"""A learner's wrong turns on a fresh machine, each answered in one line that names the notebook to run first,
and IAM's eventual consistency on the right path.

One local_aws of its own, with LOCAL_AWS_ROLE_PROPAGATION_SECONDS: on AWS a role created seconds ago is
sometimes not yet assumable, so local_aws refuses such a role as SageMaker does ("Could not assume role
..."), and 00_setup, which creates the project's role, waits until the role is usable. In order:
03 before 00 (names 00_setup), 04 before anything (names the whole path), 00 (waits for its role), then
05 and 03 after 00 without 02 (both name 02_ingest) - each stop well within a minute, instead of a long SDK
traceback or a training job that waits half an hour on an empty offline store.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import boto3
import nbformat
import pytest
from support import REPO

import local_aws


def papermill(notebook: str, out_dir: Path) -> tuple[subprocess.CompletedProcess, list[dict], float]:
    """Run one notebook as `make tutorial` does; the run, every output of the executed copy, seconds taken."""
    executed = out_dir / notebook
    started = time.monotonic()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "papermill",
            str(REPO / "notebooks" / notebook),
            str(executed),
            "--cwd",
            str(REPO / "notebooks"),
        ],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        cwd=REPO,
        timeout=300,
    )
    outputs = [output for cell in nbformat.read(executed, 4).cells for output in cell.get("outputs", [])]
    return result, outputs, time.monotonic() - started


def stop_line(outputs: list[dict]) -> str:
    """The one line a notebook stopped with: its error output, which must be a NotReady without a traceback."""
    errors = [output for output in outputs if output["output_type"] == "error"]
    assert len(errors) == 1, errors
    assert errors[0]["ename"] == "NotReady", errors[0]
    assert len(errors[0]["traceback"]) == 1, errors[0]["traceback"]
    return errors[0]["evalue"]


@pytest.mark.timeout(600)
def test_each_wrong_turn_stops_in_one_line_naming_the_notebook_to_run_first(tmp_path, monkeypatch):
    monkeypatch.setenv("LOCAL_AWS_ROLE_PROPAGATION_SECONDS", "15")  # outlasts importing the SDK: the first try fails
    with local_aws.temporary_server():
        result, outputs, seconds = papermill("03_train.ipynb", tmp_path)
        assert result.returncode != 0
        assert stop_line(outputs) == (
            "the bucket sagemaker-us-east-1-123456789012 does not exist yet: run 00_setup first"
        )
        assert seconds < 60, seconds

        result, outputs, seconds = papermill("04_register.ipynb", tmp_path)
        assert result.returncode != 0
        assert "run 00_setup, 02_ingest and 03_train first" in stop_line(outputs)

        result, setup_outputs, _ = papermill("00_setup.ipynb", tmp_path)
        assert result.returncode == 0, result.stderr[-4000:]
        role = boto3.client("iam").get_role(RoleName="abalone-sagemaker-execution")["Role"]

        result, outputs, _ = papermill("05_build_pipeline.ipynb", tmp_path)
        assert result.returncode != 0  # the pipeline's input, the data set 02 uploads, is not there
        assert stop_line(outputs) == (
            "s3://sagemaker-us-east-1-123456789012/abalone/data/abalone.csv is not there yet: run 02_ingest first"
        )

        result, outputs, seconds = papermill("03_train.ipynb", tmp_path)
        assert result.returncode != 0
        assert stop_line(outputs) == "the feature group abalone-features holds no records yet: run 02_ingest first"
        assert seconds < 120, seconds
        jobs = boto3.client("sagemaker").list_processing_jobs()["ProcessingJobSummaries"]
        assert jobs == [], "03 started a job although it had nothing to train on"
    # 00 waited for its new role; SageMaker may assume it on behalf of this account only, as the SDK's own
    # role template says.
    text = "\n".join(str(output.get("text", "")) for output in setup_outputs)
    assert "Created role abalone-sagemaker-execution." in text, text
    assert "The new role is not usable yet; retrying in 5 s." in text, text
    assert "Feature group abalone-features is Created" in text, text
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "sagemaker.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}},
        }
    ]
