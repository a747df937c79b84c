"""The server's lifecycle and the router in front of moto, through the CLI and boto3."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import boto3
import pytest
from botocore.exceptions import ClientError
from support import error_of
from support.iam import reset_with_test_roles

import local_aws
from local_aws import free_port
from local_aws.job_side import netguard


def cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "local_aws", *args], capture_output=True, text=True, env=env or os.environ, timeout=120
    )


def test_moto_services_answer_through_the_router(aws):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="router-check")
    s3.put_object(Bucket="router-check", Key="a/b.txt", Body=b"hello")
    assert s3.get_object(Bucket="router-check", Key="a/b.txt")["Body"].read() == b"hello"
    assert aws.client("sts").get_caller_identity()["Account"] == "123456789012"
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket="router-check", Key="missing")
    assert err.value.response["Error"]["Code"] == "NoSuchKey"


def test_reset_forgets_state(aws, server):
    aws.client("s3").create_bucket(Bucket="to-forget")
    reset_with_test_roles(server.port)  # as every reset in the suite: the roles come back, the rest is gone
    assert aws.client("s3").list_buckets()["Buckets"] == []


def test_env_prints_exports_for_the_port(server):
    out = cli("env", "--port", str(server.port)).stdout
    assert f"export AWS_ENDPOINT_URL=http://127.0.0.1:{server.port}" in out
    assert "export AWS_EC2_METADATA_DISABLED=true" in out
    assert "SAGEMAKER_USER_CONFIG_OVERRIDE=" in out


def test_status_reports_a_running_server_and_its_log(server):
    result = cli("status", "--port", str(server.port))
    assert result.returncode == 0
    assert f"127.0.0.1:{server.port}" in result.stdout and "log:" in result.stdout


def test_start_status_stop_lifecycle(tmp_path):
    port = str(free_port())
    env = {**os.environ, "LOCAL_AWS_HOME": str(tmp_path), "LOCAL_AWS_PORT": port}
    assert cli("status", env=env).returncode == 1
    first = cli("start", env=env)
    assert first.returncode == 0, first.stderr
    assert "started" in first.stdout
    second = cli("start", env=env)  # starting twice on one port is harmless
    assert second.returncode == 0 and "already running" in second.stdout
    assert (tmp_path / port / "server.log").exists()
    assert cli("stop", env=env).stdout.strip() == "local_aws stopped"
    assert cli("status", env=env).returncode == 1
    assert "was not running" in cli("stop", env=env).stdout


def test_start_refuses_a_port_used_by_another_program(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        env = {**os.environ, "LOCAL_AWS_HOME": str(tmp_path)}
        result = cli("start", "--port", str(port), env=env)
    assert result.returncode == 1
    assert f"port {port}" in result.stderr


def test_server_listens_on_loopback_only(server):
    with socket.socket() as sock:
        sock.settimeout(1)
        assert sock.connect_ex(("127.0.0.1", server.port)) == 0
    has_ss = os.path.exists("/usr/bin/ss")
    out = subprocess.run(["ss", "-ltnH"], capture_output=True, text=True).stdout if has_ss else ""
    for line in out.splitlines():
        if f":{server.port} " in line:
            assert "127.0.0.1:" in line


def test_netguard_refuses_non_loopback_connections():
    with pytest.raises(netguard.NetworkBlocked, match="nothing leaves this machine"):
        socket.create_connection(("192.0.2.1", 443), timeout=1)
    with pytest.raises(netguard.NetworkBlocked):
        socket.getaddrinfo("sagemaker.us-east-1.amazonaws.com", 443)
    assert netguard.is_loopback("127.0.0.1") and netguard.is_loopback("::1")
    assert not netguard.is_loopback("10.0.0.1")


def test_temporary_server_has_its_own_state_and_leaves_nothing_behind(aws, server):
    before = dict(os.environ)
    aws.client("s3").create_bucket(Bucket="shared-server-bucket")
    with local_aws.temporary_server() as temporary:
        assert temporary["port"] != server.port
        assert os.environ["AWS_ENDPOINT_URL"] == temporary["endpoint"]
        assert os.environ["AWS_ACCESS_KEY_ID"] != before["AWS_ACCESS_KEY_ID"]  # a key pair of its own
        assert error_of(lambda: aws.client("s3").list_buckets())[0] == "InvalidAccessKeyId"  # the other's keys
        s3 = boto3.Session(region_name="us-east-1").client("s3")
        assert s3.list_buckets()["Buckets"] == []  # not the session server's state
        s3.create_bucket(Bucket="temporary-bucket")
    assert os.environ == before
    assert local_aws.status(temporary["port"]) is None
    assert [b["Name"] for b in aws.client("s3").list_buckets()["Buckets"]] == ["shared-server-bucket"]


def test_reset_forgets_the_saved_state_for_good_even_with_the_server_stopped(own_server, monkeypatch):
    own_server.client("s3").create_bucket(Bucket="yesterday")
    own_server.stop()
    monkeypatch.setenv("LOCAL_AWS_HOME", str(own_server.home))
    local_aws.reset(own_server.port)  # nothing answers on the port: the saved state is deleted
    own_server.start()
    assert own_server.client("s3").list_buckets()["Buckets"] == []
