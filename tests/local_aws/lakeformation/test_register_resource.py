"""Lake Formation's RegisterResource: the role must exist in IAM, as AWS requires (EntityNotFoundException
otherwise, as the SageMaker Python SDK's integration test of enable_lake_formation expects)."""

from __future__ import annotations

import json

from support import error_of

BUCKET_ARN = "arn:aws:s3:::offline-store"


def create_role(session, name: str, path: str = "/") -> str:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "lakeformation.amazonaws.com"}}
        ],
    }
    role = session.client("iam").create_role(RoleName=name, Path=path, AssumeRolePolicyDocument=json.dumps(trust))
    return role["Role"]["Arn"]


def test_a_role_missing_from_iam_is_refused(aws):
    lf = aws.client("lakeformation")
    missing = "arn:aws:iam::123456789012:role/NoSuchRole"
    code, message = error_of(lambda: lf.register_resource(ResourceArn=BUCKET_ARN, RoleArn=missing))
    assert code == "EntityNotFoundException"
    assert missing in message
    assert lf.list_resources()["ResourceInfoList"] == []


def test_an_existing_role_registers_the_location_once(aws):
    lf = aws.client("lakeformation")
    role = create_role(aws, "DataAccess")
    lf.register_resource(ResourceArn=BUCKET_ARN, RoleArn=role)
    assert lf.describe_resource(ResourceArn=BUCKET_ARN)["ResourceInfo"]["RoleArn"] == role
    code, message = error_of(lambda: lf.register_resource(ResourceArn=BUCKET_ARN, RoleArn=role))
    assert (code, message) == ("AlreadyExistsException", "Resource is already registered")


def test_a_role_with_a_path_is_found(aws):
    lf = aws.client("lakeformation")
    lf.register_resource(ResourceArn=BUCKET_ARN, RoleArn=create_role(aws, "PathRole", path="/service-role/"))
    assert [r["ResourceArn"] for r in lf.list_resources()["ResourceInfoList"]] == [BUCKET_ARN]


def test_the_service_linked_role_needs_no_role_arn(aws):
    lf = aws.client("lakeformation")
    lf.register_resource(ResourceArn=BUCKET_ARN, UseServiceLinkedRole=True)
    assert lf.describe_resource(ResourceArn=BUCKET_ARN)["ResourceInfo"]["RoleArn"].endswith(
        "role/aws-service-role/lakeformation.amazonaws.com/AWSServiceRoleForLakeFormationDataAccess"
    )
    code, _ = error_of(lambda: lf.register_resource(ResourceArn="arn:aws:s3:::other"))
    assert code == "InvalidInputException"


def test_registrations_survive_a_restart(own_server):
    session = own_server.session()
    role = create_role(session, "DataAccess")
    session.client("lakeformation").register_resource(ResourceArn=BUCKET_ARN, RoleArn=role)
    own_server.stop()
    own_server.start()
    described = own_server.client("lakeformation").describe_resource(ResourceArn=BUCKET_ARN)
    assert described["ResourceInfo"]["RoleArn"] == role
