"""Roles for tests: SageMaker execution roles with the policies a test needs, as a user creates them."""

from __future__ import annotations

import json

import boto3

ACCOUNT = "123456789012"
ADMINISTRATOR = "arn:aws:iam::aws:policy/AdministratorAccess"
SAGEMAKER_FULL_ACCESS = "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"
SAGEMAKER_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}
# The roles the suite's builders pass to jobs, pipelines and feature groups: they may do everything.
TEST_ROLES = ("SageMakerRole", "PipelineRole", "FeatureStoreRole")


def create_role(session: boto3.Session, name: str, policy_arns: list[str], trust: dict = SAGEMAKER_TRUST) -> str:
    """Create a role with these managed policies attached; returns its ARN."""
    iam = session.client("iam")
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    for policy_arn in policy_arns:
        iam.attach_role_policy(RoleName=name, PolicyArn=policy_arn)
    return arn


def create_test_roles(session: boto3.Session) -> None:
    """The roles the suite's builders name, each an administrator trusting SageMaker (kept if they exist)."""
    existing = {role["RoleName"] for role in session.client("iam").list_roles()["Roles"]}
    for name in TEST_ROLES:
        if name not in existing:
            create_role(session, name, [ADMINISTRATOR])


def reset_with_test_roles(port: int) -> boto3.Session:
    """Reset the suite's local_aws and make the test roles again: every reset a test makes goes through here, so
    no test finds the server without the roles another module's reset removed. A session as the administrator."""
    import local_aws

    local_aws.reset(port)
    session = boto3.Session(region_name="us-east-1")
    create_test_roles(session)
    return session
