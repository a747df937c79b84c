"""The server: the runtime of the services it serves, behind the HTTP server, until it is stopped.

A server is built from a list of services (local_aws.services): their operations make its gateway, their
stores its durable state, their hooks its life. The saved state is loaded before anything is answered, and a
write request is admitted only once the next save can keep it (local_aws.core.runtime.durability). A stop
first stops taking requests and lets those under way finish, then stops running work (pipelines, jobs,
queries), writes what is buffered (the offline store) and saves the state: nothing acknowledged is lost. The
`shutdown` admin command answers once that final save is done, with its result; a stop that could not save
everything exits with status 1.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from local_aws import settings
from local_aws.core import gateway as gateway_module
from local_aws.core.gateway import http_errors, http_server, wire
from local_aws.core.gateway.errors import AwsError, NotFound, ServiceUnavailable, http_status
from local_aws.core.gateway.router import Router
from local_aws.core.iam import authentication, credentials
from local_aws.core.moto.calls import MotoApp
from local_aws.core.runtime import persistence
from local_aws.core.runtime.config import HOST, endpoint_url, home_dir
from local_aws.core.runtime.write_requests import CountingGateway, WriteAdmission
from local_aws.core.service import Service
from local_aws.job_side import netguard

log = logging.getLogger("local_aws")

StartResponse = Callable[..., Any]
REQUEST_DRAIN_SECONDS = 30  # how long a stop waits for the requests under way
STOP_ANSWER_SECONDS = 600  # how long the shutdown command waits for the stop's final save
ANSWER_SENT_SECONDS = 10  # how long the stopped server waits for that answer to be sent


class Runtime:
    """The services one server serves: their gateway, stores, hooks and admin commands."""

    def __init__(self, services: Sequence[Service], port: int, home: Path, saver: persistence.Persistence):
        self.services = tuple(services)
        self.port = port
        self.home = home
        self.saver = saver
        self.started = time.time()
        self.gateway = CountingGateway(
            self.services, MotoApp(f"{HOST}:{port}"), endpoint_url(port), durability=saver.durability
        )
        self.router = Router(self.gateway, self.admin)
        self.admission = WriteAdmission(saver.durability, self.router.routes.rest)
        self.on_stop: Callable[[], None] = lambda: None
        self._stopped = threading.Event()
        self._stop_problem: str | None = None
        self._stop_awaited = threading.Event()  # a shutdown command waits for the stop's result
        self._stop_answer_sent = threading.Event()
        self.admin_actions = {name: action for s in self.services for name, action in s.admin_actions.items()}

    def hooks(self, kind: str) -> list[Callable]:
        """The hooks of one kind (on_start, on_reset, ...) of every service, in the order services are listed."""
        return [hook for service in self.services for hook in getattr(service, kind)]

    def start(self) -> None:
        """Once the port is ours (no other server of this home runs): the key pair requests are signed with, the
        services' start hooks, then saving."""
        authentication.issue_keys(self.home)
        for hook in self.hooks("on_start"):
            hook(self.home)
        self.saver.start()

    def health(self) -> dict:
        record = {
            "service": "local_aws",
            "pid": os.getpid(),
            "port": self.port,
            "endpoint": endpoint_url(self.port),
            "log": str(self.home / "server.log"),
            "uptime_seconds": round(time.time() - self.started, 1),
            "services": [service.name for service in self.services],
            **self.saver.health(),
        }
        for field in self.hooks("health"):
            record.update(field())
        return record

    def reset(self) -> dict:
        """Forget all state, and the saved state with it."""

        def forget() -> None:
            authentication.forget_keys()
            for store in self.saver.stores:
                store.reset()
            for hook in self.hooks("on_reset"):
                hook()

        self.saver.wipe(forget)
        return {"reset": True}

    def shutdown(self) -> None:
        """Stop running work, then write what is buffered."""
        for hook in self.hooks("on_shutdown") + self.hooks("on_flush"):
            try:
                hook()
            except Exception:
                log.exception("shutdown hook %s failed", getattr(hook, "__name__", hook))

    def stopped(self, problem: str | None) -> None:
        """The stop is done: `problem` says what its final save could not keep (None: everything is saved).
        Returns once the shutdown command waiting for that result, if any, has been answered."""
        self._stop_problem = problem
        self._stopped.set()
        if self._stop_awaited.is_set():
            self._stop_answer_sent.wait(ANSWER_SENT_SECONDS)

    def _stop_and_wait(self) -> dict:
        """Stop, and answer once the final save is done, with its result (the channel that still works on a
        full disk: the caller keeps its connection open)."""
        self._stop_awaited.set()
        threading.Thread(target=self.on_stop, daemon=True).start()
        if not self._stopped.wait(STOP_ANSWER_SECONDS):
            return {"stopping": True}
        if self._stop_problem is None:
            return {"stopped": True, "saved": True}
        return {"stopped": True, "saved": False, "problem": self._stop_problem}

    def admin(self, environ: dict, start_response: StartResponse, name: str) -> Iterable[bytes]:
        """The admin commands under /_local_aws/ (the HTTP guard has checked the admin token of a POST)."""
        method = environ["REQUEST_METHOD"]
        try:
            if name == "health" and method == "GET":
                body = self.health()
            elif name == "credentials" and method == "GET":
                body = credentials.fetch(environ.get("HTTP_AUTHORIZATION", ""))
            elif name == "reset" and method == "POST":
                body = self.reset()
            elif name == "shutdown" and method == "POST":
                body = self._stop_and_wait()
            elif name in self.admin_actions and method == "POST":
                body = self.admin_actions[name]()
            else:
                raise NotFound(f"no admin command {method} /_local_aws/{name}")
            status, payload = 200, wire.encode_json(body)
        except AwsError as err:
            status, payload = http_status("", err), wire.json_error(err)
        start_response(
            f"{status} {'OK' if status == 200 else 'Error'}",
            [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))],
        )
        return _Sent(payload, self._stop_answer_sent) if name == "shutdown" else [payload]


