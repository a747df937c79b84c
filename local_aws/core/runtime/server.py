"""The HTTP server: a thin router in front of moto.

Requests for the operations local_aws's services register (local_aws.core.gateway.protocol) are routed as
their botocore model says (X-Amz-Target, REST route or Query Action), decoded, validated against the
model and answered by the service's handler; everything else goes to moto's own server application,
in the same process, so both share moto's state (S3 buckets, Glue tables, IAM roles, model
packages). Listens on loopback only, behind local_aws.core.gateway.http_guard (web pages, foreign Host names and
malformed requests are refused before routing) on local_aws.core.gateway.http_server's bounded server.
"""

from __future__ import annotations

import importlib
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule

from local_aws import settings
from local_aws.core.gateway import http_errors, http_server, protocol, service_models, validation, wire
from local_aws.core.gateway.errors import AwsError, InternalFailure, NotFound, ServiceUnavailable, http_status
from local_aws.core.gateway.protocol import Operation, RequestContext
from local_aws.core.iam import authentication, authorization, credentials
from local_aws.core.iam.authorization import Call
from local_aws.core.moto import calls as moto_calls
from local_aws.core.moto import state as moto_state
from local_aws.core.runtime import persistence
from local_aws.core.runtime.config import ACCOUNT_ID, DEFAULT_REGION, endpoint_url, home_dir
from local_aws.job_side import netguard

log = logging.getLogger("local_aws")

# The services local_aws adds on top of moto; importing one registers its operations.
SERVICE_PACKAGES = [
    "local_aws.iam",
    "local_aws.model_registry",
    "local_aws.sagemaker_models",
    "local_aws.lakeformation",
    "local_aws.featurestore",
    "local_aws.athena",
    "local_aws.jobs",
    "local_aws.tuning",
    "local_aws.pipelines",
    "local_aws.core.iam.rules",
]

StartResponse = Callable[..., Any]
REQUEST_DRAIN_SECONDS = 30  # how long a stop waits for the requests under way


class Routes:
    """Where each registered operation is reached, indexed the ways requests name them."""

    def __init__(self, operations: Iterable[Operation]):
        self.json: dict[tuple[str, str], Operation] = {}
        self.query: dict[tuple[str, str], Operation] = {}
        self.rest: dict[str, Map] = {}  # signing name -> its REST rules
        self.rest_operations: dict[str, Operation] = {}
        self.query_services: set[str] = set()
        self.before_moto: dict[tuple[str, str], tuple[str, list[protocol.Hook]]] = {}
        for operation in operations:
            kind = service_models.protocol(operation.service)
            if kind == "json":
                self.json[(service_models.target_prefix(operation.service), operation.name)] = operation
            elif kind == "rest-json":
                method, rule = service_models.rest_rule(operation.service, operation.name)
                endpoint = f"{operation.service}:{operation.name}"
                signing = service_models.signing_name(operation.service)
                self.rest.setdefault(signing, Map(strict_slashes=False)).add(
                    Rule(rule, methods=[method], endpoint=endpoint)
                )
                self.rest_operations[endpoint] = operation
            else:
                self._add_query(operation.service, operation.name, operation)
        for (service, name), hooks in protocol.BEFORE_MOTO.items():
            self._add_query(service, name, None)
            self.before_moto[(service_models.signing_name(service), name)] = (service, hooks)

    def _add_query(self, service: str, name: str, operation: Operation | None) -> None:
        signing = service_models.signing_name(service)
        self.query_services.add(signing)
        if operation is not None:
            self.query[(signing, name)] = operation


