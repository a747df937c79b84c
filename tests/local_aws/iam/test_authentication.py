"""Every AWS API request is authenticated as AWS authenticates it (Signature Version 4), because any user of the
machine can reach 127.0.0.1: the key pair the server issued its user, an STS session with its own token, a
job's container credentials, an IAM user's access key and presigned URLs work; a key never issued, a wrong
secret, an unsigned call, a missing or foreign session token, an expired session and a request signed 20
minutes ago are refused, in each protocol's shape with AWS's codes, messages and HTTP statuses; and no other
user of the machine can read the secret."""

from __future__ import annotations

import datetime as dt
import json
import os
import pwd
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import boto3
import botocore.auth
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError
from support import sign
from support.jobs import PROCESSING_BUCKET, put_script, start_processing, wait_for_processing
from support.restart import OwnServer

import local_aws
from local_aws.core.iam import access_keys

ONCE = Config(retries={"max_attempts": 1})
INVALID = "The security token included in the request is invalid."
EXPIRED = "The security token included in the request is expired"
MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access "
    "Key and signing method. Consult the service documentation for details."
)
S3_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your key and signing method."
)
# One call of each protocol: JSON (SageMaker, Glue), REST-JSON (the Feature Store runtime), Query (IAM, STS), S3.
CALLS = {
    "sagemaker": ("json", "sagemaker", lambda client: client.list_feature_groups()),
    "glue": ("json", "glue", lambda client: client.get_databases()),
    "featurestore-runtime": (
        "json",
        "sagemaker-featurestore-runtime",
        lambda client: client.get_record(FeatureGroupName="g", RecordIdentifierValueAsString="1"),
    ),
    "iam": ("query", "iam", lambda client: client.list_roles()),
    "sts": ("query", "sts", lambda client: client.get_caller_identity()),
    "s3-list": ("s3", "s3", lambda client: client.list_buckets()),
    "s3-get": ("s3", "s3", lambda client: client.get_object(Bucket="private", Key="k")),
}
NEVER_ISSUED = {
    "json": (400, "UnrecognizedClientException", INVALID),
    "query": (403, "InvalidClientTokenId", INVALID),
    "s3": (403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."),
}
WRONG_SECRET = {
    "json": (400, "InvalidSignatureException", MISMATCH),
    "query": (403, "SignatureDoesNotMatch", MISMATCH),
    "s3": (403, "SignatureDoesNotMatch", S3_MISMATCH),
}
UNSIGNED_CALL = {
    "json": (403, "MissingAuthenticationTokenException", "Missing Authentication Token"),
    "query": (403, "MissingAuthenticationToken", "Request is missing Authentication Token"),
    "s3": (403, "AccessDenied", "Access Denied"),  # S3's answer to an anonymous request for a private bucket
}
FOREIGN_TOKEN = {
    "json": (400, "UnrecognizedClientException", INVALID),
    "query": (403, "InvalidClientTokenId", INVALID),
    "s3": (400, "InvalidToken", "The provided token is malformed or otherwise invalid."),
}
EXPIRED_SESSION = {
    "json": (400, "ExpiredTokenException", EXPIRED),
    "query": (403, "ExpiredToken", EXPIRED),
    "s3": (400, "ExpiredToken", "The provided token has expired."),
}


def refusal(call) -> tuple[int, str, str]:
    """(HTTP status, code, message) of the AWS error a call answers, as boto3 parsed it from its protocol's shape."""
    try:
        call()
    except ClientError as error:
        return (
            error.response["ResponseMetadata"]["HTTPStatusCode"],
            error.response["Error"]["Code"],
            error.response["Error"]["Message"],
        )
    raise AssertionError("the call succeeded; a refusal was expected")


def session(key: str, secret: str, token: str | None = None) -> boto3.Session:
    return boto3.Session(
        aws_access_key_id=key, aws_secret_access_key=secret, aws_session_token=token, region_name="us-east-1"
    )


def issued(server) -> access_keys.KeyPair:
    return access_keys.read(server.home / str(server.port))


@pytest.fixture()
def account(aws):
    """A private bucket with an object, and a role any principal of the account may assume."""
    aws.client("s3").create_bucket(Bucket="private")
    aws.client("s3").put_object(Bucket="private", Key="k", Body=b"secret data")
    return aws


# -- refused ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("key", ["local", "AKIAZZZZZZZZZZZZZZZZ"], ids=["the-old-key-local", "a-key-never-issued"])
@pytest.mark.parametrize("case", CALLS)
def test_a_key_never_issued_is_refused_in_each_protocols_shape(account, case, key):
    protocol, service, call = CALLS[case]
    stranger = session(key, "s" * 40)
    assert refusal(lambda: call(stranger.client(service, config=ONCE))) == NEVER_ISSUED[protocol]


@pytest.mark.parametrize("case", CALLS)
def test_the_issued_key_with_a_wrong_secret_is_refused_in_each_protocols_shape(account, server, case):
    protocol, service, call = CALLS[case]
    guessing = session(issued(server).access_key_id, "s" * 40)
    assert refusal(lambda: call(guessing.client(service, config=ONCE))) == WRONG_SECRET[protocol]


@pytest.mark.parametrize("case", CALLS)
def test_an_unsigned_call_is_refused_in_each_protocols_shape(account, case):
    protocol, service, call = CALLS[case]
    anonymous = account.client(service, config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}))
    assert refusal(lambda: call(anonymous)) == UNSIGNED_CALL[protocol]


