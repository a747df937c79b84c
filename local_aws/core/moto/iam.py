"""moto's IAM and STS, as local_aws needs them: roles, their policies and trust, credentials and keys.

Authentication (local_aws.core.iam.authentication) finds here the secret, owner and session of an access
key moto issued; IAM decisions (local_aws.core.iam.authorization) read the policies of the role or user behind
a request's access key here; jobs and a Studio kernel get temporary credentials of their role from moto's STS,
so moto's GetCallerIdentity names them as AWS does. AWS-managed policies come from moto's bundled
data, one at a time when first named (loading all ~9,500 up front makes every reset take seconds).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from moto.iam.aws_managed_policies import aws_managed_policies_data
from moto.iam.models import AWSManagedPolicy, iam_backends
from moto.sts.models import sts_backends

from local_aws.core.moto import state as moto_state
from local_aws.core.runtime.config import ACCOUNT_ID, DEFAULT_REGION

AWS_POLICY_PREFIX = "arn:aws:iam::aws:policy/"


@dataclass(frozen=True)
class KeyOwner:
    """Who holds an access key moto issued: an assumed role's session or an IAM user."""

    arn: str  # arn:aws:sts::<account>:assumed-role/<role>/<session> or arn:aws:iam::<account>:user/<name>
    identity_arn: str  # the role or user whose policies apply


def _iam(account_id: str = ACCOUNT_ID) -> Any:
    return iam_backends[account_id]["aws"]


def _sts(account_id: str = ACCOUNT_ID) -> Any:
    return sts_backends[account_id]["aws"]


def parse_document(document: str | dict) -> dict:
    """A policy document as moto keeps it (JSON, sometimes URL-encoded) as a dict."""
    if isinstance(document, dict):
        return document
    try:
        return json.loads(document)
    except json.JSONDecodeError:
        return json.loads(unquote(document))


@functools.lru_cache(maxsize=1)
def _managed_policy_data() -> dict:
    return json.loads(aws_managed_policies_data)


@moto_state.changes
def load_aws_managed_policy(arn: str, account_id: str = ACCOUNT_ID) -> None:
    """Copy one AWS-managed policy from moto's bundled data into its IAM backend, if known and missing."""
    backend = _iam(account_id)
    name = arn.rsplit("/", 1)[-1]
    if arn not in backend.managed_policies and name in _managed_policy_data():
        policy = AWSManagedPolicy.from_data(name, account_id, "us-east-1", _managed_policy_data()[name])
        backend.managed_policies[policy.arn] = policy


def _principal(arn: str, account_id: str) -> Any:
    resource = arn.split(":", 5)[-1]  # role/path/name or user/path/name
    kind, name = resource.split("/", 1)[0], resource.rsplit("/", 1)[-1]
    backend = _iam(account_id)
    try:
        return backend.get_role(name) if kind == "role" else backend.get_user(name)
    except Exception:  # moto's NoSuchEntity
        return None


def principal_policies(arn: str, account_id: str = ACCOUNT_ID) -> list[tuple[str, dict]] | None:
    """(policy name, document) of every identity policy of the role or user an ARN names; None if absent."""
    principal = _principal(arn, account_id)
    if principal is None:
        return None
    documents = [(name, parse_document(document)) for name, document in principal.policies.items()]
    for policy in principal.managed_policies.values():
        default = next((v for v in policy.versions if v.is_default), None)
        if default is not None:
            documents.append((policy.name, parse_document(default.document)))
    return documents


def role(arn_or_name: str, account_id: str = ACCOUNT_ID) -> dict | None:
    """A role's ARN, trust policy and creation time; None when there is no such role."""
    name = arn_or_name.rsplit("/", 1)[-1]
    try:
        found = _iam(account_id).get_role(name)
    except Exception:  # moto's NoSuchEntity
        return None
    if arn_or_name.startswith("arn:") and found.arn != arn_or_name:
        return None  # same name, another path or account: not this role
    return {
        "Arn": found.arn,
        "Trust": parse_document(found.assume_role_policy_document),
        "CreateDate": found.create_date,
    }


@moto_state.changes
def create_role(name: str, path: str, trust: dict, policy_arns: list[str], account_id: str = ACCOUNT_ID) -> str:
    """Create a role with AWS-managed policies attached (an identity local_aws plays); returns its ARN."""
    backend = _iam(account_id)
    created = backend.create_role(
        role_name=name,
        assume_role_policy_document=json.dumps(trust),
        path=path,
        permissions_boundary=None,
        description="",
        tags=[],
        max_session_duration="3600",
        linked_service=None,
    )
    for arn in policy_arns:
        load_aws_managed_policy(arn, account_id)
        backend.attach_role_policy(arn, name)
    return created.arn


def assume_role(role_arn: str, session_name: str, duration: int = 3600) -> dict:
    """Temporary credentials of a role, issued by moto's STS as AssumeRole issues them."""
    assumed = _sts(role_arn.split(":")[4] or ACCOUNT_ID).assume_role(
        region_name=DEFAULT_REGION,
        role_session_name=session_name,
        role_arn=role_arn,
        policy="",
        duration=duration,
        external_id="",
    )
    return {
        "AccessKeyId": assumed.access_key_id,
        "SecretAccessKey": assumed.secret_access_key,
        "Token": assumed.session_token,
        "Expiration": assumed.expiration.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "Arn": assumed.arn,
    }


@dataclass(frozen=True)
class IssuedKey:
    """An active access key moto issued: its secret, its owner and, for an STS session, the session's token and end."""

    secret_access_key: str = field(repr=False)
    owner: KeyOwner
    session_token: str | None = field(default=None, repr=False)  # None: an IAM user's long-term key
    expiration: dt.datetime | None = None  # UTC


def issued_key(access_key_id: str, account_id: str = ACCOUNT_ID) -> IssuedKey | None:
    """The active key moto's STS (a role's session) or IAM (a user's access key) issued; None for any other key,
    a deleted one or an inactive one."""
    key = _iam(account_id).access_keys.get(access_key_id)
    if key is None or key.status != "Active":
        return None
    if key.user_name is None:  # a temporary key: the session moto's STS issued with it
        assumed = _sts(account_id).get_assumed_role_from_access_key(access_key_id)
        if assumed is None:
            return None
        expiration = assumed.expiration.replace(tzinfo=dt.UTC)
        return IssuedKey(
            key.secret_access_key, KeyOwner(assumed.arn, assumed.role_arn), assumed.session_token, expiration
        )
    user = _iam(account_id).users.get(key.user_name)
    if user is None:
        return None
    return IssuedKey(key.secret_access_key, KeyOwner(user.arn, user.arn))


def key_active(access_key_id: str, account_id: str = ACCOUNT_ID) -> bool:
    """Whether moto still holds this key, active (a dictionary lookup: a deleted, deactivated or reset key is not)."""
    key = _iam(account_id).access_keys.get(access_key_id)
    return key is not None and key.status == "Active"
