"""Lake Formation's RegisterResource: checked as AWS checks it, then recorded by moto.

moto registers a location with any RoleArn, one that names no role included, and records no role for
UseServiceLinkedRole. Lake Formation assumes the role to reach the data, so AWS refuses a RoleArn that
names no role in IAM with EntityNotFoundException (the SageMaker Python SDK's integration test of
enable_lake_formation with a nonexistent role expects that code), and with UseServiceLinkedRole it
registers its service-linked role, AWSServiceRoleForLakeFormationDataAccess. IAM is asked through the
gateway, as Lake Formation itself (the account's administrator); the registration is moto's, as are
DescribeResource, ListResources and DeregisterResource.
"""

from __future__ import annotations

from local_aws.core import gateway
from local_aws.core.gateway.context import Caller, RequestContext
from local_aws.core.gateway.errors import AlreadyExistsException, AwsError, InvalidInputException
from local_aws.core.service import Api

SERVICE_LINKED_ROLE = "role/aws-service-role/lakeformation.amazonaws.com/AWSServiceRoleForLakeFormationDataAccess"


class EntityNotFoundException(AwsError):
    code = "EntityNotFoundException"


api = Api("lakeformation")


@api.operation("RegisterResource")
def register_resource(request: dict, ctx: RequestContext) -> dict:
    if request.get("UseServiceLinkedRole"):
        role_arn = f"arn:aws:iam::{ctx.account_id}:{SERVICE_LINKED_ROLE}"  # AWS creates it when missing
    elif not request.get("RoleArn"):
        raise InvalidInputException("RoleArn is required unless UseServiceLinkedRole is true.")
    else:
        role_arn = request["RoleArn"]
        if not _role_exists(role_arn, ctx):
            raise EntityNotFoundException(f"Role {role_arn} does not exist in IAM; Lake Formation cannot assume it.")
    try:
        gateway.call_moto("lakeformation", "RegisterResource", {**request, "RoleArn": role_arn}, ctx.caller)
    except AwsError as error:
        if error.code == "AlreadyExistsException":  # moto words it "An error occurred (...) when calling ..."
            raise AlreadyExistsException("Resource is already registered") from None
        raise
    return {}


def _role_exists(role_arn: str, ctx: RequestContext) -> bool:
    """Whether IAM has the role the ARN names (its path included), asked as Lake Formation (GetRole)."""
    name = role_arn.rsplit("/", 1)[-1]
    if not name:
        return False
    lake_formation = Caller(account_id=role_arn.split(":")[4] or ctx.account_id, region=ctx.region)
    try:
        role = gateway.call("iam", "GetRole", {"RoleName": name}, lake_formation)["Role"]
    except AwsError as error:
        if error.code == "NoSuchEntity":
            return False
        raise
    return role["Arn"] == role_arn