class _Sent(list):
    """An answer that says when it has been sent: the WSGI server calls close() once it has written it."""

    def __init__(self, payload: bytes, sent: threading.Event):
        super().__init__([payload])
        self.sent = sent

    def close(self) -> None:
        self.sent.set()


class _InFlight:
    """WSGI wrapper counting the requests under way, so a stop can let them finish first; once
    stopping, a request arriving on a connection kept alive is refused with 503, which SDKs retry.
    A write request is admitted first (refused with 503 when the next save could not keep it); the
    shutdown command, which waits for the stop, is not counted."""

    def __init__(self, app: Callable[..., Iterable[bytes]], admission: WriteAdmission):
        self.app = app
        self.admission = admission
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
            counted = not _is_shutdown(environ)
            if counted:
                self.count += 1
        try:
            try:
                size = self.admission.admit(environ)
            except AwsError as refusal:
                return http_errors.answer(environ, start_response, refusal)
            try:
                return self.app(environ, start_response)
            finally:
                self.admission.done(size)
        finally:
            if counted:
                with self.idle:
                    self.count -= 1
                    self.idle.notify_all()

    def close(self, timeout: float) -> bool:
        """Take no more requests; True once those under way have finished (within `timeout`)."""
        with self.idle:
            self.closed = True
            return self.idle.wait_for(lambda: self.count == 0, timeout)


def _is_shutdown(environ: dict) -> bool:
    return environ.get("PATH_INFO") == "/_local_aws/shutdown" and environ.get("REQUEST_METHOD") == "POST"


def serve(port: int) -> int:
    """Serve in the foreground until stopped (Ctrl-C, SIGTERM or POST /_local_aws/shutdown); the exit status:
    1 when the final save could not keep everything."""
    from local_aws.services import SERVICES  # the services themselves: imported by the server only

    settings.check_all()  # a bad LOCAL_AWS_* value stops the start, naming the fix
    netguard.install()
    os.environ.setdefault("MOTO_ALLOW_NONEXISTENT_REGION", "true")
    home = home_dir(port)
    stores = [store for service in SERVICES for store in service.stores]
    before_save = [hook for service in SERVICES for hook in service.before_save]
    saver = persistence.Persistence(persistence.state_dir(home), settings.SAVE_SECONDS(), stores, before_save)
    runtime = Runtime(SERVICES, port, home, saver)
    gateway_module.install(runtime.gateway)
    restored = saver.restore()
    log.info(
        "state restored in %.2f s: %s%s",
        restored["seconds"],
        ", ".join(restored["loaded"]) or "none saved",
        f" (unreadable, set aside: {', '.join(restored['unreadable'])})" if restored["unreadable"] else "",
    )
    requests = _InFlight(runtime.router, runtime.admission)
    server = http_server.make_server(port, requests, home)
    runtime.start()
    stopping = threading.Event()

    def stop() -> None:
        if not stopping.is_set():
            stopping.set()
            log.info("stopping: no more requests; finishing the ones under way")
            server.shutdown()

    runtime.on_stop = stop
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: threading.Thread(target=stop, daemon=True).start())
    pid_file = home / "server.pid"
    pid_file.write_text(str(os.getpid()))
    names = ", ".join(service.name for service in SERVICES)
    log.info("local_aws listening on %s (pid %d), services: %s", endpoint_url(port), os.getpid(), names)
    try:
        server.serve_forever()
    finally:
        server.server_close()
        if not requests.close(timeout=REQUEST_DRAIN_SECONDS):
            log.warning("stopping with %d requests still under way after %d s", requests.count, REQUEST_DRAIN_SECONDS)
        runtime.shutdown()
        problem = saver.stop()
        runtime.stopped(problem)  # the shutdown command waiting for the result has it
        if pid_file.exists() and pid_file.read_text() == str(os.getpid()):
            pid_file.unlink()
        if problem is None:
            log.info("local_aws stopped; state saved in %s", saver.directory)
        else:
            log.error("local_aws stopped without saving all of its state: %s", problem)
    return 0 if problem is None else 1
