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
    status = 0  # the HTTP status when the code alone does not decide it (S3's ExpiredToken); 0: http_status decides

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


class InvalidInputException(AwsError):
    """Lake Formation's answer to input it cannot take (neither a RoleArn nor the service-linked role, say)."""

    code = "InvalidInputException"


class AlreadyExistsException(AwsError):
    code = "AlreadyExistsException"


class NotFound(AwsError):
    """An admin path (/_local_aws/...) that does not exist."""

    code = "NotFound"


class ServiceUnavailable(AwsError):
    """The server is stopping and can no longer keep what it would acknowledge: retry (SDKs do)."""

    code = "ServiceUnavailable"
    server_fault = True


class InternalFailure(AwsError):
    """local_aws itself failed: an emulator bug, answered in AWS's shape so clients keep working."""

    code = "InternalFailure"
    server_fault = True


# Errors of the request itself, answered before any service sees it (local_aws.core.gateway.http_guard,
# local_aws.core.moto.calls).
class AccessDenied(AwsError):
    """A request refused for who sends it (a web page, a foreign Host), in the XML protocols' words."""

    code = "AccessDenied"


class AccessDeniedException(AwsError):
    """The same refusal in the JSON protocols' words."""

    code = "AccessDeniedException"


class UnknownOperationException(AwsError):
    """An X-Amz-Target that names no operation local_aws or moto answers."""

    code = "UnknownOperationException"


class InvalidAction(AwsError):
    """A Query-protocol Action that names no operation local_aws or moto answers."""

    code = "InvalidAction"


class InvalidQueryParameter(AwsError):
    """A Query-protocol form that cannot be read (not UTF-8, a broken %-escape)."""

    code = "InvalidQueryParameter"


class InvalidRequest(AwsError):
    """A request whose HTTP framing cannot be read (a Content-Length that is no number, a bad request line)."""

    code = "InvalidRequest"


class IncompleteBody(AwsError):
    """The connection ended before the body had the length its Content-Length announced."""

    code = "IncompleteBody"


class RequestTimeout(AwsError):
    """The request did not arrive whole within the request timeout (SDKs retry it)."""

    code = "RequestTimeout"


class NotImplementedOperation(AwsError):
    """A REST request (S3's, say) for something moto does not implement."""

    code = "NotImplemented"


def from_code(code: str, message: str, status: int | None = None) -> AwsError:
    """An error of any code, as another service answered it (moto, to a call made inside local_aws)."""
    error = AwsError(message)
    error.code = code
    error.server_fault = status is not None and status >= 500
    return error


# Errors of authentication: a request whose signature, key or session local_aws cannot accept
# (local_aws.core.iam.authentication), in the words of each protocol: S3's REST-XML, the JSON protocols
# (SageMaker, Glue, Athena, Logs, the Feature Store runtime), the Query protocol (IAM, STS).
class MissingAuthenticationToken(AwsError):
    """An unsigned call, in the Query protocol's words."""

    code = "MissingAuthenticationToken"


class MissingAuthenticationTokenException(AwsError):
    """An unsigned call, in the JSON protocols' words."""

    code = "MissingAuthenticationTokenException"


class IncompleteSignature(AwsError):
    """An Authorization header lacking what SigV4 needs, in the Query protocol's words."""

    code = "IncompleteSignature"


class IncompleteSignatureException(AwsError):
    """An Authorization header lacking what SigV4 needs, in the JSON protocols' words."""

    code = "IncompleteSignatureException"


class AuthorizationHeaderMalformed(AwsError):
    """An Authorization header lacking what SigV4 needs, in S3's words."""

    code = "AuthorizationHeaderMalformed"


class AuthorizationQueryParametersError(AwsError):
    """A presigned URL whose X-Amz-* parameters S3 cannot take."""

    code = "AuthorizationQueryParametersError"


class InvalidAccessKeyId(AwsError):
    """S3: a key that was never issued (or was deleted or deactivated)."""

    code = "InvalidAccessKeyId"


class InvalidClientTokenId(AwsError):
    """Query protocol: a key that was never issued, or a session token that does not go with the key."""

    code = "InvalidClientTokenId"


class UnrecognizedClientException(AwsError):
    """JSON protocols: a key that was never issued, or a session token that does not go with the key."""

    code = "UnrecognizedClientException"


class InvalidToken(AwsError):
    """S3: a session token that does not go with the key."""

    code = "InvalidToken"


class SignatureDoesNotMatch(AwsError):
    """S3 and the Query protocol: a signature not made with the key's secret (or over another request)."""

    code = "SignatureDoesNotMatch"


class InvalidSignatureException(AwsError):
    """JSON protocols: a signature not made with the key's secret, or one more than 15 minutes off."""

    code = "InvalidSignatureException"


class ExpiredToken(AwsError):
    """An STS session past its expiration (S3 and the Query protocol; S3 answers it with 400, IAM and STS 403)."""

    code = "ExpiredToken"


class ExpiredTokenException(AwsError):
    """An STS session past its expiration, in the JSON protocols' words."""

    code = "ExpiredTokenException"


class RequestTimeTooSkewed(AwsError):
    """S3: a request signed more than 15 minutes before or after the server's time."""

    code = "RequestTimeTooSkewed"


# The code each service answers a request with when it breaks the API model's constraints.
_VALIDATION_ERRORS: dict[str, type[AwsError]] = {
    "sagemaker-featurestore-runtime": ValidationError,
    "iam": ValidationError,
    "athena": InvalidRequestException,
}
_STATUS_OVERRIDES = {
    "NotFound": 404,
    "ServiceUnavailable": 503,
    "AccessDenied": 403,
    "AccessDeniedException": 403,
    "NotImplemented": 501,
    # authentication (AWS's statuses: S3's, STS's and IAM's error documents, Glue's and DynamoDB's JSON errors)
    "MissingAuthenticationToken": 403,
    "MissingAuthenticationTokenException": 403,
    "InvalidAccessKeyId": 403,
    "InvalidClientTokenId": 403,
    "SignatureDoesNotMatch": 403,
    "ExpiredToken": 403,
    "RequestTimeTooSkewed": 403,
}


def validation_error(service: str, message: str) -> AwsError:
    """The error `service` answers for a request that breaks its rules, with this message."""
    return _VALIDATION_ERRORS.get(service, ValidationException)(message)


def http_status(service: str, error: AwsError) -> int:
    """The HTTP status `service` answers `error` with, as its botocore model declares it."""
    from local_aws.core.gateway.service_models import error_statuses

    if error.status:
        return error.status
    if error.code in _STATUS_OVERRIDES:
        return _STATUS_OVERRIDES[error.code]
    default = 500 if error.server_fault else 400
    return error_statuses(service).get(error.code, default) if service else default
