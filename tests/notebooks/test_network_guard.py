"""In local mode the guard is really on in a notebook kernel: a connection outside loopback fails.

(tests/test_notebooks.py checks that the notebooks themselves, their kernels, the server and the
jobs attempted none: the guard's log of their run stays empty.)
"""

from __future__ import annotations

import os
from pathlib import Path

from jupyter_client.manager import start_new_kernel
from support import REPO

UNROUTABLE = ("198.51.100.7", 443)  # TEST-NET-2: documentation addresses, never a real host


def run_in_kernel(code: str, env: dict[str, str]) -> str:
    """Execute `code` in a fresh python3 kernel started with `env`; its stdout and stderr."""
    manager, client = start_new_kernel(kernel_name="python3", env=env, cwd=str(REPO / "notebooks"))
    output: list[str] = []

    def collect(message: dict) -> None:
        if message["msg_type"] == "stream":
            output.append(message["content"]["text"])
        elif message["msg_type"] == "error":
            output.append(f"{message['content']['ename']}: {message['content']['evalue']}")

    try:
        client.execute_interactive(code, output_hook=collect, timeout=120)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    return "".join(output)


def test_a_kernel_configured_for_local_refuses_connections_outside_loopback(server, tmp_path: Path) -> None:
    log = tmp_path / "netguard.log"
    env = {**os.environ, **server.client_env(), "LOCAL_AWS_NETGUARD_LOG": str(log)}
    output = run_in_kernel(
        f"""
import socket
import helpers
setup = helpers.configure(backend="local")
print("endpoint", setup.endpoint_url)
try:
    socket.create_connection({UNROUTABLE!r}, timeout=5)
    print("connected")
except ConnectionRefusedError as error:
    print("refused", type(error).__name__)
""",
        env,
    )
    assert f"endpoint {server.endpoint}" in output, output
    assert "refused NetworkBlocked" in output, output
    assert f"blocked {UNROUTABLE[0]}:{UNROUTABLE[1]}" in log.read_text()
