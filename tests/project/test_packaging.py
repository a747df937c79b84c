"""A non-editable install of the project works: every module and the files read at run time are in
the wheel, and a server started from the installed copy runs a processing job with its guards on."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest
from support import REPO

JOB_CHECK = textwrap.dedent("""
    import json, sys, time, boto3, local_aws
    assert local_aws.__file__.startswith(sys.argv[1]), local_aws.__file__
    with local_aws.temporary_server() as server:
        session = boto3.Session(region_name="us-east-1")
        s3, sm = session.client("s3"), session.client("sagemaker")
        session.client("iam").create_role(RoleName="R", AssumeRolePolicyDocument=json.dumps({"Statement": [
            {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))
        s3.create_bucket(Bucket="wheel-check")
        s3.put_object(Bucket="wheel-check", Key="code/check.py", Body=(
            b"import sys; mods = sys.modules\\n"
            b"print('guarded', 'local_aws.job_side.netguard' in mods, 'local_aws.job_side.opt_ml_guard' in mods)\\n"
            b"print('from', mods['local_aws.job_side.netguard'].__file__)\\n"))
        sm.create_processing_job(
            ProcessingJobName="wheel-check", RoleArn="arn:aws:iam::123456789012:role/R",
            AppSpecification={"ImageUri": "python", "ContainerEntrypoint": [
                "python3", "/opt/ml/processing/input/code/check.py"]},
            ProcessingResources={"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large",
                                                   "VolumeSizeInGB": 1}},
            ProcessingInputs=[{"InputName": "code", "S3Input": {
                "S3Uri": "s3://wheel-check/code", "LocalPath": "/opt/ml/processing/input/code",
                "S3DataType": "S3Prefix", "S3InputMode": "File"}}])
        deadline = time.monotonic() + 60
        while sm.describe_processing_job(ProcessingJobName="wheel-check")["ProcessingJobStatus"] == "InProgress":
            assert time.monotonic() < deadline, "the job did not finish"
            time.sleep(0.1)
        job = sm.describe_processing_job(ProcessingJobName="wheel-check")
        assert job["ProcessingJobStatus"] == "Completed", job.get("FailureReason")
        logs = session.client("logs")
        stream = logs.describe_log_streams(logGroupName="/aws/sagemaker/ProcessingJobs")["logStreams"][0]
        lines = [e["message"] for e in logs.get_log_events(
            logGroupName="/aws/sagemaker/ProcessingJobs", logStreamName=stream["logStreamName"])["events"]]
        print("\\n".join(lines))
""")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source, out = tmp_path_factory.mktemp("source"), tmp_path_factory.mktemp("wheel")
    for name in ("pyproject.toml", "README.md"):  # a copy: building writes build/ next to the sources
        shutil.copy(REPO / name, source / name)
    for package in ("local_aws", "helpers"):
        shutil.copytree(REPO / package, source / package, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--disable-pip-version-check",
            "-w",
            str(out),
            str(source),
        ],
        check=True,
        timeout=300,
    )
    return next(out.glob("sagemaker_pipelines_tutorial-*.whl"))


def test_the_wheel_holds_every_module_and_the_files_read_at_run_time(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    sources = {
        path.relative_to(REPO).as_posix()
        for package in ("local_aws", "helpers")
        for path in (REPO / package).rglob("*.py")
        if "__pycache__" not in path.parts
    }
    assert sources - names == set()
    data_files = {"local_aws/core/runtime/sagemaker_sdk_config.yaml", "local_aws/job_side/guard_site/sitecustomize.py"}
    assert data_files <= names


def test_a_server_from_the_installed_copy_runs_a_job_with_its_guards(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    env = {**os.environ, "PYTHONPATH": str(site), "LOCAL_AWS_HOME": str(tmp_path / "home")}
    result = subprocess.run(
        [sys.executable, "-c", JOB_CHECK, str(site)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "guarded True True" in result.stdout
    assert f"from {site}" in result.stdout  # the job's guard came from the installed copy
