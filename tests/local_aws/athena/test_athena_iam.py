"""Athena runs a query with its caller's permissions: the Glue catalog, the table's S3 objects and the results
location, each a real call through the gateway as the caller, via athena.amazonaws.com (aws:CalledVia). A
caller missing one may start the query; it FAILS with Athena's reason at the step that needs the permission.
The account's administrator is never refused."""

from __future__ import annotations

import json

import boto3
import pytest
from support import error_of, wait_until
from support.athena import BUCKET, DB, RESULTS, TABLE, Lake
from support.iam import create_role

ACCOUNT_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}
    ],
}
ATHENA = {"Effect": "Allow", "Action": "athena:*", "Resource": "*"}
GLUE = {"Effect": "Allow", "Action": ["glue:GetDatabase", "glue:GetTable"], "Resource": "*"}
RESULTS_WRITE = {
    "Effect": "Allow",
    "Action": ["s3:GetBucketLocation", "s3:PutObject", "s3:GetObject"],
    "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/athena-results/*"],
}
DATA_READ = {
    "Effect": "Allow",
    "Action": ["s3:ListBucket", "s3:GetObject"],
    "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/offline/*"],
}
DATA_LIST = {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{BUCKET}"}
QUERY = f'SELECT count(*) FROM "{TABLE}"'


def data_objects_via(service: str) -> dict:
    """s3:GetObject on the tables' objects, for calls a service makes on the caller's behalf only."""
    return {
        "Effect": "Allow",
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{BUCKET}/offline/*",
        "Condition": {"ForAnyValue:StringEquals": {"aws:CalledVia": service}},
    }


@pytest.fixture()
def lake(aws) -> Lake:
    lake = Lake(aws)
    lake.put(
        "20240501T000000Z_a", [{"customer_id": "c1", "age": 30, "score": 0.5, "event_time": "2024-05-01T00:00:00Z"}]
    )
    return lake


def analyst(aws, *statements: dict):
    """An Athena client of a role allowed exactly these statements (its session named `analyst`)."""
    return analyst_session(aws, *statements).client("athena")


def analyst_session(aws, *statements: dict) -> boto3.Session:
    """A session of a role allowed exactly these statements (its session named `analyst`)."""
    arn = create_role(aws, "Analyst", [], trust=ACCOUNT_TRUST)
    aws.client("iam").put_role_policy(
        RoleName="Analyst",
        PolicyName="query",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": list(statements)}),
    )
    credentials = aws.client("sts").assume_role(RoleArn=arn, RoleSessionName="analyst")["Credentials"]
    return boto3.Session(
        region_name="us-east-1",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


def outcome(athena) -> tuple[str, str]:
    """The query's final state and StateChangeReason ("" when it has none)."""
    execution_id = athena.start_query_execution(
        QueryString=QUERY, QueryExecutionContext={"Database": DB}, ResultConfiguration={"OutputLocation": RESULTS}
    )["QueryExecutionId"]
    status = wait_until(
        lambda: athena.get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]["Status"],
        lambda status: status["State"] in ("SUCCEEDED", "FAILED", "CANCELLED"),
        what="the query's end",
    )
    return status["State"], status.get("StateChangeReason", "")


def test_a_caller_without_glue_rights_fails_on_the_catalog(aws, lake):
    state, reason = outcome(analyst(aws, ATHENA, RESULTS_WRITE, DATA_READ))
    assert state == "FAILED"
    assert reason == (
        "Insufficient permissions to execute the query. User: arn:aws:sts::123456789012:assumed-role/Analyst/analyst "
        "is not authorized to perform: glue:GetDatabase on resource: arn:aws:glue:us-east-1:123456789012:catalog "
        "because no identity-based policy allows the glue:GetDatabase action (Service: AWSGlue; Status Code: 400; "
        "Error Code: AccessDeniedException)"
    )


def test_a_caller_without_the_tables_objects_fails_on_s3(aws, lake):
    state, reason = outcome(analyst(aws, ATHENA, GLUE, RESULTS_WRITE))
    assert (state, reason) == ("FAILED", f"Permission denied on S3 path: s3://{BUCKET}/offline/{TABLE}/data/")


def test_a_caller_who_may_not_write_the_results_fails_on_the_output(aws, lake):
    state, reason = outcome(
        analyst(
            aws,
            ATHENA,
            GLUE,
            DATA_READ,
            {"Effect": "Allow", "Action": "s3:GetBucketLocation", "Resource": f"arn:aws:s3:::{BUCKET}"},
        )
    )
    assert state == "FAILED"
    assert reason.startswith(f"Access denied when writing output to url: s3://{BUCKET}/athena-results/"), reason


def test_a_caller_with_every_permission_or_glue_rights_only_via_athena_gets_the_rows(aws, lake):
    via_athena = {**GLUE, "Condition": {"ForAnyValue:StringEquals": {"aws:CalledVia": "athena.amazonaws.com"}}}
    assert outcome(analyst(aws, ATHENA, via_athena, RESULTS_WRITE, DATA_READ)) == ("SUCCEEDED", "")
    assert outcome(lake.athena) == ("SUCCEEDED", "")  # the administrator


def test_the_tables_objects_are_read_as_the_caller_via_athena(aws, lake):
    """s3:GetObject allowed only via athena.amazonaws.com: the query reads the objects, the role itself may not."""
    session = analyst_session(aws, ATHENA, GLUE, RESULTS_WRITE, DATA_LIST, data_objects_via("athena.amazonaws.com"))
    assert outcome(session.client("athena")) == ("SUCCEEDED", "")
    key = lake.s3.list_objects_v2(Bucket=BUCKET, Prefix=f"offline/{TABLE}/")["Contents"][0]["Key"]
    assert error_of(lambda: session.client("s3").get_object(Bucket=BUCKET, Key=key))[0] == "AccessDenied"


@pytest.mark.parametrize("loaded_before", [False, True], ids=["first-read", "held-from-an-earlier-query"])
def test_a_caller_who_may_list_but_not_read_the_objects_fails_on_the_split(aws, lake, loaded_before):
    """Athena's S3 reads carry aws:CalledVia athena.amazonaws.com, so a GetObject allowed only via another service
    does not cover them. An object the engine holds from an administrator's earlier query is no exception: on AWS
    every query reads every object."""
    if loaded_before:
        assert outcome(lake.athena) == ("SUCCEEDED", "")
    key = lake.s3.list_objects_v2(Bucket=BUCKET, Prefix=f"offline/{TABLE}/")["Contents"][0]["Key"]
    state, reason = outcome(
        analyst(aws, ATHENA, GLUE, RESULTS_WRITE, DATA_LIST, data_objects_via("glue.amazonaws.com"))
    )
    assert (state, reason) == (
        "FAILED",
        f"HIVE_CANNOT_OPEN_SPLIT: Error opening Hive split s3://{BUCKET}/{key}: Access Denied (Service: Amazon S3; "
        "Status Code: 403; Error Code: AccessDenied)",
    )
