"""What tests share besides fixtures (those are in conftest.py files): calls whose AWS error a test
checks, and one way to wait for something to happen. Service-specific builders live in the
submodules (support.featurestore, support.jobs, support.pipelines). Test modules import from here,
never from each other.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from botocore.exceptions import ClientError

T = TypeVar("T")
ACCOUNT = "123456789012"
REPO = Path(__file__).resolve().parents[2]
GUARD_SITE = REPO / "local_aws" / "job_side" / "guard_site"  # puts the network guard in child processes too


def error_of(call: Callable[[], Any]) -> tuple[str, str]:
    """(code, message) of the AWS error the call answers; fails the test if it succeeds."""
    try:
        call()
    except ClientError as err:
        return err.response["Error"]["Code"], err.response["Error"]["Message"]
    raise AssertionError("the call succeeded; an AWS error was expected")


def wait_until(
    probe: Callable[[], T],
    done: Callable[[T], bool] = bool,
    timeout: float = 30.0,
    interval: float = 0.05,
    what: str = "the condition",
) -> T:
    """Call `probe` until `done(value)` holds, and return that value; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout:g} s; last seen: {value!r}")
        time.sleep(interval)
