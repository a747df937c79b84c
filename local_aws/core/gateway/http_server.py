"""The HTTP server local_aws listens with: werkzeug's threaded server, bounded, behind the HTTP guard.

werkzeug's development server starts a thread per connection, with no limit and no timeout, so
connections that send nothing, or half a request, each hold a thread for ever. Here:

- a connection's socket times out after LOCAL_AWS_REQUEST_TIMEOUT_SECONDS (30 s) without progress;
- at most LOCAL_AWS_MAX_CONNECTIONS (64) connections are served at once. When all are taken, the one
  that has been sending its request the longest (over a second) is cut to make room: a half-sent
  request gives way to a new one, so stalled connections never keep a client out. When every slot
  is answering a request, a new connection waits in the listen queue until one is done rather than
  getting a 503: local_aws answers in milliseconds (jobs, pipelines and queries run in the
  background), so a short wait serves a burst better than an error every client has to retry;
- framing errors that Python's http.server answers with an HTML page (a malformed request line,
  header lines too long) are answered in AWS's XML error shape.

Once the server listens, it writes the admin token the guard asks admin commands for.
"""

from __future__ import annotations

import logging
import os
import selectors
import socket
import threading
import time
from functools import partial
from http import HTTPStatus
from pathlib import Path

from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

from local_aws import settings
from local_aws.core.gateway import admin_token, wire
from local_aws.core.gateway.errors import InvalidRequest
from local_aws.core.gateway.http_guard import REQUEST_RECEIVED, App, HttpGuard
from local_aws.core.moto.calls import REQUEST_HANDLER
from local_aws.core.runtime.config import HOST

log = logging.getLogger("local_aws")
CUT_AFTER_SECONDS = 1.0  # a request still being sent after this long may be cut when all slots are taken


class ConnectionSlots:
    """At most `limit` connections served at once; those still sending their request give way to new ones."""

    def __init__(self, limit: int):
        self.limit = limit
        self._served: set[socket.socket] = set()
        self._sending: dict[socket.socket, float] = {}  # connection -> when it was accepted
        self._changed = threading.Condition()
        self._closed = False

    def admit(self, connection: socket.socket) -> bool:
        """Take a slot for a new connection, cutting the longest-sending one if need be; False once closed."""
        with self._changed:
            while len(self._served) >= self.limit and not self._closed:
                oldest = min(self._sending, key=self._sending.__getitem__, default=None)
                if oldest is not None and time.monotonic() - self._sending[oldest] >= CUT_AFTER_SECONDS:
                    self._cut(oldest)
                else:
                    self._changed.wait(0.1)
            if self._closed:
                return False
            self._served.add(connection)
            self._sending[connection] = time.monotonic()
            return True

    def received(self, connection: socket.socket) -> None:
        """The connection's request has arrived whole: it is being answered and is not cut any more."""
        with self._changed:
            self._sending.pop(connection, None)

    def release(self, connection: socket.socket) -> None:
        with self._changed:
            self._served.discard(connection)
            self._sending.pop(connection, None)
            self._changed.notify_all()

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    def _cut(self, connection: socket.socket) -> None:
        """End a connection still sending its request (so nothing of it has run); its thread sees the end
        and finishes, and a client that was merely slow retries."""
        waited = time.monotonic() - self._sending.pop(connection)
        self._served.discard(connection)
        try:
            connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        log.warning("all %d connections taken: cut one that sent no whole request in %.1f s", self.limit, waited)


class BoundedServer(ThreadedWSGIServer):
    """werkzeug's threaded server, with its connections bounded by ConnectionSlots."""

    def __init__(self, port: int, app: App, handler: type[WSGIRequestHandler], slots: ConnectionSlots):
        self.slots = slots
        super().__init__(HOST, port, app, handler=handler)

    def process_request(self, request: socket.socket, client_address: tuple) -> None:
        if self.slots.admit(request):
            super().process_request(request, client_address)
        else:
            self.shutdown_request(request)

    def process_request_thread(self, request: socket.socket, client_address: tuple) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release(request)

    def shutdown(self) -> None:
        self.slots.close()
        super().shutdown()


class _BoundedHandler(WSGIRequestHandler):
    """Request handler additions: tells the slots when the request has arrived; framing errors in AWS's shape.

    make_server mixes it in front of moto's handler and sets the socket `timeout`."""

    server: BoundedServer

    def make_environ(self) -> dict:
        environ = super().make_environ()
        environ[REQUEST_RECEIVED] = partial(self.server.slots.received, self.connection)
        lengths = self.headers.get_all("Content-Length") or []
        if len(lengths) > 1:  # werkzeug keeps the last; the guard must see them all to refuse them
            environ["CONTENT_LENGTH"] = ", ".join(lengths)
        return environ

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's answer to a request it cannot parse, as an AWS error document; always a 4xx (an
        unsupported HTTP version, 505 to http.server, is the client's mistake too)."""
        status = HTTPStatus(code if code < 500 else 400)
        text = message or status.phrase
        error = InvalidRequest(f"{text}: {explain}." if explain else f"{text}.")
        payload = wire.s3_error(error, os.urandom(16).hex())
        self.log_error("refused a malformed request: %d %s", status, error.message)
        self.close_connection = True
        self.request_version = "HTTP/1.1"  # a status line and headers even when the request line was unreadable
        self.send_response(status, status.phrase)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Connection", "close")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if getattr(self, "command", None) != "HEAD":
            self.wfile.write(payload)
        self.wfile.flush()
        self._discard_unread()

    def _discard_unread(self) -> None:
        """Read what the client sent past the error, so closing does not reset the connection before the
        client has read the answer."""
        with selectors.DefaultSelector() as selector:
            selector.register(self.connection, selectors.EVENT_READ)
            for _ in range(100):
                if not selector.select(timeout=0.05) or not self.connection.recv(1 << 16):
                    return


def make_server(port: int, app: App, home: Path) -> BoundedServer:
    """The server for `app` on 127.0.0.1:`port`, behind the HTTP guard; writes the admin token once it listens."""
    token = admin_token.new()
    timeout = settings.REQUEST_TIMEOUT_SECONDS()
    guard = HttpGuard(app, port, token, home / admin_token.FILE_NAME, timeout)
    handler = type("LocalAwsRequestHandler", (_BoundedHandler, REQUEST_HANDLER), {"timeout": timeout})
    server = BoundedServer(port, guard, handler, ConnectionSlots(settings.MAX_CONNECTIONS()))
    admin_token.write(home, token)  # only now: a second server failing to bind must not replace the first's
    return server
