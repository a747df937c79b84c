"""No web page can drive local_aws: foreign origins, cross-site fetches and foreign Host names are refused
before anything runs, no CORS is ever granted, and admin commands need the per-start token."""

from __future__ import annotations

import json
import stat

import pytest
from support.iam import reset_with_test_roles

import local_aws

EVIL = "https://evil.example"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}  # what a cross-origin <form> sends, unpreflighted


def token_of(raw_http) -> str:
    return (raw_http.home / "admin_token").read_text().strip()


def test_boto3_and_the_admin_calls_keep_working(aws, server):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="still-works")
    s3.put_object(Bucket="still-works", Key="k", Body=b"v")
    assert s3.get_object(Bucket="still-works", Key="k")["Body"].read() == b"v"
    assert aws.client("sagemaker").list_feature_groups()["FeatureGroupSummaries"] == []
    aws.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")
    assert isinstance(local_aws.flush(server.port), dict)
    reset_with_test_roles(server.port)  # as every reset in the suite: the roles come back, the rest is gone
    assert s3.list_buckets()["Buckets"] == []


def test_a_foreign_origin_is_refused_before_any_handler_runs(aws, raw_http):
    answer = raw_http.send("PUT", "/from-a-page", {"Origin": EVIL}, signed_for="s3")
    assert answer.status == 403
    assert b"<Code>AccessDenied</Code>" in answer.body
    assert f"Origin {EVIL} is not http://127.0.0.1:{raw_http.port}".encode() in answer.body
    assert aws.client("s3").list_buckets()["Buckets"] == []  # the bucket was not created

    body = json.dumps(
        {
            "ProcessingJobName": "page-job",
            "RoleArn": "arn:aws:iam::123456789012:role/R",
            "AppSpecification": {"ImageUri": "x", "ContainerEntrypoint": ["touch", "/tmp/pwned"]},
            "ProcessingResources": {
                "ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 1}
            },
        }
    ).encode()
    answer = raw_http.send(
        "POST",
        "/",
        {"Origin": EVIL, "X-Amz-Target": "SageMaker.CreateProcessingJob", "Content-Type": "application/x-amz-json-1.1"},
        body,
        signed_for="sagemaker",
    )
    assert answer.status == 403
    assert json.loads(answer.body) == {
        "__type": "AccessDeniedException",
        "message": f"local_aws refuses requests from web pages: Origin {EVIL} is not http://127.0.0.1:{raw_http.port}.",
    }
    assert aws.client("sagemaker").list_processing_jobs()["ProcessingJobSummaries"] == []


@pytest.mark.parametrize("origin", ["http://127.0.0.1:{port}", "http://localhost:{port}", "http://[::1]:{port}"])
def test_the_servers_own_origin_is_served(raw_http, origin):
    assert raw_http.send("GET", "/_local_aws/health", {"Origin": origin.format(port=raw_http.port)}).status == 200


@pytest.mark.parametrize("origin", ["null", "http://127.0.0.1:1", "http://127.0.0.1:{port}.evil.example"])
def test_other_origins_on_loopback_are_foreign_too(raw_http, origin):
    assert raw_http.send("GET", "/_local_aws/health", {"Origin": origin.format(port=raw_http.port)}).status == 403


@pytest.mark.parametrize("site, status", [("cross-site", 403), ("same-site", 403), ("same-origin", 200), ("none", 200)])
def test_fetch_metadata_refuses_requests_that_carry_no_origin(raw_http, site, status):
    answer = raw_http.send("GET", "/", {"Sec-Fetch-Site": site, "Sec-Fetch-Mode": "no-cors"}, signed_for="s3")
    assert answer.status == status
    if status == 403:
        assert f"Sec-Fetch-Site is {site}, not same-origin or none".encode() in answer.body


@pytest.mark.parametrize(
    "host", ["evil.example:{port}", "evil.example", "127.0.0.1.nip.io:{port}", "10.0.0.5", "localhost.evil.example", ""]
)
def test_a_foreign_host_is_refused(raw_http, host):
    answer = raw_http.send("GET", "/_local_aws/health", {"Host": host.format(port=raw_http.port)})
    assert answer.status == 403
    assert json.loads(answer.body)["__type"] == "AccessDeniedException"
    assert "(a web page reaching local_aws by DNS rebinding)" in json.loads(answer.body)["message"]


@pytest.mark.parametrize(
    "host", ["127.0.0.1:{port}", "localhost:{port}", "[::1]:{port}", "LocalHost", "notebook.localhost:8888"]
)
def test_loopback_hosts_are_served(raw_http, host):
    assert raw_http.send("GET", "/_local_aws/health", {"Host": host.format(port=raw_http.port)}).status == 200


