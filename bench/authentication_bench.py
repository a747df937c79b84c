"""What authenticating a request costs: local_aws.core.iam.authentication.principal_of on a signed PutRecord.

    .venv/bin/python bench/authentication_bench.py [--number 20000]

The tutorial's ingestion calls PutRecord thousands of times, from the notebook (the issued key pair, the
account's administrator) and from a processing job (a session of its role, with its token). Each request
is the one boto3 sends, captured before it leaves (a ~0.5 KB JSON record, SigV4 over its headers and
body), turned into the WSGI environ the server would see and verified in-process, without the server.
The figure is the time per call of principal_of, best of five repetitions (timeit's way).
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import timeit
from pathlib import Path
from urllib.parse import urlsplit

import boto3

from local_aws.core.iam import authentication
from local_aws.core.moto import iam as moto_iam

RECORD = [
    {"FeatureName": name, "ValueAsString": value}
    for name, value in [
        ("customer_id", "12345"),
        ("event_time", "2024-05-01T10:00:00Z"),
        ("sex", "M"),
        ("length", "0.455"),
        ("diameter", "0.365"),
        ("height", "0.095"),
        ("whole_weight", "0.514"),
        ("shucked_weight", "0.2245"),
        ("viscera_weight", "0.101"),
        ("shell_weight", "0.15"),
        ("rings", "15"),
    ]
]


class _Captured(Exception):
    def __init__(self, request):
        self.request = request


def signed_put_record(**credentials: str) -> dict:
    """The WSGI environ of the PutRecord boto3 sends with these credentials."""
    client = boto3.client(
        "sagemaker-featurestore-runtime", endpoint_url="http://127.0.0.1:4577", region_name="us-east-1", **credentials
    )

    def capture(request, **kwargs):
        raise _Captured(request)

    client.meta.events.register("before-send", capture)
    try:
        client.put_record(FeatureGroupName="abalone-features", Record=RECORD)
    except _Captured as captured:
        request = captured.request
    url = urlsplit(request.url)
    body = request.body or b""
    environ = {
        "REQUEST_METHOD": request.method,
        "PATH_INFO": url.path,
        "RAW_URI": url.path + (f"?{url.query}" if url.query else ""),
        "QUERY_STRING": url.query,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
    }
    for name, value in request.headers.items():
        value = value.decode() if isinstance(value, bytes) else value
        key = name.upper().replace("-", "_")
        environ[key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}"] = value
    environ.setdefault("HTTP_HOST", url.netloc)
    return environ


def per_call_microseconds(environ: dict, number: int) -> float:
    def verify() -> None:
        environ["wsgi.input"].seek(0)
        authentication.principal_of(environ)

    verify()  # fails loudly if the request is refused
    return min(timeit.repeat(verify, number=number, repeat=5)) / number * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--number", type=int, default=20000, help="calls per repetition (default 20000)")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="authentication-bench-"))
    authentication.issue_keys(home)
    keys = (home / "credentials").read_text().split()
    admin = signed_put_record(aws_access_key_id=keys[3], aws_secret_access_key=keys[6])
    role = moto_iam.create_role("BenchRole", "/", {"Version": "2012-10-17", "Statement": []}, [])
    session = moto_iam.assume_role(role, "SageMaker")
    job = signed_put_record(
        aws_access_key_id=session["AccessKeyId"],
        aws_secret_access_key=session["SecretAccessKey"],
        aws_session_token=session["Token"],
    )
    body = len(admin["wsgi.input"].getvalue())
    print(f"principal_of on a signed PutRecord ({body} bytes of JSON), best of 5 x {args.number} calls:")
    print(f"  the issued key pair (administrator): {per_call_microseconds(admin, args.number):6.1f} µs per call")
    print(f"  a role's session with its token:     {per_call_microseconds(job, args.number):6.1f} µs per call")
    return 0


if __name__ == "__main__":
    sys.exit(main())
