"""IAM calls moto lacks or makes slow: policy simulation, and AWS-managed policies loaded on demand.

The SageMaker SDK checks execution roles with SimulatePrincipalPolicy, which moto does not answer.
Here it evaluates the principal's inline and attached policies (plus any PolicyInputList) as IAM
evaluates identity policies (local_aws.core.iam.policy_evaluation, the evaluator that also decides every
call): an explicit Deny wins, then an Allow, else implicitDeny. As the simulator does, a statement
whose Condition tests a key the ContextEntries do not give does not apply, and the key is reported
in MissingContextValues.

moto could load all ~9,500 AWS-managed policies up front, but then every reset rebuilds them
(seconds): instead a managed policy is loaded the first time a call names its ARN, then moto answers.
"""

from __future__ import annotations

import threading

from local_aws.core.gateway.context import RequestContext
from local_aws.core.gateway.errors import InvalidInput, NoSuchEntity
from local_aws.core.iam.policy_evaluation import decide
from local_aws.core.moto import iam as moto_iam
from local_aws.core.service import Api

_lock = threading.Lock()


# The calls moto answers that may name an AWS-managed policy moto has not loaded yet.
MANAGED_POLICY_CALLS = (
    "AttachRolePolicy",
    "AttachUserPolicy",
    "AttachGroupPolicy",
    "DetachRolePolicy",
    "DetachUserPolicy",
    "DetachGroupPolicy",
    "GetPolicy",
    "GetPolicyVersion",
    "ListPolicyVersions",
    "ListEntitiesForPolicy",
)


def load_managed_policy(request: dict, ctx: RequestContext) -> None:
    """Before moto answers one of MANAGED_POLICY_CALLS: the AWS-managed policy it names, loaded on demand."""
    arn = request.get("PolicyArn", "")
    if arn.startswith(moto_iam.AWS_POLICY_PREFIX):
        with _lock:
            moto_iam.load_aws_managed_policy(arn, ctx.account_id)


api = Api("iam")


@api.operation("SimulatePrincipalPolicy")
def simulate_principal_policy(request: dict, ctx: RequestContext) -> dict:
    source = request["PolicySourceArn"]
    if not request.get("ActionNames"):
        raise InvalidInput("ActionNames must name at least one action, e.g. s3:PutObject.")
    policies = moto_iam.principal_policies(source, ctx.account_id)
    if policies is None:
        raise NoSuchEntity(f"PolicySourceArn {source} does not name an existing role or user.")
    policies += [
        (f"PolicyInputList.{i}", moto_iam.parse_document(document))
        for i, document in enumerate(request.get("PolicyInputList", []), 1)
    ]
    context = {
        entry["ContextKeyName"].lower(): entry.get("ContextKeyValues", [])
        for entry in request.get("ContextEntries", [])
    }
    results = []
    for action_name in request["ActionNames"]:
        for resource in request.get("ResourceArns") or ["*"]:
            missing: set[str] = set()
            decision, matched = decide(policies, action_name, resource, context, missing)
            results.append(
                {
                    "EvalActionName": action_name,
                    "EvalResourceName": resource,
                    "EvalDecision": decision,
                    "MatchedStatements": [{"SourcePolicyId": p, "SourcePolicyType": "IAM Policy"} for p in matched],
                    "MissingContextValues": sorted(key.lower() for key in missing),
                }
            )
    return {"EvaluationResults": results, "IsTruncated": False}
