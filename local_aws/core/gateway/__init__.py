"""The gateway every call goes through: HTTP requests (router, http_server, http_guard, http_errors, wire) and
calls made inside local_aws alike, decoded once, validated against botocore's models (service_models,
validation), authorized as their caller (local_aws.core.iam), answered by a service's handler or by moto,
errors in AWS's shapes (errors) and one paging scheme (paging)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from local_aws.core.gateway.context import Caller
    from local_aws.core.gateway.gateway import Gateway

_installed: list[Gateway] = []  # the running server's gateway


def install(gateway: Gateway) -> None:
    """Make `gateway` the one in-process calls go through (the server does this once it is built)."""
    _installed[:] = [gateway]


def current() -> Gateway:
    if not _installed:
        raise RuntimeError("no local_aws gateway in this process: in-process calls are made inside a running server")
    return _installed[0]


def call(service: str, operation: str, request: dict, caller: Caller) -> dict:
    """Call `operation` of `service` (botocore names) as `caller`, exactly as the same call over HTTP would be
    answered: validated, authorized, answered by its service or by moto. Raises the AwsError AWS would answer."""
    return current().call(service, operation, request, caller)


def call_moto(service: str, operation: str, request: dict, caller: Caller) -> dict:
    """For the handler of an operation a service declares: moto's own answer to the same operation (the handler's
    call is validated and authorized already). Raises moto's AwsError."""
    return current().call_moto(service, operation, request, caller)
