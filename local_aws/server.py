"""The HTTP server: a thin router in front of moto.

Requests for the APIs local_aws adds (registered in `protocol`) are answered by its service
modules; everything else goes to moto's own server application, in the same process, so both share
moto's state (S3 buckets, Glue tables, IAM roles, model packages). Listens on loopback only.
"""
from __future__ import annotations

import io
import json
import logging
import os
import signal
import threading
import time
from urllib.parse import parse_qsl
from typing import Any, Callable, Iterable

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.serving import make_server

from local_aws import netguard, protocol
from local_aws.config import ACCOUNT_ID, DEFAULT_REGION, HOST, endpoint_url, home_dir
from local_aws.protocol import AwsError, RequestContext

log = logging.getLogger("local_aws")

# One module per service local_aws adds; importing a module registers its handlers.
SERVICE_MODULES = [
    "local_aws.iam",
    "local_aws.model_registry",
    "local_aws.featurestore",
    "local_aws.featurestore_runtime",
    "local_aws.athena",
    "local_aws.jobs",
    "local_aws.pipelines",
]

StartResponse = Callable[..., Any]


def _import_services() -> list[str]:
    import importlib

    loaded = []
    for name in SERVICE_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue  # a service not built yet: its requests go to moto
        loaded.append(name)
    return loaded