@pytest.mark.parametrize("case", ["sagemaker", "sts", "s3-list"])
def test_a_request_signed_20_minutes_ago_is_refused_as_aws_refuses_a_skewed_clock(account, case, monkeypatch):
    protocol, service, call = CALLS[case]
    client = account.client(service, config=ONCE)
    late = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(minutes=20)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda *args, **kwargs: late)
    status, code, message = refusal(lambda: call(client))
    if protocol == "s3":
        assert (status, code) == (403, "RequestTimeTooSkewed")
        assert message == "The difference between the request time and the current time is too large."
    else:
        expected = (400, "InvalidSignatureException") if protocol == "json" else (403, "SignatureDoesNotMatch")
        assert (status, code) == expected
        stamp = r"\d{8}T\d{6}Z"
        assert re.fullmatch(rf"Signature expired: {stamp} is now earlier than {stamp} \({stamp} - 15 min\.\)", message)


def test_a_raw_request_must_be_signed_over_what_it_sends(account, server):
    """Signed by hand with botocore's signer and the issued keys, a request is served; the same signature over
    another body, or the SigV4-shaped header local_aws once took from anyone, is refused."""
    url = f"{server.endpoint}/"
    headers = {"X-Amz-Target": "SageMaker.ListFeatureGroups", "Content-Type": "application/x-amz-json-1.1"}
    body = b"{}"
    signature = sign("POST", url, headers, body, "sagemaker", issued(server))

    def send(data: bytes, extra: dict[str, str]) -> tuple[int, dict]:
        request = urllib.request.Request(url, data=data, method="POST", headers=headers | extra)
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    assert send(body, signature) == (200, {"FeatureGroupSummaries": []})
    assert send(b'{"MaxResults": 1}', signature) == (400, {"__type": "InvalidSignatureException", "message": MISMATCH})
    forged = {
        "Authorization": "AWS4-HMAC-SHA256 Credential=local/20240101/us-east-1/sagemaker/aws4_request, "
        "SignedHeaders=host, Signature=0"
    }
    undated = "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
    assert send(body, forged) == (400, {"__type": "IncompleteSignatureException", "message": undated})
    forged["X-Amz-Date"] = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    assert send(body, forged) == (400, {"__type": "UnrecognizedClientException", "message": INVALID})


