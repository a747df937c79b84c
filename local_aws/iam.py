"""IAM calls moto lacks or makes slow: policy simulation, and AWS-managed policies loaded on demand.

The SageMaker SDK checks execution roles with SimulatePrincipalPolicy, which moto does not answer.
Here it evaluates the principal's inline and attached policies (plus any PolicyInputList) as IAM
evaluates identity policies: an explicit Deny wins, then an Allow, else implicitDeny. Whether a
statement covers an action on a resource is decided by moto's policy engine; around it, actions
compare case-insensitively, NotResource is honoured, and a statement with a Condition applies only
when ContextEntries give every key it tests (the keys it lacks are reported as
MissingContextValues, as the simulator does).

moto could load all ~9,500 AWS-managed policies up front, but then every reset rebuilds them
(seconds): instead a managed policy is loaded the first time a call names its ARN, then moto answers.
"""
from __future__ import annotations

import json
import threading
from typing import Any
from urllib.parse import unquote

from local_aws.core import moto_state
from local_aws.core.errors import InvalidInput, NoSuchEntity
from local_aws.core.protocol import RequestContext, action, before_moto

AWS_POLICY_PREFIX = "arn:aws:iam::aws:policy/"
_lock = threading.Lock()


@before_moto("iam", "AttachRolePolicy", "AttachUserPolicy", "AttachGroupPolicy", "DetachRolePolicy",
             "DetachUserPolicy", "DetachGroupPolicy", "GetPolicy", "GetPolicyVersion", "ListPolicyVersions",
             "ListEntitiesForPolicy")
def _load_managed_policy(request: dict, ctx: RequestContext) -> None:
    arn = request.get("PolicyArn", "")
    if arn.startswith(AWS_POLICY_PREFIX):
        with _lock:
            moto_state.load_aws_managed_policy(arn, ctx.account_id)


@action("iam", "SimulatePrincipalPolicy")
def simulate_principal_policy(request: dict, ctx: RequestContext) -> dict:
    source = request["PolicySourceArn"]
    if not request.get("ActionNames"):
        raise InvalidInput("ActionNames must name at least one action, e.g. s3:PutObject.")
    policies = moto_state.principal_policies(source, ctx.account_id)
    if policies is None:
        raise NoSuchEntity(f"PolicySourceArn {source} does not name an existing role or user.")
    documents = [(name, _parse(document)) for name, document in policies]
    documents += [(f"PolicyInputList.{i}", _parse(doc)) for i, doc in enumerate(request.get("PolicyInputList", []), 1)]
    context = {entry["ContextKeyName"].lower(): entry.get("ContextKeyValues", [])
               for entry in request.get("ContextEntries", [])}
    results = []
    for action_name in request["ActionNames"]:
        for resource in request.get("ResourceArns") or ["*"]:
            decision, matched, missing = evaluate(documents, action_name, resource, context)
            results.append({
                "EvalActionName": action_name, "EvalResourceName": resource, "EvalDecision": decision,
                "MatchedStatements": [{"SourcePolicyId": p, "SourcePolicyType": "IAM Policy"} for p in matched],
                "MissingContextValues": sorted(missing),
            })
    return {"EvaluationResults": results, "IsTruncated": False}


def evaluate(documents: list[tuple[str, dict]], action_name: str, resource: str,
             context: dict[str, list[str]]) -> tuple[str, list[str], set[str]]:
    """IAM's decision for one action on one resource, the policies that decided it, and the context
    keys that statements needed but were not given."""
    allowed, denied, missing = [], [], set()
    for policy_id, document in documents:
        statements = document.get("Statement", [])
        for statement in statements if isinstance(statements, list) else [statements]:
            effect = _applies(statement, action_name, resource, context, missing)
            if effect == "Deny":
                denied.append(policy_id)
            elif effect == "Allow":
                allowed.append(policy_id)
    if denied:
        return "explicitDeny", denied, missing
    return ("allowed", allowed, missing) if allowed else ("implicitDeny", [], missing)


def _applies(statement: dict, action_name: str, resource: str, context: dict[str, list[str]],
             missing: set[str]) -> str | None:
    """The statement's Effect when it applies to the action on the resource, else None."""
    effect = statement.get("Effect")
    scope = {key: _lower(statement[key]) for key in ("Action", "NotAction") if key in statement}
    if not moto_state.statement_effect({"Effect": "Allow", **scope, "Resource": "*"}, action_name.lower(), resource):
        return None
    if "NotResource" in statement:
        if moto_state.statement_effect({"Effect": "Allow", "Action": "*", "Resource": statement["NotResource"]},
                                       "any:action", resource):
            return None
    elif not moto_state.statement_effect({"Effect": "Allow", "Action": "*", "Resource": statement.get("Resource", "*")},
                                         "any:action", resource):
        return None
    condition = statement.get("Condition")
    if condition:
        keys = {key for test, block in condition.items() for key in block}
        needed = {key.lower() for test, block in condition.items() if not test.endswith("IfExists") for key in block}
        if needed - set(context):
            missing.update(needed - set(context))
            return None
        given = {key: context[key.lower()][0] for key in keys if context.get(key.lower())}
        tested = {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": condition}
        if moto_state.statement_effect(tested, "any:action", resource, given) != "Allow":
            return None
    return effect


def _lower(patterns: Any) -> Any:
    return [p.lower() for p in patterns] if isinstance(patterns, list) else str(patterns).lower()


def _parse(document: str | dict) -> dict:
    if isinstance(document, dict):
        return document
    try:
        return json.loads(document)
    except json.JSONDecodeError:
        return json.loads(unquote(document))
