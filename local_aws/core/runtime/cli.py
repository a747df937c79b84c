"""`python -m local_aws start|status|stop|reset|serve|env [--port N]`."""

from __future__ import annotations

import argparse
import logging
import shlex
import sys
from pathlib import Path

from local_aws.core.runtime import lifecycle
from local_aws.core.runtime.config import DEFAULT_PORT, STALE_VARIABLES, client_environment, port_from_env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m local_aws",
        description="An embedded stand-in for AWS on loopback: Feature Store, Athena, processing and "
        "training jobs, pipelines and the Model Registry, on top of moto.",
    )
    parser.add_argument("command", choices=["start", "status", "stop", "reset", "serve", "env"])
    parser.add_argument(
        "--port", type=int, default=None, help=f"TCP port on 127.0.0.1 (default: $LOCAL_AWS_PORT or {DEFAULT_PORT})"
    )
    args = parser.parse_args(argv)
    try:
        port = port_from_env(args.port)
    except ValueError as exc:
        parser.error(str(exc))
    try:
        return COMMANDS[args.command](port)
    except lifecycle.LocalAwsError as exc:
        print(f"local_aws: {exc}", file=sys.stderr)
        return 1


def _start(port: int) -> int:
    was_running = lifecycle.status(port)
    health = lifecycle.ensure_running(port)
    word = "already running" if was_running else "started"
    print(f"local_aws {word} on {health['endpoint']} (pid {health['pid']}); log: {health['log']}")
    _warn_about_saved_state(health)
    return 0


def _warn_about_saved_state(health: dict) -> None:
    """Say on the terminal what the server set aside at start, and why it refuses writes, if it does."""
    saved = health.get("saved_state", {})
    if saved.get("set_aside_at_start"):
        print(
            "local_aws: warning: saved state this version cannot read was set aside (those stores start empty; "
            f"the files are kept in {saved['set_aside_in']}):",
            file=sys.stderr,
        )
        for line in saved["set_aside_at_start"]:
            print(f"  {line}", file=sys.stderr)
    if saved.get("writes_refused"):
        print(f"local_aws: warning: write requests are refused: {saved['writes_refused']}", file=sys.stderr)


def _status(port: int) -> int:
    health = lifecycle.status(port)
    if not health:
        print(f"local_aws is not running on port {port}; start it with `python -m local_aws start`")
        return 1
    print(f"local_aws running on {health['endpoint']} (pid {health['pid']}, up {health['uptime_seconds']} s)")
    print(f"log: {health['log']}")
    _warn_about_saved_state(health)
    return 0


def _stop(port: int) -> int:
    print("local_aws stopped" if lifecycle.stop(port) else f"local_aws was not running on port {port}")
    return 0


def _reset(port: int) -> int:
    lifecycle.reset(port)
    print(
        "local_aws state reset: every bucket, feature group, job, pipeline and model version is gone, "
        "saved state included"
    )
    return 0


def _serve(port: int) -> int:
    from local_aws.core.runtime.server import serve

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    return serve(port)


def _env(port: int) -> int:
    """The export lines for a shell, with the key pair the running server (or the last one of this home) issued."""
    health = lifecycle.status(port)
    home = Path(health["log"]).parent if health and health.get("log") else None
    try:
        environment = client_environment(port, home=home)
    except OSError as exc:
        print(
            f"local_aws: no key pair to hand out ({exc.strerror or exc}): start it with `python -m local_aws start`, "
            "and run this as the user who started it",
            file=sys.stderr,
        )
        return 1
    print(f"unset {' '.join(STALE_VARIABLES)}")
    for name, value in environment.items():
        print(f"export {name}={shlex.quote(value)}")
    return 0


COMMANDS = {"start": _start, "status": _status, "stop": _stop, "reset": _reset, "serve": _serve, "env": _env}
