"""The per-start secret that admin commands (POST /_local_aws/reset, flush, shutdown) must carry.

Once it listens, the server writes a random token to `admin_token` in its home directory, readable
by its user only (mode 0600), and refuses admin commands without it in the X-Local-Aws-Token
header; local_aws.reset(), flush() and stop() read the file and send it. A web page can neither
read the file nor send a custom header to another origin without a CORS preflight, which local_aws
never grants; another user of the machine cannot read the file either.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

HEADER = "X-Local-Aws-Token"
ENVIRON_KEY = "HTTP_X_LOCAL_AWS_TOKEN"  # the header as WSGI names it
FILE_NAME = "admin_token"


def new() -> str:
    return secrets.token_urlsafe(32)


def write(home: Path, token: str) -> Path:
    """Write the token where only this user can read it; replaces the file of a previous start at once."""
    path = home / FILE_NAME
    partial = home / f".{FILE_NAME}.{os.getpid()}"
    partial.unlink(missing_ok=True)
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)  # whatever the umask
        os.write(fd, token.encode())
    finally:
        os.close(fd)
    os.replace(partial, path)
    return path


def read(home: Path) -> str:
    """The token of the server whose home this is (OSError when it cannot be read)."""
    return (home / FILE_NAME).read_text().strip()
