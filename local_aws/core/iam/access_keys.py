"""The key pair a server issues to the user who started it: the account administrator's credentials.

At its first start a server issues an access key id in AWS's form (`AKIA` and 16 upper-case letters
and digits) and a 40-character secret access key, and keeps them in `credentials` in its home, an AWS
shared-credentials file (profile `default`) readable by its user only (mode 0600), written once the
server holds its port. Later starts of the same home keep the pair, as they keep the state it acts
on, so a notebook kernel or a shell configured before a restart carries on; a file that is missing,
malformed, not a regular file, not the user's own or readable by anyone else is replaced by a new
pair. `python -m local_aws env`, local_aws.client_environment(), helpers.configure(backend="local") and
local_aws.temporary_server() hand the pair out; local_aws.core.iam.authentication verifies every
request's signature with it (or with the keys moto's STS and IAM issued).

This module only reads and writes the file: clients import it without the server's dependencies.
"""

from __future__ import annotations

import configparser
import os
import re
import secrets
import stat
import string
from dataclasses import dataclass, field
from pathlib import Path

FILE_NAME = "credentials"
PROFILE = "default"
_ID_CHARACTERS = string.ascii_uppercase + string.digits
_SECRET_CHARACTERS = string.ascii_letters + string.digits + "+/"  # as AWS's secret access keys
_ACCESS_KEY_ID = re.compile(r"AKIA[A-Z0-9]{16}")
_SECRET = re.compile(r"[A-Za-z0-9+/]{40}")


@dataclass(frozen=True)
class KeyPair:
    access_key_id: str
    secret_access_key: str = field(repr=False)


def new() -> KeyPair:
    """A fresh random pair, in AWS's formats."""
    return KeyPair(
        "AKIA" + "".join(secrets.choice(_ID_CHARACTERS) for _ in range(16)),
        "".join(secrets.choice(_SECRET_CHARACTERS) for _ in range(40)),
    )


def issue(home: Path) -> KeyPair:
    """The pair of this home: the one an earlier start kept there, if only this user could read it; else a new one."""
    path = home / FILE_NAME
    try:
        info = path.lstat()
        if stat.S_ISREG(info.st_mode) and info.st_uid == os.getuid() and not info.st_mode & 0o077:
            return read(home)
    except (OSError, ValueError):
        pass
    pair = new()
    write(home, pair)
    return pair


def write(home: Path, pair: KeyPair) -> Path:
    """Write the pair where only this user can read it, replacing any earlier file at once."""
    path = home / FILE_NAME
    partial = home / f".{FILE_NAME}.{os.getpid()}"
    partial.unlink(missing_ok=True)
    text = f"[{PROFILE}]\naws_access_key_id = {pair.access_key_id}\naws_secret_access_key = {pair.secret_access_key}\n"
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)  # whatever the umask
        os.write(fd, text.encode())
    finally:
        os.close(fd)
    os.replace(partial, path)
    return path


def read(home: Path) -> KeyPair:
    """The pair a server keeps in `home`: OSError when the file cannot be read, ValueError when it is malformed."""
    parser = configparser.ConfigParser(interpolation=None)
    text = (home / FILE_NAME).read_text()
    try:
        parser.read_string(text)
        pair = KeyPair(parser[PROFILE]["aws_access_key_id"].strip(), parser[PROFILE]["aws_secret_access_key"].strip())
    except (configparser.Error, KeyError):
        raise ValueError(f"{home / FILE_NAME} has no [{PROFILE}] key pair") from None
    if not _ACCESS_KEY_ID.fullmatch(pair.access_key_id) or not _SECRET.fullmatch(pair.secret_access_key):
        raise ValueError(f"{home / FILE_NAME} holds no key pair local_aws issued")
    return pair
