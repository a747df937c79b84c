"""IAM enforced: a job acts as its execution role, with the credentials a SageMaker container gets, and
every call it makes is allowed or denied by that role's policies, in each service's error shape."""

from __future__ import annotations

import json

import boto3
import pytest
from support import error_of
from support.iam import ADMINISTRATOR, SAGEMAKER_FULL_ACCESS, create_role
from support.jobs import (
    PROCESSING_BUCKET,
    PROCESSING_LOGS,
    job_log,
    processing_output,
    put_script,
    start_processing,
    wait_for_processing,
)

SAGEMAKER_BUCKET = "sagemaker-us-east-1-123456789012"
# What a job tries: each call's outcome, "ok" or the error code and message, printed as one JSON line.
PROBE = """
    import json, boto3
    from botocore.exceptions import ClientError

    def attempt(call):
        try:
            call()
            return "ok"
        except ClientError as error:
            return error.response["Error"]["Code"] + ": " + error.response["Error"]["Message"]

    s3, glue, iam = boto3.client("s3"), boto3.client("glue"), boto3.client("iam")
    print("OUTCOMES " + json.dumps({
        "identity": boto3.client("sts").get_caller_identity()["Arn"],
        "sagemaker bucket": attempt(lambda: s3.put_object(Bucket="sagemaker-us-east-1-123456789012", Key="k",
                                                          Body=b"x")),
        "other bucket": attempt(lambda: s3.put_object(Bucket="my-data", Key="k", Body=b"x")),
        "glue table": attempt(lambda: glue.delete_table(DatabaseName="sagemaker_featurestore", Name="abalone_1")),
        "create role": attempt(lambda: iam.create_role(RoleName="made-by-a-job", AssumeRolePolicyDocument="{}")),
    }))
"""


@pytest.fixture()
def account(aws):
    """Two buckets, a Glue table outside sagemaker_tmp_*, the probe script, and the clients."""
    s3, glue = aws.client("s3"), aws.client("glue")
    for bucket in (SAGEMAKER_BUCKET, "my-data", PROCESSING_BUCKET):
        s3.create_bucket(Bucket=bucket)
    glue.create_database(DatabaseInput={"Name": "sagemaker_featurestore"})
    put_script(s3, "probe.py", PROBE)
    return aws


def outcomes(aws, name: str, role: str) -> dict:
    sm = aws.client("sagemaker")
    aws.client("glue").create_table(DatabaseName="sagemaker_featurestore", TableInput={"Name": "abalone_1"})
    start_processing(
        sm, name, "probe.py", role=role, outputs=[processing_output("output", f"s3://{SAGEMAKER_BUCKET}/{name}")]
    )
    assert wait_for_processing(sm, name)["ProcessingJobStatus"] == "Completed"
    line = next(line for line in job_log(aws.client("logs"), PROCESSING_LOGS, name) if line.startswith("OUTCOMES "))
    return json.loads(line.removeprefix("OUTCOMES "))


def test_a_job_acts_as_its_role_and_full_access_reaches_only_what_the_managed_policy_allows(account):
    role = create_role(account, "FullAccessOnly", [SAGEMAKER_FULL_ACCESS])
    seen = outcomes(account, "as-full-access", role)
    assert seen["identity"] == "arn:aws:sts::123456789012:assumed-role/FullAccessOnly/SageMaker"
    assert seen["sagemaker bucket"] == "ok"
    session = "arn:aws:sts::123456789012:assumed-role/FullAccessOnly/SageMaker"
    assert seen["other bucket"] == (
        f"AccessDenied: User: {session} is not authorized to perform: s3:PutObject on resource: "
        f'"arn:aws:s3:::my-data/k" because no identity-based policy allows the s3:PutObject action'
    )
    assert seen["glue table"] == (
        f"AccessDeniedException: User: {session} is not authorized to perform: glue:DeleteTable on resource: "
        f"arn:aws:glue:us-east-1:123456789012:table/sagemaker_featurestore/abalone_1 because no identity-based "
        f"policy allows the glue:DeleteTable action"
    )
    assert seen["create role"].startswith(
        f"AccessDenied: User: {session} is not authorized to perform: "
        f"iam:CreateRole on resource: arn:aws:iam::123456789012:role/made-by-a-job"
    )


def test_the_same_job_as_an_administrator_role_may_do_all_of_it(account):
    role = create_role(account, "JobAdministrator", [ADMINISTRATOR])
    seen = outcomes(account, "as-administrator", role)
    assert {key: value for key, value in seen.items() if key != "identity"} == {
        "sagemaker bucket": "ok",
        "other bucket": "ok",
        "glue table": "ok",
        "create role": "ok",
    }


def test_a_role_sagemaker_may_not_assume_cannot_be_passed_to_a_job(account):
    role = create_role(
        account,
        "TrustsOnlyEc2",
        [ADMINISTRATOR],
        trust={
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ],
        },
    )
    sm = account.client("sagemaker")
    for arn in (role, "arn:aws:iam::123456789012:role/NoSuchRole"):
        assert error_of(lambda: start_processing(sm, "untrusted", "probe.py", role=arn)) == (
            "ValidationException",
            f"Could not assume role {arn}. Please ensure that the role exists and allows "
            f"principal 'sagemaker.amazonaws.com' to assume the role.",
        )


def test_the_caller_needs_iam_pass_role_for_the_jobs_role(account):
    """A caller whose policies allow SageMaker but not iam:PassRole cannot hand a role to a job."""
    caller = create_role(
        account,
        "NoPassRole",
        [],
        trust={
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}
            ],
        },
    )
    account.client("iam").put_role_policy(
        RoleName="NoPassRole",
        PolicyName="sagemaker-only",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sagemaker:*", "Resource": "*"}]}
        ),
    )
    credentials = account.client("sts").assume_role(RoleArn=caller, RoleSessionName="alice")["Credentials"]
    as_caller = boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        region_name="us-east-1",
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )
    code, message = error_of(lambda: start_processing(as_caller.client("sagemaker"), "passed", "probe.py"))
    assert code == "AccessDeniedException"
    assert message == (
        "User: arn:aws:sts::123456789012:assumed-role/NoPassRole/alice is not authorized to perform: "
        "iam:PassRole on resource: arn:aws:iam::123456789012:role/SageMakerRole because no "
        "identity-based policy allows the iam:PassRole action"
    )


def test_the_credentials_endpoint_answers_only_a_token_it_granted(server):
    """A job's or Studio kernel's credentials come with the token in AWS_CONTAINER_AUTHORIZATION_TOKEN; any
    other caller (a web page cannot even send the header) gets a 403 in AWS's shape, and no credentials."""
    import urllib.error
    import urllib.request

    for token in ("", "not-a-granted-token"):
        request = urllib.request.Request(f"{server.endpoint}/_local_aws/credentials", headers={"Authorization": token})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=5)
        assert refused.value.code == 403
        assert json.loads(refused.value.read()) == {
            "__type": "AccessDenied",
            "message": "The credentials endpoint needs the token given in AWS_CONTAINER_AUTHORIZATION_TOKEN.",
        }