# -- accepted -----------------------------------------------------------------------------------------------
def test_the_issued_key_pair_is_the_administrators_and_env_hands_it_out(account, server):
    keys = issued(server)
    assert re.fullmatch(r"AKIA[A-Z0-9]{16}", keys.access_key_id) and len(keys.secret_access_key) == 40
    assert (os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"]) == (
        keys.access_key_id,
        keys.secret_access_key,
    )
    admin = session(keys.access_key_id, keys.secret_access_key)
    s3 = admin.client("s3")
    assert s3.get_object(Bucket="private", Key="k")["Body"].read() == b"secret data"
    # what canonicalization must get right: a key to encode, a header's inner spaces, a query to encode
    s3.put_object(Bucket="private", Key="a b/é+~*(1).txt", Body=b"x", Metadata={"note": "two  spaces  inside "})
    assert s3.head_object(Bucket="private", Key="a b/é+~*(1).txt")["Metadata"] == {"note": "two  spaces  inside "}
    listed = s3.list_objects_v2(Bucket="private", Prefix="a b/é+~*")["Contents"]
    assert [item["Key"] for item in listed] == ["a b/é+~*(1).txt"]
    assert admin.client("iam").create_user(UserName="made-by-the-admin")["User"]["UserName"] == "made-by-the-admin"
    printed = subprocess.run(
        [sys.executable, "-m", "local_aws", "env", "--port", str(server.port)],
        env={**os.environ, "LOCAL_AWS_HOME": str(server.home)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert printed[0] == "unset AWS_SESSION_TOKEN AWS_SECURITY_TOKEN AWS_CREDENTIAL_EXPIRATION"
    assert f"export AWS_ACCESS_KEY_ID={keys.access_key_id}" in printed
    assert f"export AWS_SECRET_ACCESS_KEY={keys.secret_access_key}" in printed
    assert not any("AWS_SESSION_TOKEN=" in line for line in printed)
    assert local_aws_status_needs_no_key(server)


def local_aws_status_needs_no_key(server) -> bool:
    """Requests that are no AWS API call keep their own rules: health needs nothing."""
    with urllib.request.urlopen(f"{server.endpoint}/_local_aws/health", timeout=5) as answer:
        return json.loads(answer.read())["service"] == "local_aws"


def test_an_assumed_role_session_works_with_its_own_token_only(account, server):
    role = "arn:aws:iam::123456789012:role/SageMakerRole"
    credentials = account.client("sts").assume_role(RoleArn=role, RoleSessionName="alice")["Credentials"]
    key, secret, token = credentials["AccessKeyId"], credentials["SecretAccessKey"], credentials["SessionToken"]
    alice = session(key, secret, token)
    assert alice.client("sts").get_caller_identity()["Arn"] == (
        "arn:aws:sts::123456789012:assumed-role/SageMakerRole/alice"
    )
    assert alice.client("s3").get_object(Bucket="private", Key="k")["Body"].read() == b"secret data"
    assert alice.client("sagemaker").list_feature_groups()["FeatureGroupSummaries"] == []

    other = account.client("sts").assume_role(RoleArn=role, RoleSessionName="bob")["Credentials"]["SessionToken"]
    for case in ("sagemaker", "sts", "s3-get"):
        protocol, service, call = CALLS[case]
        without_token = session(key, secret).client(service, config=ONCE)
        assert refusal(lambda: call(without_token)) == NEVER_ISSUED[protocol]
        with_another_token = session(key, secret, other).client(service, config=ONCE)
        assert refusal(lambda: call(with_another_token)) == FOREIGN_TOKEN[protocol]
        issued_with_a_token = session(issued(server).access_key_id, issued(server).secret_access_key, token)
        assert refusal(lambda: call(issued_with_a_token.client(service, config=ONCE))) == FOREIGN_TOKEN[protocol]


def test_an_expired_session_is_refused_as_expired(account):
    """A one-second session (moto's STS takes a duration AWS's 900-second minimum would refuse: the quickest way
    to hold credentials past their expiration)."""
    sts = account.client("sts", config=Config(parameter_validation=False))
    credentials = sts.assume_role(
        RoleArn="arn:aws:iam::123456789012:role/SageMakerRole", RoleSessionName="brief", DurationSeconds=1
    )["Credentials"]
    brief = session(credentials["AccessKeyId"], credentials["SecretAccessKey"], credentials["SessionToken"])
    time.sleep(1.5)
    for case in ("sagemaker", "featurestore-runtime", "sts", "iam", "s3-list"):
        protocol, service, call = CALLS[case]
        assert refusal(lambda: call(brief.client(service, config=ONCE))) == EXPIRED_SESSION[protocol]


def test_an_iam_users_access_key_acts_as_the_user_until_deactivated_or_deleted(account):
    iam = account.client("iam")
    iam.create_user(UserName="alice")
    iam.put_user_policy(
        UserName="alice",
        PolicyName="read-private",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
        ),
    )
    created = iam.create_access_key(UserName="alice")["AccessKey"]
    alice = session(created["AccessKeyId"], created["SecretAccessKey"])
    assert alice.client("sts").get_caller_identity()["Arn"] == "arn:aws:iam::123456789012:user/alice"
    assert alice.client("s3").get_object(Bucket="private", Key="k")["Body"].read() == b"secret data"
    code, message = refusal(lambda: alice.client("sagemaker").list_feature_groups())[1:]
    assert code == "AccessDeniedException"  # her key authenticates her; her policies decide
    assert message.startswith("User: arn:aws:iam::123456789012:user/alice is not authorized to perform")
    assert refusal(lambda: session(created["AccessKeyId"], "s" * 40).client("s3").list_buckets()) == WRONG_SECRET["s3"]

    iam.update_access_key(UserName="alice", AccessKeyId=created["AccessKeyId"], Status="Inactive")
    assert refusal(lambda: alice.client("s3", config=ONCE).list_buckets()) == NEVER_ISSUED["s3"]
    iam.update_access_key(UserName="alice", AccessKeyId=created["AccessKeyId"], Status="Active")
    assert alice.client("s3").get_object(Bucket="private", Key="k")["Body"].read() == b"secret data"
    iam.delete_access_key(UserName="alice", AccessKeyId=created["AccessKeyId"])
    assert refusal(lambda: alice.client("sts", config=ONCE).get_caller_identity()) == NEVER_ISSUED["query"]


PROBE = """
    import boto3
    identity = boto3.client("sts").get_caller_identity()["Arn"]
    boto3.client("s3").put_object(Bucket="jobs-bucket", Key="written-by-the-job", Body=identity.encode())
"""


def test_a_processing_job_calls_s3_with_its_roles_container_credentials(account):
    s3, sm = account.client("s3"), account.client("sagemaker")
    s3.create_bucket(Bucket=PROCESSING_BUCKET)
    put_script(s3, "probe.py", PROBE)
    start_processing(sm, "signed-by-its-role", "probe.py")
    assert wait_for_processing(sm, "signed-by-its-role")["ProcessingJobStatus"] == "Completed"
    written = s3.get_object(Bucket=PROCESSING_BUCKET, Key="written-by-the-job")["Body"].read().decode()
    assert written == "arn:aws:sts::123456789012:assumed-role/SageMakerRole/SageMaker"


def fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.mark.parametrize("version", ["boto3's default (SigV2)", "s3v4"])
def test_a_presigned_get_url_works_until_it_expires(account, version):
    config = Config(signature_version="s3v4") if version == "s3v4" else None
    s3 = account.client("s3", config=config)
    key = "a folder/the ~report+1 é.txt"
    s3.put_object(Bucket="private", Key=key, Body=b"shared")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "private", "Key": key}, ExpiresIn=60)
    assert ("X-Amz-Signature=" in url) == (version == "s3v4")
    assert fetch(url) == (200, b"shared")
    status, body = fetch(url.replace("Signature=", "Signature=A", 1))  # the signature of another request
    assert status == 403 and b"<Code>SignatureDoesNotMatch</Code>" in body
    brief = s3.generate_presigned_url("get_object", Params={"Bucket": "private", "Key": key}, ExpiresIn=1)
    time.sleep(2.1)
    status, body = fetch(brief)
    assert status == 403
    assert b"<Code>AccessDenied</Code><Message>Request has expired</Message>" in body
    assert b"<ServerTime>" in body and b"<Expires>" in body