class Router:
    """WSGI app: registered operations first, moto for the rest, admin commands under /_local_aws/."""

    def __init__(self, port: int, log_file: str = "", saver: persistence.Persistence | None = None):
        self.port = port
        self.log_file = log_file
        self.saver = saver
        self.started = time.time()
        self.moto = DomainDispatcherApplication(create_backend_app)
        self.services = [importlib.import_module(name).__name__ for name in SERVICE_PACKAGES]
        self.routes = Routes(protocol.OPERATIONS.values())
        self.on_stop: Callable[[], None] = lambda: None

    def __call__(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_local_aws/"):
            return self._admin(environ, start_response, path[len("/_local_aws/") :])
        signing, region = wire.signing_scope(environ)
        try:
            principal = authentication.principal_of(environ)
        except AwsError as error:
            return http_errors.answer(environ, start_response, error)
        ctx = RequestContext(
            region=region or DEFAULT_REGION,
            account_id=ACCOUNT_ID,
            endpoint_url=endpoint_url(self.port),
            principal=principal,
        )
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target:
            prefix, _, name = target.partition(".")
            operation = self.routes.json.get((prefix, name))
            if operation is not None:
                return self._answer_json(
                    start_response, operation, ctx, lambda: wire.json_request(wire.read_body(environ))
                )
        elif signing in self.routes.query_services:
            form = dict(parse_qsl(wire.read_body(environ).decode(errors="replace"), keep_blank_values=True))
            answered = self._query(start_response, signing, form, ctx)
            if answered is not None:
                return answered
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
                    ctx,
                    lambda: wire.rest_request(operation.service, operation.name, args, query, wire.read_body(environ)),
                )
        return self._answer_by_moto(environ, start_response, signing, ctx)

    def _answer_by_moto(
        self, environ: dict, start_response: StartResponse, signing: str, ctx: RequestContext
    ) -> Iterable[bytes]:
        """moto's answer, once the caller's policies allow the call."""
        call = _moto_call(environ, signing, ctx)
        try:
            authorization.authorize(ctx.principal, call)
        except AwsError as error:
            return http_errors.answer(environ, start_response, error)
        if environ["REQUEST_METHOD"] not in ("GET", "HEAD"):
            moto_state.STATE.changed()  # whatever moto answers may have changed its state
        answered = moto_calls.answer(self.moto, environ, start_response, signing)
        if signing == "iam" and not call.operation.startswith(("Get", "List")):
            authorization.forget_decisions()  # a role, policy or attachment may have changed
        return answered

    def _answer_json(
        self, start_response: StartResponse, operation: Operation, ctx: RequestContext, decode: Callable[[], dict]
    ) -> Iterable[bytes]:
        headers = [("Content-Type", "application/x-amz-json-1.1")]
        try:
            request = decode()
            validation.validate(operation.service, operation.name, request)
            authorization.authorize(
                ctx.principal, Call(operation.service, operation.name, request, ctx.region, ctx.account_id)
            )
            result = operation.handler(request, ctx.calling(operation.service, operation.name))
            status, payload = 200, wire.encode_json(result if result is not None else {})
        except Exception as exc:
            error = _as_aws_error(exc)
            status, payload = http_status(operation.service, error), wire.json_error(error)
            headers.append(("x-amzn-ErrorType", error.code))
        headers += [("Content-Length", str(len(payload))), ("x-amzn-RequestId", os.urandom(16).hex())]
        start_response(f"{status} {'OK' if status == 200 else 'Error'}", headers)
        return [payload]

    def _query(
        self, start_response: StartResponse, signing: str, form: dict, ctx: RequestContext
    ) -> Iterable[bytes] | None:
        """Answer a Query-protocol call in XML; None when moto answers it (after any before-moto hooks)."""
        name = form.get("Action", "")
        operation = self.routes.query.get((signing, name))
        hooked_service, hooks = self.routes.before_moto.get((signing, name), ("", []))
        if operation is None and not hooks:
            return None
        service = operation.service if operation else hooked_service
        request_id = os.urandom(16).hex()
        try:
            request = wire.query_request(service, name, form)
            validation.validate(service, name, request)
            if operation is not None:
                authorization.authorize(ctx.principal, Call(service, name, request, ctx.region, ctx.account_id))
            for hook in hooks:
                hook(request, ctx.calling(service, name))
            if operation is None:
                return None
            result = operation.handler(request, ctx.calling(service, name)) or {}
            status, payload = 200, wire.query_response(service, name, result, request_id)
        except Exception as exc:
            error = _as_aws_error(exc)
            status = http_status(service, error)
            payload = wire.query_error(error, status, request_id)
        start_response(
            f"{status} {'OK' if status == 200 else 'Error'}",
            [("Content-Type", "text/xml"), ("Content-Length", str(len(payload)))],
        )
        return [payload]

    def health(self) -> dict:
        return {
            "service": "local_aws",
            "pid": os.getpid(),
            "port": self.port,
            "endpoint": endpoint_url(self.port),
            "log": self.log_file,
            "uptime_seconds": round(time.time() - self.started, 1),
            "services": self.services,
            **{key: value for field in protocol.HEALTH_FIELDS for key, value in field().items()},
        }

    def reset(self) -> dict:
        """Forget all state, and the saved state with it."""

        def forget() -> None:
            moto_state.reset()
            for hook in protocol.RESET_HOOKS:
                hook()

        if self.saver is None:
            forget()
        else:
            self.saver.wipe(forget)
        return {"reset": True}

    def _admin(self, environ: dict, start_response: StartResponse, name: str) -> Iterable[bytes]:
        method = environ["REQUEST_METHOD"]
        try:
            if name == "health" and method == "GET":
                body = self.health()
            elif name == "credentials" and method == "GET":
                body = credentials.fetch(environ.get("HTTP_AUTHORIZATION", ""))
            elif name == "reset" and method == "POST":
                body = self.reset()
            elif name == "shutdown" and method == "POST":
                threading.Thread(target=self.on_stop, daemon=True).start()
                body = {"stopping": True}
            elif name in protocol.ADMIN_ACTIONS and method == "POST":
                body = protocol.ADMIN_ACTIONS[name]()
            else:
                raise NotFound(f"no admin command {method} /_local_aws/{name}")
            status, payload = 200, wire.encode_json(body)
        except AwsError as err:
            status, payload = http_status("", err), wire.json_error(err)
        start_response(
            f"{status} {'OK' if status == 200 else 'Error'}",
            [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))],
        )
        return [payload]


