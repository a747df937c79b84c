"""botocore's service models: the specification local_aws answers to.

Each service local_aws serves is described by the model boto3 itself uses (in botocore's data
folder): its protocol, the X-Amz-Target prefix or REST route of each operation, every input shape
with its constraints, and the HTTP status of each error. The server routes, decodes and validates
requests with them.
"""

from __future__ import annotations

from functools import cache, lru_cache

import botocore.session
from botocore.exceptions import DataNotFoundError
from botocore.model import OperationModel, ServiceModel


@lru_cache(maxsize=1)
def _session() -> botocore.session.Session:
    return botocore.session.get_session()


@cache
def service_model(service: str) -> ServiceModel:
    """The model of a service by its botocore name (sagemaker, athena, iam, ...)."""
    return _session().get_service_model(service)


def operation_model(service: str, operation: str) -> OperationModel:
    return service_model(service).operation_model(operation)


def protocol(service: str) -> str:
    """json, rest-json or query."""
    return service_model(service).metadata["protocol"]


def json_service(signing_name: str) -> ServiceModel | None:
    """The JSON-protocol service signed as `signing_name`; None when botocore knows no such JSON service."""
    try:
        model = service_model(signing_name)
    except DataNotFoundError:  # UnknownServiceError included
        return None
    return model if model.metadata.get("protocol") == "json" else None


def target_prefix(service: str) -> str:
    """The X-Amz-Target prefix of a JSON-protocol service ("SageMaker", "AmazonAthena")."""
    return service_model(service).metadata["targetPrefix"]


def signing_name(service: str) -> str:
    """The service name in a request's SigV4 credential scope (the runtime signs as "sagemaker")."""
    metadata = service_model(service).metadata
    return metadata.get("signingName") or metadata["endpointPrefix"]


@cache
def error_statuses(service: str) -> dict[str, int]:
    """Error code -> the HTTP status the model declares for it (400 where it declares none)."""
    model = service_model(service)
    statuses = {}
    for name in model.error_shapes:
        shape = model.shape_for(name) if isinstance(name, str) else name
        error = shape.metadata.get("error") or {}
        statuses[error.get("code", shape.name)] = int(error.get("httpStatusCode", 400))
    return statuses


def rest_rule(service: str, operation: str) -> tuple[str, str]:
    """(method, werkzeug rule) of a REST operation: '/FeatureGroup/{FeatureGroupName}' ->
    '/FeatureGroup/<path:FeatureGroupName>' (a label may hold an ARN, so it matches slashes too)."""
    http = operation_model(service, operation).http
    uri = http["requestUri"].split("?", 1)[0]
    rule = uri.replace("{", "<path:").replace("+}", ">").replace("}", ">")
    return http["method"], rule
