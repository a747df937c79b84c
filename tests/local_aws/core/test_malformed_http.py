"""Malformed, slow and half-sent requests are answered 4xx in AWS's error shape within seconds, and never
hold the server: no Python exception text, no 500, no HTML page, no hang."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from pathlib import Path

import pytest
from botocore.config import Config
from support import error_of, wait_until

JSON = {"Content-Type": "application/x-amz-json-1.1"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def target(name: str) -> dict[str, str]:
    return {"X-Amz-Target": name, **JSON}


def aws_error(answer) -> tuple[str, str]:
    """(code, message) of an answer in AWS's JSON or XML error shape; fails on any other answer."""
    if answer.headers.get("Content-Type", "").startswith("application/x-amz-json"):
        document = json.loads(answer.body)
        return document["__type"], document["message"]
    text = answer.body.decode()
    code, message = re.search(r"<Code>(.*?)</Code>", text), re.search(r"<Message>(.*?)</Message>", text)
    assert code and message, f"not an AWS error document: {text[:300]!r}"
    return code[1], message[1]


MALFORMED = {
    "content-length-not-a-number": (
        "POST",
        target("SageMaker.ListFeatureGroups") | {"Content-Length": "abc"},
        b"{}",
        "sagemaker",
        "InvalidRequest",
    ),
    "content-length-negative": (
        "POST",
        target("SageMaker.ListFeatureGroups") | {"Content-Length": "-1"},
        b"{}",
        "sagemaker",
        "InvalidRequest",
    ),
    "content-length-twice": ("PUT", {"Content-Length": "2", "Content-length": "3"}, b"ab", "s3", "InvalidRequest"),
    "json-array-moto": (
        "POST",
        target("SageMaker.ListModelPackageGroups"),
        b"[1, 2]",
        "sagemaker",
        "SerializationException",
    ),
    "json-not-utf8-moto": (
        "POST",
        target("SageMaker.ListModelPackageGroups"),
        b'{"NameContains": "\xff"}',
        "sagemaker",
        "SerializationException",
    ),
    "json-wrong-type-moto": (
        "POST",
        target("SageMaker.ListModelPackageGroups"),
        b'{"MaxResults": "ten"}',
        "sagemaker",
        "SerializationException",
    ),
    "json-wrong-type-glue": (
        "POST",
        target("AWSGlue.CreateDatabase"),
        b'{"DatabaseInput": "db"}',
        "glue",
        "SerializationException",
    ),
    "json-wrong-type-local": (
        "POST",
        target("SageMaker.CreateFeatureGroup"),
        b'{"FeatureGroupName": "g", "FeatureDefinitions": "x"}',
        "sagemaker",
        "SerializationException",
    ),
    "unknown-target": ("POST", target("SageMaker.NoSuchOperation"), b"{}", "sagemaker", "UnknownOperationException"),
    "target-moto-lacks": (
        "POST",
        target("SageMaker.DescribeHub"),
        b'{"HubName": "h"}',
        "sagemaker",
        "UnknownOperationException",
    ),
    "target-of-another-service": (
        "POST",
        target("AmazonAthena.ListWorkGroups"),
        b"{}",
        "sagemaker",
        "UnknownOperationException",
    ),
    "form-not-utf8": (
        "POST",
        FORM,
        b"Action=CreateUser&Version=2010-05-08&UserName=\xff",
        "iam",
        "InvalidQueryParameter",
    ),
    "form-escape-not-utf8": (
        "POST",
        FORM,
        b"Action=CreateUser&Version=2010-05-08&UserName=%ff%fe",
        "iam",
        "InvalidQueryParameter",
    ),
    "form-broken-escape": (
        "POST",
        FORM,
        b"Action=CreateUser&Version=2010-05-08&UserName=%ZZ",
        "iam",
        "InvalidQueryParameter",
    ),
    "unknown-query-action": ("POST", FORM, b"Action=NoSuchAction&Version=2010-05-08", "iam", "InvalidAction"),
    "chunked-garbage": ("PUT", {"Transfer-Encoding": "chunked"}, b"zz\r\nab\r\n0\r\n\r\n", "s3", "InvalidRequest"),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_a_malformed_request_is_answered_4xx_in_aws_shape(raw_http, case):
    method, headers, body, service, code = MALFORMED[case]
    answer = raw_http.send(method, "/" if method == "POST" else "/b/k", headers, body, signed_for=service)
    found, message = aws_error(answer)
    assert 400 <= answer.status < 500 and found == code, (answer.status, found, message)
    assert "Traceback" not in message and "Error(" not in message
    assert answer.seconds < 5


def test_json_shape_and_messages_say_what_is_wrong(raw_http):
    answer = raw_http.send(
        "POST", "/", target("SageMaker.ListFeatureGroups") | {"Content-Length": "-1"}, b"{}", signed_for="sagemaker"
    )
    assert answer.headers["x-amzn-ErrorType"] == "InvalidRequest"
    assert json.loads(answer.body) == {
        "__type": "InvalidRequest",
        "message": "Content-Length '-1' is not a number of bytes.",
    }
    code, message = aws_error(
        raw_http.send("POST", "/", target("SageMaker.NoSuchOperation"), b"{}", signed_for="sagemaker")
    )
    assert message == "Unknown operation SageMaker.NoSuchOperation: sagemaker has no such operation."
    code, message = aws_error(
        raw_http.send(
            "POST", "/", target("SageMaker.ListModelPackageGroups"), b'{"MaxResults": "ten"}', signed_for="sagemaker"
        )
    )
    assert "'maxResults'" in message
    answer = raw_http.send("POST", "/", FORM, b"Action=NoSuchAction&Version=2010-05-08", signed_for="iam")
    assert answer.body.startswith(b"<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code>")


def test_operations_moto_implements_still_reach_it(aws):
    sm = aws.client("sagemaker")
    sm.create_model_package_group(ModelPackageGroupName="reached")  # moto's, through the same checks
    assert [g["ModelPackageGroupName"] for g in sm.list_model_package_groups()["ModelPackageGroupSummaryList"]] == [
        "reached"
    ]
    assert error_of(lambda: aws.client("glue").get_database(Name="none"))[0] == "EntityNotFoundException"


LINE_LIMIT = 65536  # http.server's longest request or header line


@pytest.mark.parametrize(
    "data, status",
    [
        (b"GET / HTTP/1.1 extra\r\nHost: 127.0.0.1\r\n\r\n", 400),
        (b"GET / HTTP/2.0\r\nHost: 127.0.0.1\r\n\r\n", 400),
        (b"GET /" + b"a" * LINE_LIMIT, 414),
        (b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Long: " + b"a" * LINE_LIMIT, 431),
    ],
)
def test_a_request_http_server_cannot_parse_is_answered_in_aws_shape(raw_http, data, status):
    answer = raw_http.raw(data)
    assert answer.status == status
    assert aws_error(answer)[0] == "InvalidRequest"


def test_a_body_shorter_than_its_length_times_out_as_request_timeout(short_timeout_server):
    answer = short_timeout_server.send(
        "POST", "/", target("SageMaker.ListFeatureGroups") | {"Content-Length": "100"}, b"{}", signed_for="sagemaker"
    )
    assert answer.status == 400
    code, message = aws_error(answer)
    assert code == "RequestTimeout"  # botocore retries it
    assert message.startswith(
        "Your socket connection to the server was not read from or written to within the timeout period (2 s)"
    )
    assert 1.5 < answer.seconds < 6


def test_a_body_sent_a_byte_at_a_time_times_out_too(short_timeout_server):
    started, answered = time.monotonic(), threading.Event()

    def trickle(sock: socket.socket) -> None:
        while not answered.is_set():
            try:
                sock.send(b"x")
            except OSError:
                return
            time.sleep(0.25)

    with socket.create_connection(("127.0.0.1", short_timeout_server.port), timeout=10) as sock:
        sock.sendall(b"PUT /b/k HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n")
        sender = threading.Thread(target=trickle, args=(sock,))
        sender.start()
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answered.set()
                answer += chunk
        except ConnectionResetError:  # a byte sent after the answer: the close resets
            pass
        finally:
            answered.set()
            sender.join()
    assert answer.startswith(b"HTTP/1.1 400") and b"<Code>RequestTimeout</Code>" in answer
    assert time.monotonic() - started < 6


def test_half_sent_headers_are_dropped_after_the_timeout(short_timeout_server):
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", short_timeout_server.port), timeout=10) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and nothing more
        try:
            assert sock.recv(65536) == b""  # the server closed the connection
        except ConnectionResetError:
            pass
    assert 1.5 < time.monotonic() - started < 6


def _threads(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"^Threads:\s+(\d+)", status, re.MULTILINE)[1])


def test_many_half_open_connections_do_not_keep_a_client_out(aws, server):
    before = _threads(server.process.pid)
    stalled = []
    try:
        for _ in range(150):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            sock.sendall(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10\r\n")  # never finished
            stalled.append(sock)
        started = time.monotonic()
        s3 = aws.client("s3", config=Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 1}))
        s3.create_bucket(Bucket="answered")
        assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["answered"]
        assert time.monotonic() - started < 5
        assert _threads(server.process.pid) <= before + 64 + 4  # bounded: not one thread per connection
    finally:
        for sock in stalled:
            sock.close()
    wait_until(
        lambda: _threads(server.process.pid),
        lambda n: n <= before + 4,
        timeout=10,
        what="the cut connections' threads to end",
    )


def test_a_burst_beyond_the_connection_limit_waits_and_is_answered(raw_http):
    request = f"GET /_local_aws/health HTTP/1.1\r\nHost: 127.0.0.1:{raw_http.port}\r\n\r\n".encode()
    connections = [socket.create_connection(("127.0.0.1", raw_http.port), timeout=20) for _ in range(100)]
    try:
        for sock in connections:
            sock.sendall(request)
        answers = []
        for sock in connections:
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
            answers.append(answer)
    finally:
        for sock in connections:
            sock.close()
    assert [answer.split(b"\r\n", 1)[0] for answer in answers] == [b"HTTP/1.1 200 OK"] * 100  # no 503
