"""The gateway: the one path of every call, from the HTTP router or from inside local_aws.

A call names its service and operation as botocore does, carries its request decoded once (a dict keyed by
the model's member names) and its caller. The gateway validates the request against the botocore model,
authorizes it as the caller (IAM: local_aws.core.iam), then has it answered: by the handler of the service
that declares the operation, or by moto. Errors are AwsErrors, which the router answers in each protocol's
shape and in-process callers see raised, exactly as AWS would refuse them.

In-process callers use `local_aws.core.gateway.call(service, operation, request, caller)`: a pipeline's
RegisterModel step registers its model as the pipeline's role, a job reads its S3 inputs as its execution
role, Athena reads a table's objects as the user who started the query, via athena.amazonaws.com. A call
moto answers is sent to moto's own server application as AWS's wire protocol, so moto's answers and errors
are the same in-process as over HTTP.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from local_aws.core.gateway import validation
from local_aws.core.gateway.context import Caller, RequestContext
from local_aws.core.gateway.errors import AwsError, InternalFailure
from local_aws.core.iam import authorization
from local_aws.core.iam.authorization import Call, Rules
from local_aws.core.moto import calls as moto_calls
from local_aws.core.moto import state as moto_state
from local_aws.core.service import Hook, Operation, Service

log = logging.getLogger("local_aws")

StartResponse = Callable[..., Any]
# Operations that only read, by their names' first word: they change no state (nor does STS's session making).
READ_PREFIXES = ("Get", "List", "Describe", "Head", "BatchGet", "BatchDescribe", "Search", "Simulate", "Query")
_UNSAVED_SERVICES = ("sts",)


def writes(service: str, operation: str) -> bool:
    """Whether a call of `operation` (a botocore name; "" when unknown) of `service` may change saved state."""
    return service not in _UNSAVED_SERVICES and not (operation and operation.startswith(READ_PREFIXES))


class Gateway:
    """Every call of the services a server serves, answered as AWS answers it."""

    def __init__(self, services: Sequence[Service], moto: moto_calls.MotoApp, endpoint_url: str):
        self.services = tuple(services)
        self.moto = moto
        self.endpoint_url = endpoint_url
        self.operations: dict[tuple[str, str], Operation] = {}
        self.rules: dict[str, Rules] = {}
        self.before_moto: dict[tuple[str, str], list[Hook]] = {}
        for service in self.services:
            for operation in service.operations():
                key = (operation.service, operation.name)
                if key in self.operations:
                    raise ValueError(f"{key} is answered by two services (the second: {service.name})")
                self.operations[key] = operation
            for name, rules in service.rules.items():
                if self.rules.setdefault(name, rules) is not rules:
                    raise ValueError(f"two services declare different IAM rules for {name}")
            for hooked in service.before_moto:
                for name in hooked.operations:
                    self.before_moto.setdefault((hooked.service, name), []).append(hooked.hook)

    def context(self, caller: Caller, service: str = "", operation: str = "") -> RequestContext:
        return RequestContext.of(caller, self.endpoint_url, service, operation)

    # -- calls made inside local_aws ------------------------------------------------------------------
    def call(self, service: str, operation: str, request: dict, caller: Caller) -> dict:
        """Make a call as `caller`: validated, authorized and answered as the same call over HTTP would be.
        Returns the output dict; raises the AwsError AWS would answer."""
        declared = self.operations.get((service, operation))
        if declared is not None:
            return self.answer(declared, request, self.context(caller, service, operation))
        validation.validate(service, operation, request)
        environ = self.moto.environ(service, operation, request, caller)
        self.authorize(caller, Call(service, operation, request, caller.region, caller.account_id, environ))
        for hook in self.before_moto.get((service, operation), []):
            hook(request, self.context(caller, service, operation))
        try:
            return self.moto.call(environ, service, operation)
        finally:
            self._after_moto(service, operation, environ)

    def call_moto(self, service: str, operation: str, request: dict, caller: Caller) -> dict:
        """moto's own answer to an operation a service declares, for the handler that declares it: a handler
        that checks what moto does not, then lets moto record the call. Not validated or authorized again
        (the handler's call was); raises moto's AwsError."""
        environ = self.moto.environ(service, operation, request, caller)
        try:
            return self.moto.call(environ, service, operation)
        finally:
            self._after_moto(service, operation, environ)

    # -- the steps of every call -----------------------------------------------------------------------
    def answer(self, operation: Operation, request: dict, ctx: RequestContext) -> dict:
        """A declared operation: validate, authorize, then its handler's answer."""
        validation.validate(operation.service, operation.name, request)
        self.authorize(ctx.caller, Call(operation.service, operation.name, request, ctx.region, ctx.account_id))
        try:
            return operation.handler(request, ctx) or {}
        except AwsError:
            raise
        except Exception as exc:  # an emulator bug: say so in AWS's shape, keep serving
            log.exception("internal error in %s %s", operation.service, operation.name)
            raise InternalFailure(f"local_aws internal error: {exc!r}") from exc

    def authorize(self, caller: Caller, call: Call) -> None:
        """Raise the service's access-denied error unless the caller's policies allow the call."""
        authorization.authorize(caller.principal, call, self.rules.get(call.service), caller.called_via)

    def forward(
        self, environ: dict, start_response: StartResponse, call: Call, caller: Caller, hook_request: dict | None
    ) -> Iterable[bytes]:
        """An HTTP request moto answers, once the caller may make it (and the hooks on it have run)."""
        self.authorize(caller, call)
        for hook in self.before_moto.get((call.service, call.operation), []):
            hook(hook_request or {}, self.context(caller, call.service, call.operation))
        try:
            return self.moto.forward(environ, start_response, call.service)
        finally:
            self._after_moto(call.service, call.operation, environ)

    def _after_moto(self, service: str, operation: str, environ: dict) -> None:
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD") and writes(service, operation):
            moto_state.STATE.changed()  # whatever else moto answered may have changed its state
        if service == "iam" and writes(service, operation):
            authorization.forget_decisions()  # a role, policy or attachment may have changed
