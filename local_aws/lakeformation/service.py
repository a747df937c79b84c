"""Lake Formation's RegisterResource, checked as AWS checks it before moto records it.

moto registers a location with any RoleArn, one that names no role included; Lake Formation assumes
the role to reach the data, so AWS refuses a role missing from IAM (InvalidInputException). The
registration itself is moto's (DescribeResource, ListResources and DeregisterResource stay moto's).
"""

from __future__ import annotations

from local_aws.core.gateway.context import RequestContext
from local_aws.core.gateway.errors import AlreadyExistsException, InvalidInputException
from local_aws.core.moto import iam as moto_iam
from local_aws.core.moto import state as moto_state
from local_aws.core.service import Api

SERVICE_LINKED_ROLE = "role/aws-service-role/lakeformation.amazonaws.com/AWSServiceRoleForLakeFormationDataAccess"


api = Api("lakeformation")


@api.operation("RegisterResource")
def register_resource(request: dict, ctx: RequestContext) -> dict:
    role_arn = request.get("RoleArn")
    if request.get("UseServiceLinkedRole"):
        role_arn = f"arn:aws:iam::{ctx.account_id}:{SERVICE_LINKED_ROLE}"  # AWS creates it when missing
    elif not role_arn:
        raise InvalidInputException("RoleArn is required unless UseServiceLinkedRole is true.")
    elif moto_iam.principal_policies(role_arn, role_arn.split(":")[4] or ctx.account_id) is None:
        raise InvalidInputException(f"Role {role_arn} does not exist in IAM; Lake Formation cannot assume it.")
    if not moto_state.register_lake_formation_resource(ctx.region, ctx.account_id, request["ResourceArn"], role_arn):
        raise AlreadyExistsException("Resource is already registered")
    return {}
