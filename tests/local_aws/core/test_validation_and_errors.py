"""Every request is checked against its botocore model before a handler runs, and answered as AWS answers.

boto3 checks little on the client side (required members and minimums), so these tests switch its
checks off, as a client of another SDK would have none, and send what the service must refuse.
"""

from __future__ import annotations

import json
import urllib.request

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from support import error_of, sign

from local_aws.core.iam import access_keys

UNCHECKED = Config(parameter_validation=False)
ROLE = "arn:aws:iam::123456789012:role/R"


@pytest.fixture()
def unchecked(aws):
    """Clients that send whatever they are given."""
    return lambda service: aws.client(service, config=UNCHECKED)


def test_every_broken_constraint_is_named_with_aws_wording(unchecked):
    code, message = error_of(
        lambda: unchecked("sagemaker").create_feature_group(
            FeatureGroupName="bad name!",
            RecordIdentifierFeatureName="id",
            EventTimeFeatureName="time",
            FeatureDefinitions=[{"FeatureName": "id", "FeatureType": "Integer"}],
        )
    )
    assert code == "ValidationException"
    assert message == (
        "2 validation errors detected: Value 'bad name!' at 'featureGroupName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [a-zA-Z0-9]([_-]*[a-zA-Z0-9]){0,63}; "
        "Value 'Integer' at 'featureDefinitions.1.member.featureType' failed to satisfy constraint: "
        "Member must satisfy enum value set: [Integral, Fractional, String]"
    )


def test_missing_members_ranges_and_role_arns(unchecked):
    sm = unchecked("sagemaker")
    assert error_of(lambda: sm.list_feature_groups(MaxResults=101)) == (
        "ValidationException",
        "1 validation error detected: Value '101' at 'maxResults' failed to satisfy "
        "constraint: Member must have value less than or equal to 100",
    )
    code, message = error_of(
        lambda: sm.create_pipeline(
            PipelineName="p", ClientRequestToken="t" * 32, RoleArn="not-a-role", PipelineDefinition="{}"
        )
    )
    assert code == "ValidationException" and "Value 'not-a-role' at 'roleArn'" in message
    assert "Member must satisfy regular expression pattern: arn:aws[a-z\\-]*:iam::\\d{12}:role/" in message
    code, message = error_of(lambda: sm.describe_processing_job())
    assert message == (
        "1 validation error detected: Value null at 'processingJobName' failed to satisfy "
        "constraint: Member must not be null"
    )
    code, message = error_of(lambda: sm.list_pipeline_execution_steps())  # optional in the model, needed
    assert (code, message) == (
        "ValidationException",
        "1 validation error detected: Value null at "
        "'pipelineExecutionArn' failed to satisfy constraint: Member must not be null",
    )


def test_a_member_of_the_wrong_json_type_is_a_serialization_error(unchecked):
    code, message = error_of(lambda: unchecked("sagemaker").list_feature_groups(MaxResults="ten"))
    assert code == "SerializationException" and "'maxResults'" in message


def test_each_service_answers_with_its_own_code_and_status(unchecked):
    with pytest.raises(ClientError) as err:
        unchecked("sagemaker-featurestore-runtime").put_record(
            FeatureGroupName="g", Record=[{"FeatureName": "a", "ValueAsString": "1"}], TargetStores=["Nowhere"]
        )
    assert err.value.response["Error"]["Code"] == "ValidationError"
    assert "at 'targetStores.1.member'" in err.value.response["Error"]["Message"]
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(ClientError) as err:
        unchecked("sagemaker-featurestore-runtime").get_record(
            FeatureGroupName="missing", RecordIdentifierValueAsString="1"
        )
    assert err.value.response["Error"]["Code"] == "ResourceNotFound"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404  # the runtime model's status
    with pytest.raises(ClientError) as err:
        unchecked("sagemaker").describe_feature_group(FeatureGroupName="missing")
    assert err.value.response["Error"]["Code"] == "ResourceNotFound"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400  # SageMaker's
    with pytest.raises(ClientError) as err:
        unchecked("athena").get_query_results(QueryExecutionId="x", MaxResults=5000)
    assert err.value.response["Error"]["Code"] == "InvalidRequestException"
    assert err.value.response["AthenaErrorCode"] == "INVALID_INPUT"
    assert "Value '5000' at 'maxResults'" in err.value.response["Error"]["Message"]
    code, message = error_of(
        lambda: unchecked("iam").simulate_principal_policy(PolicySourceArn="short", ActionNames=["s3:GetObject"])
    )
    assert code == "ValidationError"  # IAM's name for it, answered in the Query protocol's XML
    assert message.startswith("1 validation error detected: Value 'short' at 'policySourceArn'")


def test_a_next_token_that_is_not_ours_is_refused(aws):
    sm = aws.client("sagemaker")
    code, message = error_of(lambda: sm.list_pipelines(NextToken="garbage"))
    assert code == "ValidationException" and message.startswith("Invalid NextToken 'garbage'")
    aws.client("iam").create_role(RoleName="R", AssumeRolePolicyDocument="{}")
    for name in ("a", "b"):
        sm.create_pipeline(
            PipelineName=name,
            RoleArn=ROLE,
            PipelineDefinition=json.dumps(
                {"Version": "2020-12-01", "Steps": [{"Name": "F", "Type": "Fail", "Arguments": {"ErrorMessage": "x"}}]}
            ),
        )
    token = sm.list_pipelines(MaxResults=1)["NextToken"]
    assert len(sm.list_pipelines(MaxResults=1, NextToken=token)["PipelineSummaries"]) == 1
    code, message = error_of(lambda: sm.list_feature_groups(NextToken=token))  # another call's token
    assert code == "ValidationException" and "ListFeatureGroups" in message


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b"\xff\xfe"])
def test_a_body_that_is_not_a_json_object_is_a_serialization_error(server, body):
    headers = {"X-Amz-Target": "SageMaker.ListFeatureGroups", "Content-Type": "application/x-amz-json-1.1"}
    keys = access_keys.read(server.home / str(server.port))
    headers |= sign("POST", f"{server.endpoint}/", headers, body, "sagemaker", keys)
    request = urllib.request.Request(f"{server.endpoint}/", data=body, method="POST", headers=headers)
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(request, timeout=10)
    assert err.value.code == 400
    assert json.loads(err.value.read())["__type"] == "SerializationException"
