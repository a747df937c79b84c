"""IAM and STS: an action on a role, user or policy names its ARN; GetCallerIdentity needs nothing.

AWS answers sts:GetCallerIdentity whatever the policies say. Changing IAM makes every cached
decision stale (local_aws.core.iam.authorization.forget_decisions, called by the server).
"""

from __future__ import annotations

from local_aws.core.iam.authorization import Call, Need


def iam_needs(call: Call) -> list[Need]:
    request, base = call.request, f"arn:aws:iam::{call.account_id}"
    if request.get("RoleName"):
        resource = f"{base}:role/{request['RoleName']}"
    elif request.get("UserName"):
        resource = f"{base}:user/{request['UserName']}"
    elif request.get("PolicyArn"):
        resource = request["PolicyArn"]
    elif call.operation == "CreatePolicy":
        resource = f"{base}:policy/{request.get('PolicyName', '')}"
    else:
        resource = request.get("PolicySourceArn", "*")
    return [Need(f"iam:{call.operation}", resource)]


def sts_needs(call: Call) -> list[Need]:
    if call.operation == "GetCallerIdentity":
        return []
    return [Need(f"sts:{call.operation}", call.request.get("RoleArn", "*"))]
