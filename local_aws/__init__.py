"""local_aws: an embedded stand-in for AWS that really runs things, on loopback, on top of moto.

    python -m local_aws start          # or, from Python:
    import local_aws; local_aws.ensure_running()
"""
from local_aws.config import ACCOUNT_ID, DEFAULT_PORT, DEFAULT_REGION, client_environment, endpoint_url
from local_aws.lifecycle import LocalAwsError, ensure_running, free_port, reset, status, stop, temporary_server

__all__ = [
    "ACCOUNT_ID", "DEFAULT_PORT", "DEFAULT_REGION", "LocalAwsError",
    "client_environment", "endpoint_url", "ensure_running", "free_port", "reset", "status", "stop",
    "temporary_server",
]
