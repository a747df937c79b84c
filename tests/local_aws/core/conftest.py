"""Fixtures for the core's HTTP tests: requests sent byte for byte, and a server with a short request timeout."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from support import sign

import local_aws
from local_aws import free_port
from local_aws.core.iam import access_keys


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes
    seconds: float


class RawHttp:
    """Requests to one local_aws, sent byte for byte as given: what no well-behaved client would send."""

    def __init__(self, port: int, home: Path):
        self.port = port
        self.home = home  # the server's home directory, where its admin token and key pair are

    def raw(self, data: bytes, timeout: float = 20) -> Answer:
        """Send `data` on a new connection and read the answer."""
        started = time.monotonic()
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as sock:
            sock.sendall(data)
            response = http.client.HTTPResponse(sock)
            response.begin()
            return Answer(response.status, response.headers, response.read(), time.monotonic() - started)

    def send(
        self,
        method: str,
        path: str = "/",
        headers: dict[str, str] | None = None,
        body: bytes = b"",
        signed_for: str = "",
    ) -> Answer:
        """A request with Host and Content-Length filled in unless `headers` give them; `signed_for` signs it for
        that service (SigV4, with the key pair the server issued: local_aws routes by the signature's scope, as
        moto does), over its Host, X-Amz-Target, Content-Type and body."""
        all_headers = {"Host": f"127.0.0.1:{self.port}", "Content-Length": str(len(body))}
        all_headers.update(headers or {})
        if signed_for:
            url = f"http://127.0.0.1:{self.port}{path}"
            all_headers.update(sign(method, url, all_headers, body, signed_for, access_keys.read(self.home)))
        head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{name}: {value}\r\n" for name, value in all_headers.items())
        return self.raw(head.encode("latin-1") + b"\r\n" + body)


@pytest.fixture()
def raw_http(server) -> RawHttp:
    """Raw requests to the session's server."""
    return RawHttp(server.port, server.home / str(server.port))


@pytest.fixture(scope="module")
def short_timeout_server(tmp_path_factory: pytest.TempPathFactory) -> RawHttp:
    """A server of its own whose request timeout is 2 s, so timeouts can be watched happen. It is stopped
    with local_aws.stop() from this process, whose LOCAL_AWS_HOME is not the server's."""
    home = tmp_path_factory.mktemp("short_timeout_home")
    port = free_port()
    env = {**os.environ, "LOCAL_AWS_HOME": str(home), "LOCAL_AWS_REQUEST_TIMEOUT_SECONDS": "2"}
    with open(home / "serve.out", "ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "local_aws", "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while not local_aws.status(port):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"local_aws did not start: {(home / 'serve.out').read_text()[-3000:]}")
        time.sleep(0.1)
    yield RawHttp(port, home / str(port))
    assert local_aws.stop(port)
    assert process.wait(timeout=30) == 0
    assert "refused POST /_local_aws/shutdown" not in (home / "serve.out").read_text()  # the token was found
