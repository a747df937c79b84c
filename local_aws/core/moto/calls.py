"""moto's own server application, in this process: the answer to every call no service of local_aws declares.

Over HTTP, the gateway forwards the request as it came (after IAM allowed it). Inside local_aws, a call is
written as AWS's wire protocol by botocore's own serializer, answered by the same application and read back
by botocore's parser, so an in-process caller gets exactly what boto3 would: the output dict, or moto's error
raised as an AwsError of the same code and message.

moto fails on an operation that is not in the model, or that it does not implement, with an exception its
Flask app would turn into an HTML page; that is answered as AWS answers an unknown operation instead:
UnknownOperationException for a JSON call, InvalidAction for a Query call, NotImplemented (501) for a REST call.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import sys
from collections.abc import Callable, Iterable
from functools import cache
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from botocore import parsers, serialize
from botocore.awsrequest import create_request_object, prepare_request_dict
from botocore.model import OperationNotFoundError
from botocore.utils import parse_timestamp
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app

from local_aws.core.gateway import http_errors, service_models, wire
from local_aws.core.gateway.errors import (
    AwsError,
    InvalidAction,
    NotImplementedOperation,
    UnknownOperationException,
    from_code,
)

_UNIMPLEMENTED_ACTION = re.compile(r"The \w+ action has not been implemented")
IN_PROCESS_KEY = "LOCALAWSINPROCESS"  # the access key of in-process requests: moto reads the account from it
CALLER = "local_aws.caller"  # environ key of an in-process request: who makes it
REQUEST_HANDLER = MotoRequestHandler  # werkzeug's, keeping S3 metadata headers with underscores


class _Dispatcher(DomainDispatcherApplication):
    """moto's dispatcher, remembering which backend answers each host: moto's own lookup lists its package
    folder on disk for every request, which costs more than the rest of a small call."""

    def __init__(self) -> None:
        super().__init__(create_backend_app)
        self._backends: dict[str | None, Any] = {}

    def get_backend_for_host(self, host: str | None) -> Any:
        if host not in self._backends:
            self._backends[host] = super().get_backend_for_host(host)
        return self._backends[host]


class MotoApp:
    """moto's server application, answering forwarded HTTP requests and in-process calls."""

    def __init__(self, host: str):
        self.app = _Dispatcher()
        self.host = host  # 127.0.0.1:<port>, the Host of in-process requests

    # -- HTTP ------------------------------------------------------------------------------------------
    def forward(self, environ: dict, start_response: Callable[..., Any], signing_name: str) -> Iterable[bytes]:
        """moto's answer to the request, or the AWS error it gets instead."""
        try:
            return self.app(environ, start_response)
        except AwsError as error:
            return http_errors.answer(environ, start_response, error, sys.exc_info())
        except OperationNotFoundError:
            error = _unknown(environ, signing_name, False)
            return http_errors.answer(environ, start_response, error, sys.exc_info())
        except NotImplementedError as exc:
            if not _UNIMPLEMENTED_ACTION.fullmatch(str(exc)):
                raise
            error = _unknown(environ, signing_name, True)
            return http_errors.answer(environ, start_response, error, sys.exc_info())

    # -- in-process calls ------------------------------------------------------------------------------
    def environ(self, service: str, operation: str, request: dict, caller: Any) -> dict:
        """The WSGI environ of the HTTP request boto3 would send for this call (path-style S3 addresses)."""
        model = service_models.operation_model(service, operation)
        serialized = _serializer(service_models.protocol(service)).serialize_to_request(request, model)
        prepare_request_dict(serialized, endpoint_url=f"http://{self.host}")
        prepared = create_request_object(serialized).prepare()
        url = urlsplit(prepared.url)
        body = prepared.body or b""
        body = body.encode() if isinstance(body, str) else body if isinstance(body, bytes) else body.read()
        host, _, port = self.host.partition(":")
        scope = f"{dt.datetime.now(dt.UTC):%Y%m%d}/{caller.region}/{service_models.signing_name(service)}"
        environ = {
            "REQUEST_METHOD": prepared.method,
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote(url.path) or "/",
            "RAW_URI": url.path + (f"?{url.query}" if url.query else ""),
            "QUERY_STRING": url.query,
            "SERVER_NAME": host,
            "SERVER_PORT": port or "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": self.host,
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.url_scheme": "http",
            "wsgi.version": (1, 0),
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "HTTP_AUTHORIZATION": f"AWS4-HMAC-SHA256 Credential={IN_PROCESS_KEY}/{scope}/aws4_request, "
            "SignedHeaders=host, Signature=in-process",
            CALLER: caller,
        }
        for name, value in prepared.headers.items():
            key = name.upper().replace("-", "_")
            value = value.decode() if isinstance(value, bytes) else value
            environ["CONTENT_TYPE" if key == "CONTENT_TYPE" else f"HTTP_{key}"] = value
        return environ

    def call(self, environ: dict, service: str, operation: str) -> dict:
        """moto's answer to an in-process request from `environ`, parsed as boto3 parses it; an error is raised."""
        answered: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            answered["status"], answered["headers"] = int(status.split(" ", 1)[0]), headers

        chunks = self.forward(environ, start_response, service_models.signing_name(service))
        try:
            body = b"".join(chunks)
        finally:
            getattr(chunks, "close", lambda: None)()
        headers = {name.lower(): value for name, value in answered["headers"]}
        model = service_models.operation_model(service, operation)
        status = answered["status"]
        streaming = status < 300 and model.has_streaming_output
        response = {
            "status_code": status,
            "headers": headers,
            "body": io.BytesIO(body) if streaming else body,  # a stream, as botocore gives its parser
            "context": {"operation_name": operation},
        }
        parsed = _parser(service_models.protocol(service)).parse(response, model.output_shape)
        if status >= 300:
            error = parsed.get("Error", {})
            raise from_code(error.get("Code") or str(status), error.get("Message") or "", status)
        parsed.pop("ResponseMetadata", None)
        if streaming:  # the whole body, read: in-process callers get bytes
            parsed[model.output_shape.serialization["payload"]] = body
        return parsed


@cache
def _serializer(protocol: str) -> serialize.Serializer:
    return serialize.create_serializer(protocol, include_validation=False)


def _timestamp(value: Any) -> dt.datetime:
    """A timestamp moto wrote, parsed as botocore parses it (an aware datetime), ISO 8601 without dateutil."""
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            return parsed
    return parse_timestamp(value)


@cache
def _parser(protocol: str) -> parsers.ResponseParser:
    return parsers.PROTOCOL_PARSERS[protocol](timestamp_parser=_timestamp)


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