def _signing(environ: dict) -> tuple[str, str]:
    """(service, region) from the SigV4 Authorization header's credential scope."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    try:
        scope = auth.split("Credential=", 1)[1].split(",", 1)[0]
        _, _, region, service, _ = scope.split("/")
        return service, region
    except (IndexError, ValueError):
        return "", DEFAULT_REGION


class Router:
    """WSGI app: local_aws handlers first, moto for the rest, admin commands under /_local_aws/."""

    def __init__(self, port: int, log_file: str = ""):
        self.port = port
        self.log_file = log_file
        self.started = time.time()
        self.moto = DomainDispatcherApplication(create_backend_app)
        self.services = _import_services()
        self.on_stop: Callable[[], None] = lambda: None

    def __call__(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_local_aws/"):
            return self._admin(environ, start_response, path[len("/_local_aws/"):])
        service, region = _signing(environ)
        ctx = RequestContext(region=region or DEFAULT_REGION, account_id=ACCOUNT_ID,
                             endpoint_url=endpoint_url(self.port))
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target:
            prefix, _, action = target.partition(".")
            handler = protocol.JSON_ACTIONS.get((prefix, action))
            if handler is not None:
                return self._answer(start_response, lambda: handler(self._json_body(environ), ctx))
        elif any(key[0] == service for key in protocol.QUERY_ACTIONS):
            form = self._form_body(environ)
            handler = protocol.QUERY_ACTIONS.get((service, form.get("Action", "")))
            if handler is not None:
                answered = self._answer_query(start_response, lambda: handler(form, ctx))
                if answered is not None:
                    return answered
        elif service == "sagemaker":
            adapter = protocol.REST_RULES.bind("localhost")
            try:
                endpoint, args = adapter.match(path, method=environ["REQUEST_METHOD"])
            except HTTPException:
                endpoint = None
            if endpoint is not None:
                handler = protocol.REST_HANDLERS[endpoint]
                query = MultiDict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
                return self._answer(
                    start_response, lambda: handler(ctx, self._json_body(environ), query, **args)
                )
        return self.moto(environ, start_response)

    @staticmethod
    def _json_body(environ: dict) -> dict:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(raw)
        if not raw.strip():
            return {}
        try:
            return json.loads(raw)
        except json.JSONDecodeError as exc:
            raise AwsError(f"Request body is not valid JSON: {exc}", code="SerializationException")

    @staticmethod
    def _form_body(environ: dict) -> dict:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(raw)  # moto may still read it
        return dict(parse_qsl(raw.decode(), keep_blank_values=True))

    @staticmethod
    def _answer_query(start_response: StartResponse, call: Callable[[], str | None]) -> Iterable[bytes] | None:
        """Answer a Query-protocol call in XML; None when the handler leaves the answer to moto."""
        try:
            result = call()
            if result is None:
                return None
            status, payload = 200, result.encode()
        except AwsError as err:
            status, payload = err.status, protocol.query_error_body(err)
        start_response(f"{status} {'OK' if status == 200 else 'Error'}",
                       [("Content-Type", "text/xml"), ("Content-Length", str(len(payload)))])
        return [payload]

    @staticmethod
    def _answer(start_response: StartResponse, call: Callable[[], Any]) -> Iterable[bytes]:
        try:
            result = call()
            status, body = 200, (result if result is not None else {})
            headers = [("Content-Type", "application/x-amz-json-1.1")]
        except AwsError as err:
            status, body = err.status, protocol.error_body(err)
            headers = [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-ErrorType", err.code)]
        except Exception as exc:  # an emulator bug: say so in AWS's shape, keep serving
            log.exception("internal error")
            status, body = 500, {"__type": "InternalFailure", "message": f"local_aws internal error: {exc!r}"}
            headers = [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-ErrorType", "InternalFailure")]
        payload = protocol.encode(body)
        headers += [("Content-Length", str(len(payload))), ("x-amzn-RequestId", os.urandom(16).hex())]
        start_response(f"{status} {'OK' if status == 200 else 'Error'}", headers)
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
        }

    def reset(self) -> dict:
        from moto.moto_api._internal.models import moto_api_backend

        for hook in protocol.RESET_HOOKS:
            hook()
        moto_api_backend.reset()
        return {"reset": True}

    def _admin(self, environ: dict, start_response: StartResponse, name: str) -> Iterable[bytes]:
        method = environ["REQUEST_METHOD"]
        try:
            if name == "health" and method == "GET":
                body = self.health()
            elif name == "reset" and method == "POST":
                body = self.reset()
            elif name == "shutdown" and method == "POST":
                threading.Thread(target=self.on_stop, daemon=True).start()
                body = {"stopping": True}
            elif name in protocol.ADMIN_ACTIONS and method == "POST":
                body = protocol.ADMIN_ACTIONS[name]()
            else:
                raise AwsError(f"no admin command {method} /_local_aws/{name}", code="NotFound", status=404)
            status = "200 OK"
        except AwsError as err:
            status, body = f"{err.status} Error", protocol.error_body(err)
        payload = protocol.encode(body)
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
        return [payload]


def run_shutdown_hooks() -> None:
    for hook in protocol.SHUTDOWN_HOOKS:
        try:
            hook()
        except Exception:
            log.exception("shutdown hook %s failed", getattr(hook, "__name__", hook))


def serve(port: int) -> None:
    """Serve in the foreground until stopped (Ctrl-C, SIGTERM or POST /_local_aws/shutdown)."""
    netguard.install()
    os.environ.setdefault("MOTO_ALLOW_NONEXISTENT_REGION", "true")
    home = home_dir(port)
    router = Router(port, log_file=str(home / "server.log"))
    server = make_server(HOST, port, router, threaded=True, request_handler=MotoRequestHandler)
    stopping = threading.Event()

    def stop() -> None:
        if stopping.is_set():
            return
        stopping.set()
        log.info("stopping: finishing pending work")
        run_shutdown_hooks()
        server.shutdown()

    router.on_stop = stop
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: threading.Thread(target=stop, daemon=True).start())
    pid_file = home / "server.pid"
    pid_file.write_text(str(os.getpid()))
    log.info("local_aws listening on %s (pid %d), services: %s", endpoint_url(port), os.getpid(),
             ", ".join(router.services))
    try:
        server.serve_forever()
    finally:
        if not stopping.is_set():
            run_shutdown_hooks()
        if pid_file.exists() and pid_file.read_text() == str(os.getpid()):
            pid_file.unlink()
        log.info("local_aws stopped")
