"""The HTTP side of the gateway: a WSGI app that reads each request once and hands it to the gateway.

A request names its operation as its botocore model says (an X-Amz-Target, a REST route or a Query `Action`)
and its caller by its credentials. The operations the services declare are decoded into their input,
answered by the gateway and encoded in the protocol's shape; every other call is checked the same way (its
caller may make it, its JSON has the model's types) and forwarded to moto, in the same process, so both share
moto's state. Admin commands under /_local_aws/ go to the runtime. It sits behind local_aws.core.gateway's
http_guard (web pages, foreign Host names and malformed requests are refused before routing).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl

from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule

from local_aws.core.gateway import http_errors, service_models, validation, wire
from local_aws.core.gateway.context import Caller
from local_aws.core.gateway.errors import AwsError, UnknownOperationException, http_status
from local_aws.core.gateway.gateway import Gateway
from local_aws.core.iam import authentication
from local_aws.core.iam.authorization import Call
from local_aws.core.runtime.config import ACCOUNT_ID, DEFAULT_REGION
from local_aws.core.service import Operation

StartResponse = Callable[..., Any]
Admin = Callable[[dict, StartResponse, str], Iterable[bytes]]


class Routes:
    """Where each declared operation is reached, indexed the ways requests name them."""

    def __init__(self, gateway: Gateway):
        self.json: dict[tuple[str, str], Operation] = {}
        self.query: dict[tuple[str, str], Operation] = {}
        self.rest: dict[str, Map] = {}  # signing name -> its REST rules
        self.rest_operations: dict[str, Operation] = {}
        self.query_services: dict[str, str] = {}  # signing name -> botocore service name
        every_rest = Map(strict_slashes=False)  # the REST-JSON routes of every signing name
        for operation in gateway.operations.values():
            kind = service_models.protocol(operation.service)
            if kind == "json":
                self.json[(service_models.target_prefix(operation.service), operation.name)] = operation
            elif kind == "rest-json":
                method, rule = service_models.rest_rule(operation.service, operation.name)
                endpoint = f"{operation.service}:{operation.name}"
                signing = service_models.signing_name(operation.service)
                rules = self.rest.setdefault(signing, Map(strict_slashes=False))
                rules.add(Rule(rule, methods=[method], endpoint=endpoint))
                every_rest.add(Rule(rule, methods=[method], endpoint=endpoint))
                self.rest_operations[endpoint] = operation
            else:
                signing = service_models.signing_name(operation.service)
                self.query_services[signing] = operation.service
                self.query[(signing, operation.name)] = operation
        self.every_rest = every_rest.bind("localhost")
        for service, _ in gateway.before_moto:
            if service_models.protocol(service) == "query":
                self.query_services[service_models.signing_name(service)] = service


class Router:
    """WSGI app: the gateway for every AWS call, the runtime's admin commands under /_local_aws/."""

    def __init__(self, gateway: Gateway, admin: Admin):
        self.gateway = gateway
        self.routes = Routes(gateway)
        self.admin = admin

    def __call__(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_local_aws/"):
            return self.admin(environ, start_response, path[len("/_local_aws/") :])
        signing, region = wire.signing_scope(environ)
        if not signing and self._rest_json_route(path, environ.get("REQUEST_METHOD", "GET")):
            environ[http_errors.SHAPE] = "json"  # an unsigned call of the Feature Store runtime: refused in JSON
        try:
            caller = Caller(authentication.principal_of(environ), ACCOUNT_ID, region or DEFAULT_REGION)
        except AwsError as error:
            return http_errors.answer(environ, start_response, error)
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target:
            prefix, _, name = target.partition(".")
            operation = self.routes.json.get((prefix, name))
            if operation is not None:
                return self._answer_json(start_response, operation, caller, lambda: wire.json_request(_body(environ)))
        elif signing in self.routes.query_services:
            form = _form(environ)
            operation = self.routes.query.get((signing, form.get("Action", "")))
            if operation is not None:
                return self._answer_query(start_response, operation, caller, form)
            return self._to_moto(environ, start_response, signing, caller, form)
        elif signing in self.routes.rest:
            try:
                endpoint, args = self.routes.rest[signing].bind("localhost").match(path, environ["REQUEST_METHOD"])
            except HTTPException:
                endpoint = None
            if endpoint is not None:
                operation = self.routes.rest_operations[endpoint]
                query = MultiDict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
                return self._answer_json(
                    start_response,
                    operation,
                    caller,
                    lambda: wire.rest_request(operation.service, operation.name, args, query, _body(environ)),
                )
        return self._to_moto(environ, start_response, signing, caller)

    def _rest_json_route(self, path: str, method: str) -> bool:
        try:
            self.routes.every_rest.match(path, method)
        except HTTPException:
            return False
        return True

    def _answer_json(
        self, start_response: StartResponse, operation: Operation, caller: Caller, decode: Callable[[], dict]
    ) -> Iterable[bytes]:
        headers = [("Content-Type", "application/x-amz-json-1.1")]
        try:
            ctx = self.gateway.context(caller, operation.service, operation.name)
            status, payload = 200, wire.encode_json(self.gateway.answer(operation, decode(), ctx))
        except AwsError as error:
            status, payload = http_status(operation.service, error), wire.json_error(error)
            headers.append(("x-amzn-ErrorType", error.code))
        headers += [("Content-Length", str(len(payload))), ("x-amzn-RequestId", os.urandom(16).hex())]
        start_response(f"{status} {'OK' if status == 200 else 'Error'}", headers)
        return [payload]

    def _answer_query(
        self, start_response: StartResponse, operation: Operation, caller: Caller, form: dict[str, str]
    ) -> Iterable[bytes]:
        """A Query-protocol call answered in XML."""
        service, name, request_id = operation.service, operation.name, os.urandom(16).hex()
        try:
            request = wire.query_request(service, name, form)
            result = self.gateway.answer(operation, request, self.gateway.context(caller, service, name))
            status, payload = 200, wire.query_response(service, name, result, request_id)
        except AwsError as error:
            status = http_status(service, error)
            payload = wire.query_error(error, status, request_id)
        start_response(
            f"{status} {'OK' if status == 200 else 'Error'}",
            [("Content-Type", "text/xml"), ("Content-Length", str(len(payload)))],
        )
        return [payload]

    def _to_moto(
        self, environ: dict, start_response: StartResponse, signing: str, caller: Caller, form: dict | None = None
    ) -> Iterable[bytes]:
        """A call moto answers, read once: its JSON body or Query form, as the IAM rules and hooks read it."""
        operation, request, hook_request = "", {}, None
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        try:
            if target and "cbor" not in environ.get("CONTENT_TYPE", ""):
                operation, request = _json_call(target, signing, _body(environ))
            elif form is not None or environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
                request = form if form is not None else _form(environ)
                operation = request.get("Action", "")
                service = self.routes.query_services.get(signing)
                if service and (service, operation) in self.gateway.before_moto:
                    hook_request = wire.query_request(service, operation, request)
                    validation.validate(service, operation, hook_request)
            call = Call(signing, operation, request, caller.region, caller.account_id, environ)
            return self.gateway.forward(environ, start_response, call, caller, hook_request)
        except AwsError as error:
            return http_errors.answer(environ, start_response, error)


def _body(environ: dict) -> bytes:
    return wire.read_body(environ)


def _form(environ: dict) -> dict[str, str]:
    return dict(parse_qsl(_body(environ).decode(errors="replace"), keep_blank_values=True))


def _json_call(target: str, signing: str, raw: bytes) -> tuple[str, dict]:
    """(operation, input) of a JSON-protocol call moto answers: a JSON object of the member types the model
    gives (SerializationException, as for the declared operations; the model's other constraints are moto's
    to check), its target an operation of the service it is signed for (UnknownOperationException)."""
    request = wire.json_request(raw)
    model = service_models.json_service(signing)
    prefix, _, name = target.partition(".")
    if model is None:  # not a service botocore knows by that name: moto decides
        return name, request
    if prefix != model.metadata.get("targetPrefix") or name not in model.operation_names:
        raise UnknownOperationException(f"Unknown operation {target}: {model.service_name} has no such operation.")
    validation.check_types(model.service_name, name, request)
    return name, request
