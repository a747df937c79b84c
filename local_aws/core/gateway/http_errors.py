"""Errors answered before any service knows the operation, in the shape the request's client reads.

A request refused by the HTTP guard or found to name no operation has no handler to answer it, so
its protocol is read from the request itself: an X-Amz-Target or a signing service that speaks JSON
get AWS's JSON error (`{"__type": ..., "message": ...}`), a request signed for a Query-protocol
service (IAM, STS) the Query XML error document, one signed for S3 the S3 error document whatever
its content type; an unsigned request is read by its content type (JSON, a form) or its path (a REST-JSON
route of the Feature Store runtime), else as S3's.
Admin commands (/_local_aws/) answer in JSON.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from botocore.exceptions import DataNotFoundError

from local_aws.core.gateway import service_models, wire
from local_aws.core.gateway.errors import AwsError, http_status

_JSON_PROTOCOLS = ("json", "rest-json")
_QUERY_PROTOCOLS = ("query", "ec2")
_FORM = "application/x-www-form-urlencoded"
SHAPE = "local_aws.error_shape"  # environ key: the shape the router found for a request its signature does not tell


def request_shape(environ: dict) -> str:
    """ "json", "query" or "xml": the error shape the client of this request reads."""
    if environ.get("PATH_INFO", "").startswith("/_local_aws/") or environ.get("HTTP_X_AMZ_TARGET"):
        return "json"
    signed_protocol = _protocol(wire.signing_scope(environ)[0])
    if signed_protocol in _JSON_PROTOCOLS:
        return "json"
    if signed_protocol in _QUERY_PROTOCOLS:
        return "query"
    if signed_protocol:  # S3's REST-XML, whatever the content type of the object sent
        return "xml"
    content_type = environ.get("CONTENT_TYPE", "").lower()
    if "json" in content_type:
        return "json"
    if content_type.startswith(_FORM):
        return "query"
    return environ.get(SHAPE, "xml")  # the router's word for an unsigned call of a REST-JSON API it answers


def _protocol(signing_name: str) -> str:
    """The protocol of the botocore service named like the signing service ("" when there is none)."""
    if not signing_name:
        return ""
    try:
        return service_models.protocol(signing_name)
    except DataNotFoundError:  # UnknownServiceError included: a signing name that is no service's name
        return ""


def answer(environ: dict, start_response: Callable[..., Any], error: AwsError, exc_info: Any = None) -> Iterable[bytes]:
    """Answer `error` with its HTTP status, in the request's error shape."""
    status = http_status("", error)
    request_id = os.urandom(16).hex()
    shape = request_shape(environ)
    if shape == "json":
        payload = wire.json_error(error)
        headers = [
            ("Content-Type", "application/x-amz-json-1.1"),
            ("x-amzn-ErrorType", error.code),
            ("x-amzn-RequestId", request_id),
        ]
    elif shape == "query":
        payload = wire.query_error(error, status, request_id)
        headers = [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)]
    else:
        payload = wire.s3_error(error, request_id)
        headers = [("Content-Type", "application/xml"), ("x-amz-request-id", request_id)]
    headers.append(("Content-Length", str(len(payload))))
    start_response(f"{status} {HTTPStatus(status).phrase}", headers, exc_info)
    return [payload]
