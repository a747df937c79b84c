"""Every LOCAL_AWS_* setting, read from the environment here and nowhere else.

Each setting is read when it is needed (a test or `temporary_server()` may change the environment between
two servers), parsed once per read, and a bad value stops whoever reads it with a ValueError naming the
variable, the value and the fix. README's "Settings" table lists the same variables.

Standard library only: job processes import it (the guards read their switches here).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

T = TypeVar("T")

DEFAULT_PORT = 4577


@dataclass(frozen=True)
class Setting(Generic[T]):
    """One LOCAL_AWS_* variable: its default, how its text becomes a value, and what it is for."""

    name: str
    default: str
    parse: Callable[[str, str], T]  # (name, text) -> value, or ValueError with the fix
    doc: str

    def __call__(self) -> T:
        return self.parse(self.name, os.environ.get(self.name) or self.default)

    def is_set(self) -> bool:
        return bool(os.environ.get(self.name))


def _positive(name: str, text: str) -> float:
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if not 0 < number < math.inf:
        raise ValueError(f"{name}={text!r} is not a positive number; unset it or set it like 1.5")
    return number


def _not_negative(name: str, text: str) -> float:
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if not 0 <= number < math.inf:
        raise ValueError(f"{name}={text!r} is not a number of seconds (0 or more); unset it or set it like 5")
    return number


def _count(name: str, text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"{name}={text!r} is not a whole number of 1 or more; unset it or set it like 64")
    return int(text)


def _port(name: str, text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError(f"{name}={text!r} is not a TCP port; set it to a number like {DEFAULT_PORT}")
    return int(text)


def _choice(*choices: str) -> Callable[[str, str], str]:
    def parse(name: str, text: str) -> str:
        if text.lower() not in choices:
            raise ValueError(f"{name}={text!r} is not one of {', '.join(choices)}; unset it or set it to one of them")
        return text.lower()

    return parse


def _text(name: str, text: str) -> str:
    return text


def _path(name: str, text: str) -> Path:
    return Path(text).expanduser()


# -- the server: where it listens and keeps its files ---------------------------------------------------
PORT = Setting("LOCAL_AWS_PORT", str(DEFAULT_PORT), _port, "the TCP port on 127.0.0.1")
HOME = Setting(
    "LOCAL_AWS_HOME",
    str(Path.home() / ".local_aws"),
    _path,
    "where each server keeps its log, pid file, keys, job directories and saved state (<home>/<port>/)",
)
IDENTITY = Setting(
    "LOCAL_AWS_IDENTITY",
    "admin",
    _choice("admin", "studio"),
    "studio: play a SageMaker Studio domain, kernels acting as its execution role",
)

# -- HTTP --------------------------------------------------------------------------------------------------
REQUEST_TIMEOUT_SECONDS = Setting(
    "LOCAL_AWS_REQUEST_TIMEOUT_SECONDS", "30", _positive, "how long a request may take to arrive whole"
)
MAX_CONNECTIONS = Setting("LOCAL_AWS_MAX_CONNECTIONS", "64", _count, "how many connections are served at once")

# -- durable state -----------------------------------------------------------------------------------------
SAVE_SECONDS = Setting(
    "LOCAL_AWS_SAVE_SECONDS", "0.5", _positive, "how often changed state is saved (and the offline store written)"
)

# -- how AWS's timing is played ----------------------------------------------------------------------------
FEATURE_GROUP_TRANSITION_SECONDS = Setting(
    "LOCAL_AWS_FEATURE_GROUP_TRANSITION_SECONDS",
    "0.5",
    _positive,
    "how long a feature group stays Creating, Deleting or updating",
)
ROLE_PROPAGATION_SECONDS = Setting(
    "LOCAL_AWS_ROLE_PROPAGATION_SECONDS",
    "0",
    _not_negative,
    "how long a new role cannot be assumed yet, as IAM's eventual consistency sometimes makes it",
)

# -- jobs --------------------------------------------------------------------------------------------------
JOB_ISOLATION = Setting(
    "LOCAL_AWS_JOB_ISOLATION", "on", _choice("on", "off"), "off: jobs run with /opt/ml rewritten, no mount namespace"
)
NETGUARD_LOG = Setting(
    "LOCAL_AWS_NETGUARD_LOG", "", _text, "a file where the network guard also writes each refused connection"
)
# Set by the server in a job's environment, read by the job-side guards and the sweep of orphaned processes.
JOB_OPT_ML = Setting("LOCAL_AWS_OPT_ML", "", _text, "(set for job processes) the job host's /opt/ml stand-in")
JOB_OPT_ML_GUARD = Setting(
    "LOCAL_AWS_OPT_ML_GUARD", "", _text, "(set for job processes) 1: refuse literal /opt/ml paths"
)

ALL: tuple[Setting, ...] = (
    PORT,
    HOME,
    IDENTITY,
    REQUEST_TIMEOUT_SECONDS,
    MAX_CONNECTIONS,
    SAVE_SECONDS,
    FEATURE_GROUP_TRANSITION_SECONDS,
    ROLE_PROPAGATION_SECONDS,
    JOB_ISOLATION,
    NETGUARD_LOG,
    JOB_OPT_ML,
    JOB_OPT_ML_GUARD,
)


def port(given: int | None = None) -> int:
    """The port to use: the argument, else LOCAL_AWS_PORT, else the default."""
    return int(given) if given is not None else PORT()


def home_dir(port_number: int) -> Path:
    """Where one server keeps its files: <LOCAL_AWS_HOME>/<port>/, made if missing."""
    path = HOME() / str(port_number)
    path.mkdir(parents=True, exist_ok=True)
    return path


def check_all() -> None:
    """Read every setting once, so a bad value stops the server at its start, not hours later."""
    for setting in ALL:
        setting()
