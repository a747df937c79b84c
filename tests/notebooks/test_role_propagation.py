"""IAM is eventually consistent: on AWS a role created seconds ago is sometimes not yet assumable. With
LOCAL_AWS_ROLE_PROPAGATION_SECONDS local_aws refuses such a role as SageMaker does ("Could not assume
role ..."), and 00_setup, which creates the project's role, waits until the role is usable. The role
trusts SageMaker for this account only (aws:SourceAccount)."""
from __future__ import annotations

import os
import subprocess
import sys

import boto3
import nbformat

import local_aws
from support import REPO


def test_00_waits_until_the_role_it_created_is_usable(tmp_path, monkeypatch):
    monkeypatch.setenv("LOCAL_AWS_ROLE_PROPAGATION_SECONDS", "15")  # outlasts importing the SDK: the first try fails
    with local_aws.temporary_server():
        executed = tmp_path / "00_setup.ipynb"
        result = subprocess.run([sys.executable, "-m", "papermill", str(REPO / "notebooks" / "00_setup.ipynb"),
                                 str(executed), "--cwd", str(REPO / "notebooks")],
                                capture_output=True, text=True, env=dict(os.environ), cwd=REPO, timeout=300)
        role = boto3.client("iam").get_role(RoleName="abalone-sagemaker-execution")["Role"]
    # SageMaker may assume it on behalf of this account only, as the SDK's own role template says.
    assert role["AssumeRolePolicyDocument"]["Statement"] == [{
        "Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}}}]
    assert result.returncode == 0, result.stderr[-4000:]
    text = "\n".join(str(output.get("text", "")) for cell in nbformat.read(executed, 4).cells
                     for output in cell.get("outputs", []))
    assert "Created role abalone-sagemaker-execution." in text, text
    assert "The new role is not usable yet; retrying in 5 s." in text, text
    assert "Feature group abalone-features is Created" in text, text
