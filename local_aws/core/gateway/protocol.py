"""The registries every service of local_aws plugs into: its operations, moto hooks, reset and shutdown.

A service module declares each AWS operation it answers with `@action(service, operation)`, naming
the service and operation as botocore does ("sagemaker", "CreateFeatureGroup"). The botocore model
says how the server reaches it (an X-Amz-Target, a REST route or a Query `Action`), how the request
is decoded and how it is validated, so a handler receives the validated input as a dict keyed by the
model's member names, with a RequestContext, and returns the output dict. It raises an AwsError
(local_aws.core.gateway.errors) to answer an error.

`@before_moto` runs a hook before moto answers a call itself (e.g. to load an AWS-managed policy
moto would otherwise not know); `on_start` hooks run once the server holds its port (given its home
directory); `on_reset` hooks forget state; at a stop, once the server takes no
more requests, `on_shutdown` hooks stop running work (pipelines, jobs, queries), then `on_flush`
hooks write what is still buffered (the offline store); `admin_action` adds a command under
/_local_aws/, `health_field` members to the health record.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local_aws.core.runtime.config import ACCOUNT_ID, DEFAULT_REGION


@dataclass(frozen=True)
class RequestContext:
    """Who is calling what: the account and region of the request, the operation it calls, and who calls."""

    region: str = DEFAULT_REGION
    account_id: str = ACCOUNT_ID
    endpoint_url: str = ""  # how processes started by the server reach it
    service: str = ""  # botocore's name of the service called
    operation: str = ""
    principal: Any = None  # local_aws.core.iam.authorization.Principal; None: the account's administrator

    def calling(self, service: str, operation: str) -> RequestContext:
        """The same caller making another call (a pipeline step creating its job, say)."""
        return RequestContext(self.region, self.account_id, self.endpoint_url, service, operation, self.principal)


Handler = Callable[[dict, RequestContext], "dict | None"]
Hook = Callable[[dict, RequestContext], None]


@dataclass(frozen=True)
class Operation:
    service: str
    name: str
    handler: Handler


OPERATIONS: dict[tuple[str, str], Operation] = {}
BEFORE_MOTO: dict[tuple[str, str], list[Hook]] = {}
START_HOOKS: list[Callable[[Path], None]] = []
RESET_HOOKS: list[Callable[[], None]] = []
SHUTDOWN_HOOKS: list[Callable[[], None]] = []
FLUSH_HOOKS: list[Callable[[], None]] = []
ADMIN_ACTIONS: dict[str, Callable[[], dict]] = {}
HEALTH_FIELDS: list[Callable[[], dict]] = []


def action(service: str, operation: str) -> Callable[[Handler], Handler]:
    """Answer `operation` of `service` (botocore names) with the decorated handler."""

    def register(fn: Handler) -> Handler:
        OPERATIONS[(service, operation)] = Operation(service, operation, fn)
        return fn

    return register


def before_moto(service: str, *operations: str) -> Callable[[Hook], Hook]:
    """Run the decorated hook on these calls, then let moto answer them."""

    def register(fn: Hook) -> Hook:
        for operation in operations:
            BEFORE_MOTO.setdefault((service, operation), []).append(fn)
        return fn

    return register


def on_start(fn: Callable[[Path], None]) -> Callable[[Path], None]:
    """Run `fn(home)` once the server holds its port, before it answers (e.g. clean up after a crash)."""
    START_HOOKS.append(fn)
    return fn


def on_reset(fn: Callable[[], None]) -> Callable[[], None]:
    """Forget a store's state at a reset (after moto's, so a hook may put back what must always exist)."""
    RESET_HOOKS.append(fn)
    return fn


def on_shutdown(fn: Callable[[], None]) -> Callable[[], None]:
    """Stop running work at a stop (after the server stopped taking requests)."""
    SHUTDOWN_HOOKS.append(fn)
    return fn


def on_flush(fn: Callable[[], None]) -> Callable[[], None]:
    """Write buffered state at a stop, once all work has stopped."""
    FLUSH_HOOKS.append(fn)
    return fn


def admin_action(name: str) -> Callable[[Callable[[], dict]], Callable[[], dict]]:
    """Register `POST /_local_aws/<name>`, an operator command outside the AWS APIs (e.g. flush)."""

    def register(fn: Callable[[], dict]) -> Callable[[], dict]:
        ADMIN_ACTIONS[name] = fn
        return fn

    return register


def health_field(fn: Callable[[], dict]) -> Callable[[], dict]:
    """Add the members `fn()` returns to the server's health record (GET /_local_aws/health)."""
    HEALTH_FIELDS.append(fn)
    return fn


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def drop_none(record: dict[str, Any]) -> dict[str, Any]:
    """The members that have a value: AWS leaves unset members out of a response."""
    return {key: value for key, value in record.items() if value is not None}
