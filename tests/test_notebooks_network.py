"""In local mode nothing leaves the machine: not from the notebooks, not from their jobs.

The first test runs after the nbval run of the notebooks (notebooks/conftest.py puts it last in
their xdist group) and reads the network guard's log of their dedicated local_aws server: every
connection outside loopback that a kernel, the server or a job process attempted is recorded
there. The second shows that the guard is really on in a kernel configured for local mode.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from jupyter_client.manager import start_new_kernel

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS_CONFTEST = REPO / "notebooks" / "conftest.py"
UNROUTABLE = ("198.51.100.7", 443)  # TEST-NET-2: documentation addresses, never a real host


def tutorial_run(config: pytest.Config):
    """The notebooks' nbval run in this session (notebooks/conftest.py), or None."""
    for plugin in config.pluginmanager.get_plugins():
        if Path(getattr(plugin, "__file__", "") or "").resolve() == NOTEBOOKS_CONFTEST:
            return plugin.RUN
    return None


def test_the_notebooks_opened_no_connection_outside_loopback(request: pytest.FixtureRequest) -> None:
    run = tutorial_run(request.config)
    if run is None or not run.finished:
        pytest.skip("the notebooks did not run in this session: `make test` runs them (pytest --nbval ... notebooks)")
    log = run.netguard_log
    blocked = log.read_text() if log.exists() else ""
    assert blocked == "", f"connections outside loopback were attempted (and refused) during the notebooks:\n{blocked}"


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
    output = run_in_kernel(f"""
import socket
import helpers
setup = helpers.configure(backend="local")
print("endpoint", setup.endpoint_url)
try:
    socket.create_connection({UNROUTABLE!r}, timeout=5)
    print("connected")
except ConnectionRefusedError as error:
    print("refused", type(error).__name__)
""", env)
    assert f"endpoint {server.endpoint}" in output, output
    assert "refused NetworkBlocked" in output, output
    assert f"blocked {UNROUTABLE[0]}:{UNROUTABLE[1]}" in log.read_text()
