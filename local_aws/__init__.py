"""local_aws: an embedded stand-in for AWS that really runs things, on loopback, on top of moto.

    python -m local_aws start          # or, from Python:
    import local_aws; local_aws.ensure_running()

The package is laid out like moto: one subpackage per service (featurestore, athena, jobs,
pipelines; iam, model_registry, sagemaker_models and lakeformation are single modules), each with
its state, request handlers and errors side by side, on `local_aws.core`, which holds what they
share: the server and its router, the handler registries, errors, the botocore-model-driven
validation, paging, the one module that touches moto's internals, durable state, configuration,
the server's lifecycle and the guards.
"""

from local_aws.core.runtime.config import ACCOUNT_ID, DEFAULT_PORT, DEFAULT_REGION, client_environment, endpoint_url
from local_aws.core.runtime.lifecycle import (
    LocalAwsError,
    ensure_running,
    flush,
    free_port,
    reset,
    status,
    stop,
    temporary_server,
)

__all__ = [
    "ACCOUNT_ID",
    "DEFAULT_PORT",
    "DEFAULT_REGION",
    "LocalAwsError",
    "client_environment",
    "endpoint_url",
    "ensure_running",
    "flush",
    "free_port",
    "reset",
    "status",
    "stop",
    "temporary_server",
]
