"""Calls that moto answers, checked first as AWS checks them and answered in AWS's shape when moto cannot.

A JSON-protocol call (an X-Amz-Target) must have a JSON object for a body, of the member types its
operation's model gives (SerializationException, as for local_aws's own operations; the model's
other constraints stay moto's to check), and its target must name an operation of the service it
is signed for (UnknownOperationException, HTTP 400). moto fails on an operation that is not in the
model, or that it does not implement, with an exception its Flask app would turn into an HTML page;
that is answered as AWS answers an unknown operation instead: UnknownOperationException for a JSON
call, InvalidAction for a Query call, NotImplemented (501) for a REST call.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl

from botocore.exceptions import DataNotFoundError
from botocore.model import OperationNotFoundError, ServiceModel

from local_aws.core.gateway import http_errors, service_models, validation, wire
from local_aws.core.gateway.errors import (
    AwsError,
    InvalidAction,
    NotImplementedOperation,
    SerializationException,
    UnknownOperationException,
)

_UNIMPLEMENTED_ACTION = re.compile(r"The \w+ action has not been implemented")


def answer(
    moto: Callable[..., Iterable[bytes]], environ: dict, start_response: Callable[..., Any], signing_name: str
) -> Iterable[bytes]:
    """moto's answer to the request, or the AWS error it gets instead."""
    try:
        _check_json_call(environ, signing_name)
        return moto(environ, start_response)
    except AwsError as error:
        return http_errors.answer(environ, start_response, error, sys.exc_info())
    except OperationNotFoundError:
        return http_errors.answer(environ, start_response, _unknown(environ, signing_name, False), sys.exc_info())
    except NotImplementedError as exc:
        if not _UNIMPLEMENTED_ACTION.fullmatch(str(exc)):
            raise
        return http_errors.answer(environ, start_response, _unknown(environ, signing_name, True), sys.exc_info())


def _check_json_call(environ: dict, signing_name: str) -> None:
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if not target or "cbor" in environ.get("CONTENT_TYPE", ""):
        return
    request = wire.json_request(wire.read_body(environ))
    model = _json_service(signing_name)
    if model is None:  # not a service botocore knows by that name: moto decides
        return
    prefix, _, name = target.partition(".")
    if prefix != model.metadata.get("targetPrefix") or name not in model.operation_names:
        raise UnknownOperationException(f"Unknown operation {target}: {model.service_name} has no such operation.")
    try:
        validation.validate(model.service_name, name, request)
    except SerializationException:
        raise
    except AwsError:
        pass  # the model's constraints: moto's to check, as it always has


def _json_service(signing_name: str) -> ServiceModel | None:
    try:
        model = service_models.service_model(signing_name)
    except DataNotFoundError:
        return None
    return model if model.metadata.get("protocol") == "json" else None


def _unknown(environ: dict, signing_name: str, in_model: bool) -> AwsError:
    """The error for a call moto cannot answer: its operation is not in the model, or moto lacks it."""
    service = signing_name or "the service"
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        return UnknownOperationException(
            f"{target} is an operation local_aws does not implement."
            if in_model
            else f"Unknown operation {target}: {service} has no such operation."
        )
    form = dict(parse_qsl(wire.read_body(environ).decode(errors="replace") or environ.get("QUERY_STRING", "")))
    if form.get("Action"):
        return InvalidAction(
            f"The action {form['Action']} of {service} is not implemented by local_aws."
            if in_model
            else f"The action {form['Action']} is not valid for this web service ({service})."
        )
    return NotImplementedOperation(
        f"local_aws does not implement {environ.get('REQUEST_METHOD')} {environ.get('PATH_INFO')} of {service}."
    )
