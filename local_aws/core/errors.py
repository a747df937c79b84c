"""The AWS errors local_aws answers: one class per AWS error code.

A handler raises one of these; the server answers it in the protocol's error shape. The HTTP status
is not fixed per class: it is the one the service's botocore model declares for that code (the
Feature Store runtime answers ResourceNotFound with 404, SageMaker with 400), else 400 for a client
error and 500 for a service fault.
"""
from __future__ import annotations

from typing import Any


class AwsError(Exception):
    """An error answered in AWS's shape: its code, message and any extra members (e.g. AthenaErrorCode)."""

    code = "InternalFailure"
    server_fault = False  # True: the service failed (5xx), not the request

    def __init__(self, message: str, **extra: Any):
        super().__init__(message)
        self.message = message
        self.extra = extra


class ValidationException(AwsError):
    """The request breaks the API's rules (SageMaker, and the code most AWS JSON services use)."""

    code = "ValidationException"


class ValidationError(AwsError):
    """The request breaks the API's rules, as the Feature Store runtime and IAM name it."""

    code = "ValidationError"


class InvalidRequestException(AwsError):
    """Athena's answer to a request it cannot take: always carries an AthenaErrorCode."""

    code = "InvalidRequestException"

    def __init__(self, message: str, athena_error_code: str = "INVALID_INPUT"):
        super().__init__(message, AthenaErrorCode=athena_error_code)


class SerializationException(AwsError):
    """The request body cannot be read as the protocol's JSON (or a member has the wrong JSON type)."""

    code = "SerializationException"


class ResourceNotFound(AwsError):
    code = "ResourceNotFound"


class ResourceInUse(AwsError):
    code = "ResourceInUse"


class ResourceLimitExceeded(AwsError):
    code = "ResourceLimitExceeded"


class ConflictException(AwsError):
    code = "ConflictException"


class NoSuchEntity(AwsError):
    code = "NoSuchEntity"


class InvalidInput(AwsError):
    code = "InvalidInput"


class NotFound(AwsError):
    """An admin path (/_local_aws/...) that does not exist."""

    code = "NotFound"


class InternalFailure(AwsError):
    """local_aws itself failed: an emulator bug, answered in AWS's shape so clients keep working."""

    code = "InternalFailure"
    server_fault = True


# The code each service answers a request with when it breaks the API model's constraints.
_VALIDATION_ERRORS: dict[str, type[AwsError]] = {
    "sagemaker-featurestore-runtime": ValidationError,
    "iam": ValidationError,
    "athena": InvalidRequestException,
}
_STATUS_OVERRIDES = {"NotFound": 404}


def validation_error(service: str, message: str) -> AwsError:
    """The error `service` answers for a request that breaks its rules, with this message."""
    return _VALIDATION_ERRORS.get(service, ValidationException)(message)


def http_status(service: str, error: AwsError) -> int:
    """The HTTP status `service` answers `error` with, as its botocore model declares it."""
    from local_aws.core.service_models import error_statuses

    if error.code in _STATUS_OVERRIDES:
        return _STATUS_OVERRIDES[error.code]
    default = 500 if error.server_fault else 400
    return error_statuses(service).get(error.code, default) if service else default
