"""Which calls write, and how a write is admitted: acknowledged only once the next save can keep it.

A call writes unless it reads by its HTTP method (GET, HEAD) or by its operation's name: SageMaker's,
Athena's, Glue's and IAM's reads are POSTs named Get*, List*, Describe*, Search*... The operation is named by
the X-Amz-Target (JSON protocols), the form's Action (Query), or, for the REST operations local_aws declares,
by their route (the Feature Store runtime's BatchGetRecord is a POST). STS keeps nothing that is saved, and
the admin commands (/_local_aws/: reset, flush, shutdown) are the runtime's own: neither is refused.

Write requests are admitted before they run (WriteAdmission, from the HTTP server's request wrapper); writes
made inside local_aws are counted by the server's gateway (CountingGateway) and never refused
(local_aws.core.runtime.durability says why).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map

from local_aws.core.gateway import wire
from local_aws.core.gateway.context import Caller
from local_aws.core.gateway.gateway import Gateway, writes
from local_aws.core.runtime.durability import PER_WRITE, Durability

_READ_METHODS = ("GET", "HEAD", "OPTIONS")


def request_writes(environ: dict, rest_routes: Mapping[str, Map]) -> bool:
    """Whether an HTTP request may change saved state; `rest_routes` are the router's REST routes by signing name."""
    method = environ.get("REQUEST_METHOD", "")
    if method in _READ_METHODS or environ.get("PATH_INFO", "").startswith("/_local_aws/"):
        return False
    signing = wire.signing_scope(environ)[0]
    return writes(signing, _operation(environ, signing, rest_routes))


def _operation(environ: dict, signing: str, rest_routes: Mapping[str, Map]) -> str:
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        return target.rpartition(".")[2]
    if signing != "s3" and environ.get("CONTENT_TYPE", "").lower().startswith("application/x-www-form-urlencoded"):
        form = dict(parse_qsl(wire.read_body(environ).decode(errors="replace"), keep_blank_values=True))
        return form.get("Action", "")
    rules = rest_routes.get(signing)
    if rules is None:
        return ""
    try:
        endpoint, _ = rules.bind("localhost").match(environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD"))
    except HTTPException:
        return ""
    return str(endpoint).partition(":")[2]


def request_bytes(request: Any) -> int:
    """What an in-process call writes: the bytes and text it carries, plus what a write records beside them."""
    return PER_WRITE + _carried(request)


def _carried(value: Any) -> int:
    if isinstance(value, (bytes, bytearray, str)):
        return len(value)
    if isinstance(value, dict):
        return sum(_carried(item) for item in value.values())
    if isinstance(value, (list, tuple)):
        return sum(_carried(item) for item in value)
    return 0


class WriteAdmission:
    """Admits the write requests the next save can keep; the others are refused before anything of them runs."""

    def __init__(self, durability: Durability, rest_routes: Mapping[str, Map]):
        self.durability = durability
        self.rest_routes = rest_routes

    def admit(self, environ: dict) -> int:
        """The bytes held for this request (0: it reads), or the ServiceUnavailable it is refused with, raised."""
        if not request_writes(environ, self.rest_routes):
            return 0
        length = environ.get("CONTENT_LENGTH", "")
        size = PER_WRITE + (int(length) if length.isdigit() else 0)
        self.durability.admit(size)
        return size

    def done(self, size: int) -> None:
        """The request admitted with `size` is answered."""
        if size:
            self.durability.done(size)


class CountingGateway(Gateway):
    """The server's gateway: each write made inside local_aws (a job's uploads, a pipeline's steps, the offline
    store's rows) is counted toward the room the next save needs, and never refused."""

    def __init__(self, *args: Any, durability: Durability, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.durability = durability

    def call(self, service: str, operation: str, request: dict, caller: Caller) -> dict:
        if not writes(service, operation):
            return super().call(service, operation, request, caller)
        size = request_bytes(request)
        self.durability.count(size)
        try:
            return super().call(service, operation, request, caller)
        finally:
            self.durability.done(size)
