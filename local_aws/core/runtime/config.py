"""Fixed identity and places of the local stand-in: one account, one default region, one port."""

from __future__ import annotations

import os
from pathlib import Path

from local_aws import settings
from local_aws.core.iam import access_keys

ACCOUNT_ID = "123456789012"
DEFAULT_REGION = "us-east-1"
DEFAULT_PORT = settings.DEFAULT_PORT
HOST = "127.0.0.1"  # loopback only, never anything else

SDK_CONFIG_FILE = Path(__file__).with_name("sagemaker_sdk_config.yaml")


def port_from_env(port: int | None = None) -> int:
    """The port to use: the argument, else LOCAL_AWS_PORT, else the default."""
    return settings.port(port)


def home_dir(port: int) -> Path:
    """Where one server keeps its pid file, log, keys, job work directories and state (LOCAL_AWS_HOME)."""
    return settings.home_dir(port)


def endpoint_url(port: int | None = None) -> str:
    return f"http://{HOST}:{port_from_env(port)}"


# Every variable client_environment sets, with either identity: what a configuration for AWS removes.
CLIENT_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_CONFIG_FILE",
    "AWS_ENDPOINT_URL",
    "PYICEBERG_CATALOG__GLUE__S3__ENDPOINT",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_EC2_METADATA_DISABLED",
    "SAGEMAKER_USER_CONFIG_OVERRIDE",
    "SAGEMAKER_ADMIN_CONFIG_OVERRIDE",
    settings.PORT.name,
)
# Credentials of another identity that would go with the key pair if left in the environment (a session
# token of AWS): whoever exports client_environment() removes them.
STALE_VARIABLES = ("AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_CREDENTIAL_EXPIRATION")


def client_environment(
    port: int | None = None, region: str = DEFAULT_REGION, credentials_token: str = "", home: Path | None = None
) -> dict[str, str]:
    """Environment variables that point boto3, the AWS CLI and the SageMaker SDK at the stand-in.

    The credentials are the account administrator's: the key pair the server issued its user, read from
    its home (`home`, else the home of `port` under LOCAL_AWS_HOME), readable by that user only
    (OSError when it cannot be read: the server never started there, or another user started it). Given
    a token from local_aws.core.iam.credentials instead, they are those of a role, fetched as a SageMaker
    container fetches them. No session token goes with the key pair: remove STALE_VARIABLES from an
    environment this updates. Instance-metadata lookups and the SDK's telemetry are switched off so
    nothing leaves the machine. pyiceberg (the SDK's Iceberg feature group helpers) reads S3 through
    pyarrow, which ignores AWS_ENDPOINT_URL: it gets the endpoint itself.
    """
    if credentials_token:
        identity = {
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": f"{endpoint_url(port)}/_local_aws/credentials",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN": credentials_token,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_CONFIG_FILE": os.devnull,
        }
    else:
        try:
            pair = access_keys.read(home or home_dir(port_from_env(port)))
        except ValueError as exc:
            raise OSError(f"local_aws's key pair cannot be read: {exc}") from None
        identity = {"AWS_ACCESS_KEY_ID": pair.access_key_id, "AWS_SECRET_ACCESS_KEY": pair.secret_access_key}
    return {
        **identity,
        "AWS_ENDPOINT_URL": endpoint_url(port),
        "PYICEBERG_CATALOG__GLUE__S3__ENDPOINT": endpoint_url(port),
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        "AWS_EC2_METADATA_DISABLED": "true",
        "SAGEMAKER_USER_CONFIG_OVERRIDE": str(SDK_CONFIG_FILE),
        "SAGEMAKER_ADMIN_CONFIG_OVERRIDE": str(SDK_CONFIG_FILE),
        settings.PORT.name: str(port_from_env(port)),
    }
