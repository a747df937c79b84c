"""The wire side shared by every service local_aws adds: handler registries, errors, encoding.

A service module registers its handlers with `json_action` (AWS JSON protocol, selected by the
X-Amz-Target header, e.g. "SageMaker.CreateFeatureGroup") or `rest_action` (REST-JSON, selected by
method and path, e.g. the Feature Store runtime). Handlers take the decoded request and a
RequestContext and return a dict; they raise AwsError (or a subclass named after AWS's error code)
to answer with AWS's error shape. Modules register `on_reset` hooks to forget their state and
`on_shutdown` hooks to finish work (flush buffers, stop jobs) before the server exits.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable

from werkzeug.routing import Map, Rule

from local_aws.config import ACCOUNT_ID, DEFAULT_REGION


class AwsError(Exception):
    """An error answered in AWS's shape: HTTP status, `__type` code and message."""

    code = "ValidationException"
    status = 400

    def __init__(self, message: str, code: str | None = None, status: int | None = None, **extra: Any):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        if status:
            self.status = status
        self.extra = extra


class ValidationException(AwsError):
    code = "ValidationException"


@dataclass(frozen=True)
class RequestContext:
    region: str = DEFAULT_REGION
    account_id: str = ACCOUNT_ID
    endpoint_url: str = ""  # how processes started by the server reach it


JsonHandler = Callable[[dict, RequestContext], dict]
RestHandler = Callable[..., Any]
QueryHandler = Callable[[dict, RequestContext], "str | None"]

JSON_ACTIONS: dict[tuple[str, str], JsonHandler] = {}
REST_RULES = Map(strict_slashes=False)
REST_HANDLERS: dict[str, RestHandler] = {}
QUERY_ACTIONS: dict[tuple[str, str], QueryHandler] = {}
RESET_HOOKS: list[Callable[[], None]] = []
SHUTDOWN_HOOKS: list[Callable[[], None]] = []
ADMIN_ACTIONS: dict[str, Callable[[], dict]] = {}


def json_action(target_prefix: str, action: str) -> Callable[[JsonHandler], JsonHandler]:
    """Register a handler for `X-Amz-Target: <target_prefix>.<action>`."""

    def register(fn: JsonHandler) -> JsonHandler:
        JSON_ACTIONS[(target_prefix, action)] = fn
        return fn

    return register


def rest_action(method: str, rule: str) -> Callable[[RestHandler], RestHandler]:
    """Register a REST-JSON handler: fn(ctx, body: dict, query: MultiDict, **path_args) -> dict | None."""

    def register(fn: RestHandler) -> RestHandler:
        endpoint = f"{fn.__module__}.{fn.__name__}"
        REST_RULES.add(Rule(rule, methods=[method], endpoint=endpoint))
        REST_HANDLERS[endpoint] = fn
        return fn

    return register


def query_action(service: str, action: str) -> Callable[[QueryHandler], QueryHandler]:
    """Register a handler for an AWS Query protocol call (form-encoded `Action=...`, e.g. IAM).

    The handler gets the form fields and returns the XML response body, or None to let moto answer
    the same request (after the handler has prepared moto's state).
    """

    def register(fn: QueryHandler) -> QueryHandler:
        QUERY_ACTIONS[(service, action)] = fn
        return fn

    return register


def query_error_body(error: AwsError) -> bytes:
    """AWS Query protocol's error document."""
    from xml.sax.saxutils import escape

    kind = "Sender" if error.status < 500 else "Receiver"
    return (f"<ErrorResponse><Error><Type>{kind}</Type><Code>{escape(error.code)}</Code>"
            f"<Message>{escape(error.message)}</Message></Error><RequestId>local</RequestId></ErrorResponse>").encode()


def on_reset(fn: Callable[[], None]) -> Callable[[], None]:
    RESET_HOOKS.append(fn)
    return fn


def on_shutdown(fn: Callable[[], None]) -> Callable[[], None]:
    SHUTDOWN_HOOKS.append(fn)
    return fn


def admin_action(name: str) -> Callable[[Callable[[], dict]], Callable[[], dict]]:
    """Register `POST /_local_aws/<name>`, an operator command outside the AWS APIs (e.g. flush)."""

    def register(fn: Callable[[], dict]) -> Callable[[], dict]:
        ADMIN_ACTIONS[name] = fn
        return fn

    return register


def _default(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value.timestamp()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"cannot encode {type(value).__name__}")


def encode(body: Any) -> bytes:
    """JSON with datetimes as epoch seconds, as AWS's JSON protocols send timestamps."""
    return json.dumps(body, default=_default, separators=(",", ":")).encode()


def error_body(error: AwsError) -> dict:
    return {"__type": error.code, "message": error.message, **error.extra}


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)
