"""Temporary credentials of a role, served the way SageMaker's containers and Studio kernels get theirs.

A job's processes (and a Studio kernel, when local_aws plays Studio) find
AWS_CONTAINER_CREDENTIALS_FULL_URI and AWS_CONTAINER_AUTHORIZATION_TOKEN in their environment, and
every AWS SDK's container provider fetches credentials there, refreshing them before they expire, as
from a SageMaker container's credentials endpoint. The token names the role and session; the answer is
an STS AssumeRole session of that role (moto's STS), so calls made with it act as the role.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
import threading

from local_aws import settings
from local_aws.core.gateway.errors import AccessDenied, ValidationException
from local_aws.core.moto import iam as moto_iam

SAGEMAKER_SERVICE = "sagemaker.amazonaws.com"
_REFRESH_BEFORE = dt.timedelta(minutes=20)  # botocore refreshes 15 minutes before expiry: hand out fresh ones

_lock = threading.Lock()
_grants: dict[str, tuple[str, str]] = {}  # token -> (role ARN, session name)
_issued: dict[str, dict] = {}  # token -> the credentials last handed out


def grant(role_arn: str, session_name: str, token: str | None = None) -> str:
    """A token that fetches credentials of `role_arn` (a new random one unless given)."""
    token = token or secrets.token_urlsafe(24)
    with _lock:
        _grants[token] = (role_arn, session_name)
    return token


def revoke(token: str) -> None:
    with _lock:
        _grants.pop(token, None)
        _issued.pop(token, None)


def fetch(authorization: str) -> dict:
    """GET /_local_aws/credentials: the credentials the Authorization header's token grants."""
    with _lock:
        grant_ = next((g for t, g in _grants.items() if hmac.compare_digest(t.encode(), authorization.encode())), None)
        if grant_ is None:
            raise AccessDenied("The credentials endpoint needs the token given in AWS_CONTAINER_AUTHORIZATION_TOKEN.")
        issued = _issued.get(authorization)
        if issued is None or _expires_soon(issued):
            issued = _issued[authorization] = moto_iam.assume_role(*grant_)
    return {key: issued[key] for key in ("AccessKeyId", "SecretAccessKey", "Token", "Expiration")} | {
        "RoleArn": grant_[0]
    }


def _expires_soon(credentials: dict) -> bool:
    expiration = dt.datetime.strptime(credentials["Expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    return expiration - dt.datetime.now(dt.UTC) < _REFRESH_BEFORE


def require_trust(role_arn: str, service: str = SAGEMAKER_SERVICE) -> None:
    """SageMaker's check when it is handed a role: the role exists and trusts the service to assume it.

    IAM is eventually consistent: with LOCAL_AWS_ROLE_PROPAGATION_SECONDS set, a role younger than that
    cannot be assumed yet either, as a role seconds old sometimes cannot on AWS."""
    role = moto_iam.role(role_arn)
    if role is None or not _trusts(role["Trust"], service) or _too_new(role["CreateDate"]):
        raise ValidationException(
            f"Could not assume role {role_arn}. Please ensure that the role exists and allows "
            f"principal '{service}' to assume the role."
        )


def _too_new(created: dt.datetime) -> bool:
    seconds = settings.ROLE_PROPAGATION_SECONDS()
    created = created if created.tzinfo else created.replace(tzinfo=dt.UTC)
    return dt.datetime.now(dt.UTC) - created < dt.timedelta(seconds=seconds)


def _trusts(trust: dict, service: str) -> bool:
    statements = trust.get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        actions = statement.get("Action", [])
        actions = actions if isinstance(actions, list) else [actions]
        services = (
            (statement.get("Principal") or {}).get("Service", [])
            if isinstance(statement.get("Principal"), dict)
            else []
        )
        services = services if isinstance(services, list) else [services]
        if (
            statement.get("Effect") == "Allow"
            and service in services
            and any(a.lower() in ("sts:assumerole", "sts:*", "*") for a in actions)
        ):
            return True
    return False
