"""IAM additions through boto3: policy simulation as the SDK's role check uses it, managed policies."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

VERSION = "2012-10-17"
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "sagemaker.amazonaws.com"}}
        ],
    }
)


def decisions(iam, role_arn: str, actions: list[str], resources: list[str] | None = None) -> dict[str, str]:
    kwargs = {"ResourceArns": resources} if resources else {}
    result = iam.simulate_principal_policy(PolicySourceArn=role_arn, ActionNames=actions, **kwargs)
    return {r["EvalActionName"]: r["EvalDecision"] for r in result["EvaluationResults"]}


def test_aws_managed_policy_attaches_and_allows_its_actions(aws):
    iam = aws.client("iam")
    role = iam.create_role(RoleName="FullAccessRole", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    assert decisions(iam, role, ["sagemaker:CreateTrainingJob"]) == {"sagemaker:CreateTrainingJob": "implicitDeny"}
    iam.attach_role_policy(RoleName="FullAccessRole", PolicyArn="arn:aws:iam::aws:policy/AmazonSageMakerFullAccess")
    assert (
        iam.get_policy(PolicyArn="arn:aws:iam::aws:policy/AmazonSageMakerFullAccess")["Policy"]["PolicyName"]
        == "AmazonSageMakerFullAccess"
    )
    assert decisions(iam, role, ["sagemaker:CreateTrainingJob", "sagemaker:CreateProcessingJob"]) == {
        "sagemaker:CreateTrainingJob": "allowed",
        "sagemaker:CreateProcessingJob": "allowed",
    }


def test_inline_deny_wins_over_allow_and_resources_are_matched(aws):
    iam = aws.client("iam")
    role = iam.create_role(RoleName="R", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    iam.put_role_policy(
        RoleName="R",
        PolicyName="s3",
        PolicyDocument=json.dumps(
            {
                "Version": VERSION,
                "Statement": [
                    {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::data/*"},
                    {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"},
                ],
            }
        ),
    )
    assert decisions(iam, role, ["s3:PutObject", "s3:DeleteObject"], ["arn:aws:s3:::data/x"]) == {
        "s3:PutObject": "allowed",
        "s3:DeleteObject": "explicitDeny",
    }
    assert decisions(iam, role, ["s3:PutObject"], ["arn:aws:s3:::other/x"]) == {"s3:PutObject": "implicitDeny"}


def test_unknown_principal_and_unknown_managed_policy_are_errors(aws):
    iam = aws.client("iam")
    with pytest.raises(ClientError) as err:
        iam.simulate_principal_policy(
            PolicySourceArn="arn:aws:iam::123456789012:role/missing", ActionNames=["s3:GetObject"]
        )
    assert err.value.response["Error"]["Code"] == "NoSuchEntity"
    iam.create_role(RoleName="R2", AssumeRolePolicyDocument=TRUST)
    with pytest.raises(ClientError) as err:
        iam.attach_role_policy(RoleName="R2", PolicyArn="arn:aws:iam::aws:policy/NoSuchPolicyAnywhere")
    assert err.value.response["Error"]["Code"] == "NoSuchEntity"


def test_conditions_apply_with_their_context_keys_and_actions_match_in_any_case(aws):
    iam = aws.client("iam")
    role = iam.create_role(RoleName="C", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    iam.put_role_policy(
        RoleName="C",
        PolicyName="pass",
        PolicyDocument=json.dumps(
            {
                "Version": VERSION,
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "iam:PassRole",
                        "Resource": "*",
                        "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
                    },
                    {"Effect": "Allow", "Action": "SageMaker:Describe*", "Resource": "*"},
                    {"Effect": "Deny", "Action": "s3:*", "NotResource": "arn:aws:s3:::mine/*"},
                ],
            }
        ),
    )
    result = iam.simulate_principal_policy(PolicySourceArn=role, ActionNames=["iam:PassRole"])["EvaluationResults"][0]
    assert result["EvalDecision"] == "implicitDeny"  # the condition's key was not given: the statement does not apply
    assert result["MissingContextValues"] == ["iam:passedtoservice"]

    def passed_to(service: str) -> str:
        return iam.simulate_principal_policy(
            PolicySourceArn=role,
            ActionNames=["iam:PassRole"],
            ContextEntries=[
                {"ContextKeyName": "iam:PassedToService", "ContextKeyValues": [service], "ContextKeyType": "string"}
            ],
        )["EvaluationResults"][0]["EvalDecision"]

    assert passed_to("sagemaker.amazonaws.com") == "allowed"
    assert passed_to("lambda.amazonaws.com") == "implicitDeny"
    assert decisions(iam, role, ["sagemaker:describetrainingjob"]) == {"sagemaker:describetrainingjob": "allowed"}
    assert decisions(iam, role, ["s3:GetObject"], ["arn:aws:s3:::other/x"]) == {"s3:GetObject": "explicitDeny"}
    assert decisions(iam, role, ["s3:GetObject"], ["arn:aws:s3:::mine/x"]) == {"s3:GetObject": "implicitDeny"}
