"""Refuse every network connection that would leave loopback, in this process.

Installed in the server, in job processes, in test runs and in notebook kernels in local mode: in
local mode nothing may leave the machine, and a refused connection says so loudly instead of
hanging on a closed network. An audit hook sees every `socket.connect` and name lookup made from
Python, including those made by boto3, requests and urllib3.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import sys
import threading

from local_aws import settings

_installed = False
_lock = threading.Lock()
LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", ""}


class NetworkBlocked(ConnectionRefusedError):
    """A connection outside loopback was attempted while the guard is on."""


def is_loopback(host: object) -> bool:
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    if host is None:
        return True
    host = str(host).strip("[]").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def _record(host: object, port: object) -> None:
    log = settings.NETGUARD_LOG()
    if log:
        with _lock, open(log, "a", encoding="utf-8") as fh:
            fh.write(f"{os.getpid()} {sys.argv[0]} blocked {host}:{port}\n")


def _hook(event: str, args: tuple) -> None:
    if event == "socket.connect":
        sock, address = args
        if sock.family not in (socket.AF_INET, socket.AF_INET6):
            return
        host, port = address[0], address[1]
    elif event == "socket.getaddrinfo":
        host, port = args[0], args[1]
    else:
        return
    if not is_loopback(host):
        _record(host, port)
        raise NetworkBlocked(
            f"local_aws blocked a connection to {host}:{port}: in local mode nothing leaves this "
            "machine. Point the client at the local endpoint (helpers.configure(backend='local') or "
            "`eval $(python -m local_aws env)`), or use backend='aws' for real AWS."
        )


def install() -> None:
    """Install the guard once in this process (audit hooks cannot be removed)."""
    global _installed
    if not _installed:
        sys.addaudithook(_hook)
        _installed = True
