"""Requests and responses on the wire, in the three protocols of the services local_aws answers.

JSON (SageMaker, Athena): the body is the input. REST-JSON (the Feature Store runtime): members come
from the path, the query string and the body, where the operation's model puts them. Query (IAM):
form fields, lists as `Name.member.N`. Responses are JSON, or for Query the XML document the
protocol defines; timestamps are epoch seconds in JSON and ISO 8601 in XML. Every protocol's request
is signed for a service (its SigV4 credential scope) and has a body, read once and kept for moto.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal
from functools import cache
from typing import Any
from xml.sax.saxutils import escape

from botocore.model import Shape
from werkzeug.datastructures import MultiDict

from local_aws.core.gateway.errors import AwsError, SerializationException
from local_aws.core.gateway.service_models import operation_model, service_model
from local_aws.core.runtime.config import DEFAULT_REGION


def signing_scope(environ: dict) -> tuple[str, str]:
    """(service, region) from the SigV4 Authorization header's credential scope; ("", default) unsigned."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    try:
        scope = auth.split("Credential=", 1)[1].split(",", 1)[0]
        _, _, region, service, _ = scope.split("/")
        return service, region
    except (IndexError, ValueError):
        return "", DEFAULT_REGION


def read_body(environ: dict) -> bytes:
    """The whole body, left readable again for whoever reads it next (moto, when it answers)."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    stream = environ["wsgi.input"]
    if stream.seekable():  # the guard's buffer, maybe read before
        stream.seek(0)
    raw = stream.read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(raw)
    return raw


def json_request(raw: bytes) -> dict:
    """A JSON-protocol body as its input (an empty body is an empty input)."""
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SerializationException(f"The request body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise SerializationException("The request body must be a JSON object holding the operation's input.")
    return body


def rest_request(service: str, operation: str, path_args: dict[str, str], query: MultiDict, raw: bytes) -> dict:
    """A REST-JSON request's input: its body plus the members the model places in the path and query."""
    request = json_request(raw)
    for name, location, wire_name, member in _placed_members(service, operation):
        if location == "uri" and wire_name in path_args:
            request[name] = path_args[wire_name]
        elif location == "querystring" and wire_name in query:
            values = query.getlist(wire_name)
            request[name] = (
                [_scalar(v, member.member) for v in values]
                if member.type_name == "list"
                else _scalar(values[0], member)
            )
    return request


@cache
def _placed_members(service: str, operation: str) -> tuple[tuple[str, str, str, Shape], ...]:
    """(member, location, name on the wire, shape) of each input member the path or query string carries."""
    members = operation_model(service, operation).input_shape.members.items()
    return tuple(
        (name, member.serialization["location"], member.serialization.get("name", name), member)
        for name, member in members
        if member.serialization.get("location") in ("uri", "querystring")
    )


def query_request(service: str, operation: str, form: dict[str, str]) -> dict:
    """A Query-protocol request's input from its form fields."""
    shape = operation_model(service, operation).input_shape
    return _from_form(shape, form, "") if shape is not None else {}


def _from_form(shape: Shape, form: dict[str, str], prefix: str) -> Any:
    if shape.type_name == "structure":
        out = {}
        for name, member in shape.members.items():
            value = _from_form(member, form, f"{prefix}.{name}" if prefix else name)
            if value is not None:
                out[name] = value
        return out if out or not prefix else None  # an absent nested structure is no member at all
    if shape.type_name == "list":
        items, index = [], 1
        while any(key == f"{prefix}.member.{index}" or key.startswith(f"{prefix}.member.{index}.") for key in form):
            items.append(_from_form(shape.member, form, f"{prefix}.member.{index}"))
            index += 1
        return items if items or prefix in form else None  # `Name=` alone is an empty list
    if shape.type_name == "map":
        entries, index = {}, 1
        while f"{prefix}.entry.{index}.key" in form:
            entry = f"{prefix}.entry.{index}"
            entries[form[f"{entry}.key"]] = _from_form(shape.value, form, f"{entry}.value")
            index += 1
        return entries or None
    return _scalar(form[prefix], shape) if prefix in form else None


def _scalar(text: str, shape: Shape) -> Any:
    """A string from a query string or form as the member's type."""
    kind = shape.type_name
    try:
        if kind in ("integer", "long"):
            return int(text)
        if kind in ("float", "double"):
            return float(text)
    except ValueError:
        raise SerializationException(f"Value '{text}' is not a valid {kind}.") from None
    if kind == "boolean":
        if text.lower() not in ("true", "false"):
            raise SerializationException(f"Value '{text}' is not a valid boolean; use true or false.")
        return text.lower() == "true"
    return text


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.timestamp()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"cannot encode {type(value).__name__}")


def encode_json(body: Any) -> bytes:
    """JSON with datetimes as epoch seconds, as AWS's JSON protocols send timestamps."""
    return json.dumps(body, default=_json_default, separators=(",", ":")).encode()


def json_error(error: AwsError) -> bytes:
    return encode_json({"__type": error.code, "message": error.message, **error.extra})


def query_response(service: str, operation: str, result: dict, request_id: str) -> bytes:
    """The Query protocol's XML answer: <OpResponse><OpResult>...</OpResult><ResponseMetadata/>."""
    namespace = service_model(service).metadata.get("xmlNamespace", "")
    return (
        f'<{operation}Response xmlns="{namespace}"><{operation}Result>{_to_xml(result)}</{operation}Result>'
        f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{operation}Response>"
    ).encode()


def _to_xml(value: Any) -> str:
    if isinstance(value, dict):
        return "".join(f"<{key}>{_to_xml(item)}</{key}>" for key, item in value.items() if item is not None)
    if isinstance(value, list):
        return "".join(f"<member>{_to_xml(item)}</member>" for item in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    return escape(str(value))


def query_error(error: AwsError, status: int, request_id: str) -> bytes:
    """AWS Query protocol's error document."""
    kind = "Sender" if status < 500 else "Receiver"
    return (
        f"<ErrorResponse><Error><Type>{kind}</Type><Code>{escape(error.code)}</Code>"
        f"<Message>{escape(error.message)}</Message></Error><RequestId>{request_id}</RequestId>"
        "</ErrorResponse>"
    ).encode()


def s3_error(error: AwsError, request_id: str) -> bytes:
    """The REST-XML (S3) error document, also the answer to a request whose protocol is unknown; the error's
    extra members are elements of their own, as S3 adds them (AWSAccessKeyId, ServerTime, ...)."""
    extra = "".join(f"<{name}>{escape(str(value))}</{name}>" for name, value in error.extra.items())
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{escape(error.code)}</Code><Message>{escape(error.message)}</Message>{extra}"
        f"<RequestId>{request_id}</RequestId></Error>"
    ).encode()