def test_no_cors_is_ever_granted(aws, raw_http):
    preflight = {
        "Origin": EVIL,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "x-amz-target,content-type",
    }
    answer = raw_http.send("OPTIONS", "/", preflight)
    assert answer.status == 403
    assert not [name for name in answer.headers if name.lower().startswith("access-control-")]
    own = {**preflight, "Origin": f"http://127.0.0.1:{raw_http.port}"}  # moto's Flask CORS would grant even this
    granted = raw_http.send("OPTIONS", "/", own).headers
    assert not [name for name in granted if name.lower().startswith("access-control-")]
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="cors")
    s3.put_bucket_cors(
        Bucket="cors",
        CORSConfiguration={
            "CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["GET", "PUT"], "AllowedHeaders": ["*"]}]
        },
    )
    answer = raw_http.send("GET", "/", {"Origin": f"http://localhost:{raw_http.port}"}, signed_for="s3")
    assert answer.status == 200
    assert not [name for name in answer.headers if name.lower().startswith("access-control-")]


def test_a_cross_origin_admin_reset_is_refused_and_state_kept(aws, raw_http):
    aws.client("s3").create_bucket(Bucket="keep-me")
    for headers in (
        {"Origin": EVIL, **FORM},  # a page's <form method=post>
        {"Sec-Fetch-Site": "cross-site", **FORM},  # the same, from a browser that omits Origin
        {"Origin": EVIL, "X-Local-Aws-Token": token_of(raw_http)},
    ):  # even with the token
        answer = raw_http.send("POST", "/_local_aws/reset", headers, b"x=1")
        assert answer.status == 403
        assert json.loads(answer.body)["__type"] == "AccessDeniedException"
    assert [b["Name"] for b in aws.client("s3").list_buckets()["Buckets"]] == ["keep-me"]


@pytest.mark.parametrize("command", ["reset", "flush", "shutdown", "no-such-command"])
def test_admin_commands_need_the_token(aws, raw_http, command):
    aws.client("s3").create_bucket(Bucket="keep-me")
    for headers in ({}, {"X-Local-Aws-Token": "guess"}, {"X-Local-Aws-Token": ""}):
        answer = raw_http.send("POST", f"/_local_aws/{command}", headers)
        assert answer.status == 403
        message = json.loads(answer.body)["message"]
        assert message.startswith(
            f"POST /_local_aws/{command} is an admin command and needs local_aws's admin "
            "token in the X-Local-Aws-Token header"
        )
    assert local_aws.status(raw_http.port)  # still running
    assert [b["Name"] for b in aws.client("s3").list_buckets()["Buckets"]] == ["keep-me"]


def test_the_admin_token_is_for_the_user_only_and_accepted(aws, raw_http):
    token_file = raw_http.home / "admin_token"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert len(token_of(raw_http)) >= 32
    aws.client("s3").create_bucket(Bucket="forget-me")
    answer = raw_http.send("POST", "/_local_aws/reset", {"X-Local-Aws-Token": token_of(raw_http)})
    assert (answer.status, json.loads(answer.body)) == (200, {"reset": True})
    assert aws.client("s3").list_buckets()["Buckets"] == []
    assert raw_http.send("GET", "/_local_aws/health").status == 200  # health needs no token


def test_stop_reads_the_token_of_a_server_started_elsewhere(short_timeout_server):
    # the fixture's teardown stops it with local_aws.stop(); here: flush and reset reach it as well
    assert local_aws.status(short_timeout_server.port)
    assert isinstance(local_aws.flush(short_timeout_server.port), dict)
    local_aws.reset(short_timeout_server.port)


def test_moto_admin_api_is_closed_and_every_answer_is_sandboxed(aws, raw_http):
    aws.client("s3").create_bucket(Bucket="pages")
    answer = raw_http.send("POST", "/moto-api/reset", signed_for="s3")
    assert answer.status == 403 and b"moto's admin API is closed" in answer.body
    assert aws.client("s3").list_buckets()["Buckets"] != []  # nothing was reset
    aws.client("s3").put_object(
        Bucket="pages", Key="evil.html", Body=b"<script>fetch('/')</script>", ContentType="text/html"
    )
    opened = raw_http.send("GET", "/pages/evil.html", signed_for="s3")
    assert opened.status == 200 and opened.body.startswith(b"<script>")
    assert opened.headers["Content-Security-Policy"] == "sandbox"  # its scripts run as no origin at all