def test_a_url_presigned_by_a_session_carries_its_token(account):
    credentials = account.client("sts").assume_role(
        RoleArn="arn:aws:iam::123456789012:role/SageMakerRole", RoleSessionName="sharer"
    )["Credentials"]
    sharer = session(credentials["AccessKeyId"], credentials["SecretAccessKey"], credentials["SessionToken"])
    for config in (None, Config(signature_version="s3v4")):
        url = sharer.client("s3", config=config).generate_presigned_url(
            "get_object", Params={"Bucket": "private", "Key": "k"}, ExpiresIn=60
        )
        assert "Security-Token=" in url or "security-token=" in url
        assert fetch(url) == (200, b"secret data")


# -- the secret stays the user's --------------------------------------------------------------------------
def as_nobody(*command: str) -> subprocess.CompletedProcess:
    nobody = pwd.getpwnam("nobody")

    def drop() -> None:
        os.setgroups([])
        os.setgid(nobody.pw_gid)
        os.setuid(nobody.pw_uid)

    return subprocess.run(command, preexec_fn=drop, capture_output=True, text=True, timeout=30)


def test_no_other_user_can_read_the_key_pair_and_a_restart_keeps_it():
    """In a home every user may look into, the credentials file alone keeps the secret: mode 0600, owned by the
    user who started the server. A restart keeps the pair (a kernel configured before it carries on); a file
    others could have read is replaced by a new pair."""
    home = Path(tempfile.mkdtemp(prefix="local_aws_shared_", dir="/tmp"))
    home.chmod(0o755)  # anyone may look into it, as into a home directory on many machines
    server = OwnServer(home).start()
    try:
        path = server.server_home / access_keys.FILE_NAME
        info = path.stat()
        assert stat.S_IMODE(info.st_mode) == 0o600 and info.st_uid == os.getuid()
        keys = access_keys.read(server.server_home)
        if os.getuid() == 0:  # as root the test can be another user: nobody
            shared = server.server_home / "readable-by-all"
            shared.write_text("anyone")
            shared.chmod(0o644)
            assert as_nobody("cat", str(shared)).stdout == "anyone"  # the directories let nobody through
            refused = as_nobody("cat", str(path))
            assert refused.returncode != 0 and "Permission denied" in refused.stderr
            assert keys.secret_access_key not in refused.stdout

        server.stop()
        server.start()
        assert access_keys.read(server.server_home) == keys
        assert server.client("sts").get_caller_identity()["Account"] == "123456789012"

        path.chmod(0o644)
        server.stop()
        server.start()
        renewed = access_keys.read(server.server_home)
        assert renewed.access_key_id != keys.access_key_id
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        stale = session(keys.access_key_id, keys.secret_access_key)
        stale_s3 = stale.client("s3", config=ONCE, endpoint_url=local_aws.endpoint_url(server.port))
        assert refusal(stale_s3.list_buckets)[1] == "InvalidAccessKeyId"
    finally:
        server.kill()
        shutil.rmtree(home, ignore_errors=True)
