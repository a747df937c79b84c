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

from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from local_aws.core.iam import access_keys

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


SIGNED_HEADERS = ("host", "x-amz-target", "content-type")  # what sign() signs of the headers it is given
SIGNATURE_HEADERS = ("Authorization", "X-Amz-Date", "X-Amz-Content-SHA256", "X-Amz-Security-Token")


def sign(
    method: str,
    url: str,
    headers: dict[str, str],
    body: bytes,
    service: str,
    keys: access_keys.KeyPair | Credentials,
    region: str = "us-east-1",
) -> dict[str, str]:
    """The SigV4 headers (Authorization, X-Amz-Date, S3's X-Amz-Content-SHA256, a session's token) that sign a
    request as botocore signs it, with these keys (a server's issued pair, or botocore Credentials), over its
    Host, X-Amz-Target and Content-Type when given: for requests sent by hand, byte for byte."""
    credentials = keys if isinstance(keys, Credentials) else Credentials(keys.access_key_id, keys.secret_access_key)
    signer = (S3SigV4Auth if service == "s3" else SigV4Auth)(credentials, service, region)
    request = AWSRequest(
        method=method,
        url=url,
        headers={name: value for name, value in headers.items() if name.lower() in SIGNED_HEADERS},
        data=body,
    )
    signer.add_auth(request)
    return {name: request.headers[name] for name in SIGNATURE_HEADERS if name in request.headers}
