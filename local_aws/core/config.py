"""Fixed identity and places of the local stand-in: one account, one default region, one port."""

from __future__ import annotations

import os
from pathlib import Path

ACCOUNT_ID = "123456789012"
DEFAULT_REGION = "us-east-1"
DEFAULT_PORT = 4577
HOST = "127.0.0.1"  # loopback only, never anything else

SDK_CONFIG_FILE = Path(__file__).with_name("sagemaker_sdk_config.yaml")


def port_from_env(port: int | None = None) -> int:
    """The port to use: the argument, else LOCAL_AWS_PORT, else the default."""
    if port is not None:
        return int(port)
    value = os.environ.get("LOCAL_AWS_PORT", "")
    if not value:
        return DEFAULT_PORT
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise ValueError(f"LOCAL_AWS_PORT={value!r} is not a TCP port; set it to a number like {DEFAULT_PORT}")
    return int(value)


def home_dir(port: int) -> Path:
    """Where one server keeps its pid file, log and job work directories (LOCAL_AWS_HOME overrides)."""
    base = Path(os.environ.get("LOCAL_AWS_HOME", Path.home() / ".local_aws"))
    path = base / str(port)
    path.mkdir(parents=True, exist_ok=True)
    return path


def request_timeout_seconds() -> float:
    """How long a connection may stall while sending its request (LOCAL_AWS_REQUEST_TIMEOUT_SECONDS, 30)."""
    return _positive_number("LOCAL_AWS_REQUEST_TIMEOUT_SECONDS", 30.0)


def max_connections() -> int:
    """How many connections the server serves at once (LOCAL_AWS_MAX_CONNECTIONS, 64)."""
    return int(_positive_number("LOCAL_AWS_MAX_CONNECTIONS", 64))


def _positive_number(name: str, default: float) -> float:
    value = os.environ.get(name, "")
    if not value:
        return default
    try:
        number = float(value)
    except ValueError:
        number = 0.0
    if not 0 < number < float("inf"):
        raise ValueError(f"{name}={value!r} is not a positive number; unset it or set it like {default:g}")
    return number


def endpoint_url(port: int | None = None) -> str:
    return f"http://{HOST}:{port_from_env(port)}"


def client_environment(
    port: int | None = None, region: str = DEFAULT_REGION, credentials_token: str = ""
) -> dict[str, str]:
    """Environment variables that point boto3, the AWS CLI and the SageMaker SDK at the stand-in.

    The credentials are the account administrator's (the access key `local`; any key local_aws did not
    issue counts as the administrator's), or, given a token from local_aws.core.credentials, those of
    a role, fetched as a SageMaker container fetches them. Instance-metadata lookups and the SDK's
    telemetry are switched off so nothing leaves the machine. pyiceberg (the SDK's Iceberg feature
    group helpers) reads S3 through pyarrow, which ignores AWS_ENDPOINT_URL: it gets the endpoint itself.
    """
    if credentials_token:
        identity = {
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": f"{endpoint_url(port)}/_local_aws/credentials",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN": credentials_token,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_CONFIG_FILE": os.devnull,
        }
    else:
        identity = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_SESSION_TOKEN": "local"}
    return {
        **identity,
        "AWS_ENDPOINT_URL": endpoint_url(port),
        "PYICEBERG_CATALOG__GLUE__S3__ENDPOINT": endpoint_url(port),
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        "AWS_EC2_METADATA_DISABLED": "true",
        "SAGEMAKER_USER_CONFIG_OVERRIDE": str(SDK_CONFIG_FILE),
        "SAGEMAKER_ADMIN_CONFIG_OVERRIDE": str(SDK_CONFIG_FILE),
        "LOCAL_AWS_PORT": str(port_from_env(port)),
    }
