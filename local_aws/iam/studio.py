"""local_aws playing a SageMaker Studio domain: the kernel acts as the domain's execution role.

Started with LOCAL_AWS_IDENTITY=studio, the server makes sure the account has a Studio execution
role as the SageMaker console creates it (path /service-role/, trusting sagemaker.amazonaws.com,
with AmazonSageMakerFullAccess only, so it may not create IAM roles, tag buckets or delete most Glue
tables) and hands kernels that role's credentials the way Studio does: through the container
credentials endpoint (local_aws.core.iam.credentials), with a token kept in the server's home so a
kernel keeps working across restarts. helpers.configure reads both from the health record, so the
notebooks' code is the same for an administrator and for Studio.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from local_aws import settings
from local_aws.core.iam import credentials
from local_aws.core.moto import iam as moto_iam

ROLE_NAME = "AmazonSageMaker-ExecutionRole-20261202T000000"
ROLE_PATH = "/service-role/"
POLICIES = ["arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"]
TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}
TOKEN_FILE = "studio_kernel_token"
SESSION_NAME = "SageMaker"  # the session name Studio's kernels act under


def playing_studio() -> bool:
    return settings.IDENTITY() == "studio"


def health() -> dict:
    """What the health record says about the identity kernels get."""
    if not playing_studio():
        return {"identity": "admin"}
    return {"identity": "studio", "execution_role": execution_role_arn(), "credentials_token_file": TOKEN_FILE}


def execution_role_arn() -> str:
    role = moto_iam.role(ROLE_NAME)
    return role["Arn"] if role else ""


def play_studio(home: Path) -> None:
    if playing_studio():
        credentials.grant(_ensure_role(), SESSION_NAME, token=_kernel_token(home))


def keep_the_domain() -> None:
    """A reset forgets the account's roles, but a Studio domain's execution role outlives its projects."""
    if playing_studio():
        _ensure_role()


def _ensure_role() -> str:
    return execution_role_arn() or moto_iam.create_role(ROLE_NAME, ROLE_PATH, TRUST, POLICIES)


def _kernel_token(home: Path) -> str:
    """The kernels' token: the one of an earlier start, else a new one (readable by this user only)."""
    path = home / TOKEN_FILE
    if path.exists():
        return path.read_text().strip()
    token = secrets.token_urlsafe(24)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(token)
    return token
