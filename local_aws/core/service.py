"""What a service of local_aws declares: the operations it answers, the IAM rules of its calls, its stores
and the hooks of its life (start, reset, save, stop).

A service package exports one `Service`. Its modules describe their operations in an `Api` table of their
own (`api = Api("sagemaker")`, then `@api.operation("CreateFeatureGroup")` over the handler), so importing a
module only fills that module's table: nothing is registered anywhere until the server is built from the
list of services it serves (local_aws.services).

A handler receives the request as a dict keyed by the botocore model's member names, already decoded,
validated against the model and authorized for the caller, with a RequestContext saying who calls; it
returns the output dict, or raises an AwsError (local_aws.core.gateway.errors) to answer an error.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from local_aws.core.gateway.context import RequestContext
    from local_aws.core.iam.authorization import Rules
    from local_aws.core.store import Store

Handler = Callable[[dict, "RequestContext"], "dict | None"]
Hook = Callable[[dict, "RequestContext"], None]


@dataclass(frozen=True)
class Operation:
    service: str  # botocore's name of the service ("sagemaker", "sagemaker-featurestore-runtime", ...)
    name: str  # botocore's name of the operation ("CreateFeatureGroup")
    handler: Handler


class Api:
    """The operations one module answers, all of one botocore service: a table the module's service declares."""

    def __init__(self, service: str):
        self.service = service
        self.handlers: dict[str, Handler] = {}

    def operation(self, name: str) -> Callable[[Handler], Handler]:
        """Answer `name` (the botocore operation name) with the decorated handler."""

        def add(handler: Handler) -> Handler:
            if name in self.handlers:
                raise ValueError(f"{self.service} {name} is answered twice in one Api")
            self.handlers[name] = handler
            return handler

        return add

    def operations(self) -> Iterator[Operation]:
        for name, handler in self.handlers.items():
            yield Operation(self.service, name, handler)


@dataclass(frozen=True)
class BeforeMoto:
    """A hook run before moto answers these operations of a service itself (e.g. load a managed policy)."""

    service: str
    operations: tuple[str, ...]
    hook: Hook


@dataclass(frozen=True)
class Service:
    """One service of local_aws, as the server is built from it.

    apis: the operations it answers; rules: what IAM a call of each botocore service needs (see
    local_aws.core.iam.rules); stores: its durable state, saved and restored by the runtime; before_moto:
    hooks on calls moto answers. Life: on_start(home) once the server holds its port, before it answers;
    on_reset at a reset, after the stores were emptied; before_save before each save (write buffers into
    the stores saved next); on_shutdown at a stop, once no request is taken (stop running work); on_flush
    after every service's on_shutdown (write what is buffered). admin_actions add `POST /_local_aws/<name>`;
    health adds members to the health record.
    """

    name: str
    apis: tuple[Api, ...] = ()
    rules: Mapping[str, Rules] = field(default_factory=dict)
    stores: tuple[Store, ...] = ()
    before_moto: tuple[BeforeMoto, ...] = ()
    on_start: tuple[Callable[[Path], None], ...] = ()
    on_reset: tuple[Callable[[], None], ...] = ()
    before_save: tuple[Callable[[], None], ...] = ()
    on_shutdown: tuple[Callable[[], None], ...] = ()
    on_flush: tuple[Callable[[], None], ...] = ()
    admin_actions: Mapping[str, Callable[[], dict]] = field(default_factory=dict)
    health: tuple[Callable[[], dict], ...] = ()

    def operations(self) -> Iterator[Operation]:
        for api in self.apis:
            yield from api.operations()


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def drop_none(record: dict[str, Any]) -> dict[str, Any]:
    """The members that have a value: AWS leaves unset members out of a response."""
    return {key: value for key, value in record.items() if value is not None}
