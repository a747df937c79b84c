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
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, MapAdapter, Rule

from local_aws.core.gateway import protocol, service_models, wire
from local_aws.core.gateway.errors import AwsError, http_status

_JSON_PROTOCOLS = ("json", "rest-json")
_QUERY_PROTOCOLS = ("query", "ec2")
_FORM = "application/x-www-form-urlencoded"


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
    if _rest_json_route(environ):  # an unsigned call of a REST-JSON API local_aws answers (the Feature Store runtime)
        return "json"
    return "xml"


_rest_json_routes: tuple[int, MapAdapter | None] = (-1, None)


def _rest_json_route(environ: dict) -> bool:
    """Whether the request's method and path are those of a REST-JSON operation local_aws registers (its routes
    are read once every service registered its operations)."""
    global _rest_json_routes
    registered, routes = _rest_json_routes
    if registered != len(protocol.OPERATIONS):
        rules = []
        for operation in protocol.OPERATIONS.values():
            if service_models.protocol(operation.service) == "rest-json":
                method, rule = service_models.rest_rule(operation.service, operation.name)
                rules.append(Rule(rule, methods=[method]))
        routes = Map(rules, strict_slashes=False).bind("localhost")
        _rest_json_routes = (len(protocol.OPERATIONS), routes)
    try:
        routes.match(environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET"))  # type: ignore[union-attr]
    except HTTPException:
        return False
    return True


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