def _moto_call(environ: dict, signing: str, ctx: RequestContext) -> Call:
    """A call moto answers, as the permission rules read it (its JSON body or Query form, S3's environ)."""
    operation, request = "", {}
    if ctx.principal is not None:  # the administrator's calls are not read twice
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target:
            operation = target.partition(".")[2]
            try:
                request = wire.json_request(wire.read_body(environ))
            except AwsError:
                request = {}  # moto_calls answers the malformed body
        elif environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
            request = dict(parse_qsl(wire.read_body(environ).decode(errors="replace"), keep_blank_values=True))
            operation = request.get("Action", "")
    elif signing == "iam":
        operation = dict(parse_qsl(wire.read_body(environ).decode(errors="replace"))).get("Action", "")
    return Call(signing, operation, request, ctx.region, ctx.account_id, environ)


def _as_aws_error(exc: Exception) -> AwsError:
    if isinstance(exc, AwsError):
        return exc
    log.exception("internal error")  # an emulator bug: say so in AWS's shape, keep serving
    return InternalFailure(f"local_aws internal error: {exc!r}")


def run_shutdown_hooks() -> None:
    """Stop running work, then write what is buffered."""
    for hook in protocol.SHUTDOWN_HOOKS + protocol.FLUSH_HOOKS:
        try:
            hook()
        except Exception:
            log.exception("shutdown hook %s failed", getattr(hook, "__name__", hook))


class _InFlight:
    """WSGI wrapper counting the requests under way, so a stop can let them finish first; once
    stopping, a request arriving on a connection kept alive is refused with 503, which SDKs retry."""

    def __init__(self, app: Callable[..., Iterable[bytes]]):
        self.app = app
        self.count = 0
        self.closed = False
        self.idle = threading.Condition()

    def __call__(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        with self.idle:
            if self.closed:
                payload = wire.json_error(ServiceUnavailable("local_aws is stopping and takes no more requests."))
                headers = [
                    ("Content-Type", "application/json"),
                    ("Connection", "close"),
                    ("Content-Length", str(len(payload))),
                ]
                start_response("503 Service Unavailable", headers)
                return [payload]
            self.count += 1
        try:
            return self.app(environ, start_response)
        finally:
            with self.idle:
                self.count -= 1
                self.idle.notify_all()

    def close(self, timeout: float) -> bool:
        """Take no more requests; True once those under way have finished (within `timeout`)."""
        with self.idle:
            self.closed = True
            return self.idle.wait_for(lambda: self.count == 0, timeout)


def serve(port: int) -> None:
    """Serve in the foreground until stopped (Ctrl-C, SIGTERM or POST /_local_aws/shutdown).

    The saved state is loaded before anything is answered. A stop first stops taking requests and
    lets those under way finish, then stops running work (pipelines, jobs, queries), writes what is
    buffered (the offline store) and saves the state: nothing acknowledged is lost.
    """
    settings.check_all()  # a bad LOCAL_AWS_* value stops the start, naming the fix
    netguard.install()
    os.environ.setdefault("MOTO_ALLOW_NONEXISTENT_REGION", "true")
    home = home_dir(port)
    saver = persistence.Persistence(persistence.state_dir(home), settings.SAVE_SECONDS())
    router = Router(port, log_file=str(home / "server.log"), saver=saver)
    restored = saver.restore()
    log.info(
        "state restored in %.2f s: %s%s",
        restored["seconds"],
        ", ".join(restored["loaded"]) or "none saved",
        f" (unreadable, set aside: {', '.join(restored['unreadable'])})" if restored["unreadable"] else "",
    )
    requests = _InFlight(router)
    server = http_server.make_server(port, requests, home, MotoRequestHandler)
    for hook in protocol.START_HOOKS:  # the port is ours: no other server of this home runs
        hook(home)
    saver.start()
    stopping = threading.Event()

    def stop() -> None:
        if not stopping.is_set():
            stopping.set()
            log.info("stopping: no more requests; finishing the ones under way")
            server.shutdown()

    router.on_stop = stop
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: threading.Thread(target=stop, daemon=True).start())
    pid_file = home / "server.pid"
    pid_file.write_text(str(os.getpid()))
    log.info(
        "local_aws listening on %s (pid %d), services: %s", endpoint_url(port), os.getpid(), ", ".join(router.services)
    )
    try:
        server.serve_forever()
    finally:
        server.server_close()
        if not requests.close(timeout=REQUEST_DRAIN_SECONDS):
            log.warning("stopping with %d requests still under way after %d s", requests.count, REQUEST_DRAIN_SECONDS)
        run_shutdown_hooks()
        saver.stop()
        if pid_file.exists() and pid_file.read_text() == str(os.getpid()):
            pid_file.unlink()
        log.info("local_aws stopped; state saved in %s", saver.directory)
