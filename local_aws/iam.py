"""IAM calls moto lacks or makes slow: policy simulation and AWS-managed policies on demand.

The SageMaker SDK validates execution roles with SimulatePrincipalPolicy, which moto does not
implement. Here it evaluates the principal's inline and attached policies as IAM does for
identity policies (an explicit Deny wins, then an Allow, else implicitDeny), matching actions and
resources with IAM's wildcards. Condition blocks are not evaluated: a statement with conditions
counts as matching (local_aws does not enforce IAM anywhere else either).

moto can load all ~9,500 AWS-managed policies up front, but then every reset rebuilds them for each
partition (seconds). Instead a managed policy is copied from moto's bundled data the first time a
call names its ARN, then moto answers the call itself.
"""
from __future__ import annotations

import fnmatch
import json
import threading
from functools import lru_cache
from urllib.parse import unquote
from xml.sax.saxutils import escape

from moto.iam.aws_managed_policies import aws_managed_policies_data
from moto.iam.models import AWSManagedPolicy

from local_aws import moto_state
from local_aws.protocol import AwsError, RequestContext, query_action


class NoSuchEntity(AwsError):
    code = "NoSuchEntity"
    status = 404


class InvalidInput(AwsError):
    code = "InvalidInput"


_lock = threading.Lock()
AWS_POLICY_PREFIX = "arn:aws:iam::aws:policy/"


def _backend(ctx: RequestContext):
    return moto_state.iam(ctx.account_id)


@lru_cache(maxsize=1)
def _managed_policy_data() -> dict:
    return json.loads(aws_managed_policies_data)


def _ensure_managed_policy(arn: str, ctx: RequestContext) -> None:
    """Copy one AWS-managed policy into moto's IAM backend, if moto knows it and lacks it."""
    if not arn.startswith(AWS_POLICY_PREFIX):
        return
    backend = _backend(ctx)
    with _lock:
        if arn in backend.managed_policies:
            return
        name = arn.rsplit("/", 1)[-1]
        data = _managed_policy_data().get(name)
        if data is not None:
            policy = AWSManagedPolicy.from_data(name, ctx.account_id, "us-east-1", data)
            backend.managed_policies[policy.arn] = policy


def _managed_policy_then_moto(form: dict, ctx: RequestContext) -> None:
    _ensure_managed_policy(form.get("PolicyArn", ""), ctx)
    return None  # moto answers the call itself


for _action in ("AttachRolePolicy", "AttachUserPolicy", "AttachGroupPolicy", "DetachRolePolicy",
                "DetachUserPolicy", "DetachGroupPolicy", "GetPolicy", "GetPolicyVersion",
                "ListPolicyVersions", "ListEntitiesForPolicy"):
    query_action("iam", _action)(_managed_policy_then_moto)


def _members(form: dict, name: str) -> list[str]:
    """`Name.member.1`, `Name.member.2`, ... of a Query-protocol list, in order."""
    values, index = [], 1
    while f"{name}.member.{index}" in form:
        values.append(form[f"{name}.member.{index}"])
        index += 1
    return values


def _principal_documents(arn: str, ctx: RequestContext) -> list[tuple[str, dict]]:
    """(policy id, document) of every identity policy of the role or user named by the ARN."""
    backend = _backend(ctx)
    resource = arn.split(":", 5)[-1]  # role/path/name or user/path/name
    kind, name = resource.split("/", 1)[0], resource.rsplit("/", 1)[-1]
    try:
        principal = backend.get_role(name) if kind == "role" else backend.get_user(name)
    except Exception:
        raise NoSuchEntity(f"PolicySourceArn {arn} does not name an existing role or user.") from None
    documents = [(policy_name, _parse(doc)) for policy_name, doc in principal.policies.items()]
    for policy in principal.managed_policies.values():
        default = next((v for v in policy.versions if v.is_default), None)
        if default is not None:
            documents.append((policy.name, _parse(default.document)))
    return documents


def _parse(document: str | dict) -> dict:
    if isinstance(document, dict):
        return document
    try:
        return json.loads(document)
    except json.JSONDecodeError:
        return json.loads(unquote(document))


def _listed(value: str | list[str] | None) -> list[str]:
    return [] if value is None else [value] if isinstance(value, str) else list(value)


def _statement_matches(statement: dict, action: str, resource: str) -> bool:
    def any_match(patterns: list[str], value: str, fold: bool) -> bool:
        if fold:
            value, patterns = value.lower(), [p.lower() for p in patterns]
        return any(fnmatch.fnmatchcase(value, p) for p in patterns)

    if "Action" in statement and not any_match(_listed(statement["Action"]), action, True):
        return False
    if "NotAction" in statement and any_match(_listed(statement["NotAction"]), action, True):
        return False
    if "Resource" in statement and not any_match(_listed(statement["Resource"]), resource, False):
        return False
    if "NotResource" in statement and any_match(_listed(statement["NotResource"]), resource, False):
        return False
    return True


def evaluate(documents: list[tuple[str, dict]], action: str, resource: str) -> tuple[str, list[str]]:
    """IAM's decision for one action on one resource, and the ids of the statements that decided it."""
    allowed, denied = [], []
    for policy_id, document in documents:
        statements = document.get("Statement", [])
        for statement in statements if isinstance(statements, list) else [statements]:
            if _statement_matches(statement, action, resource):
                (denied if statement.get("Effect") == "Deny" else allowed).append(policy_id)
    if denied:
        return "explicitDeny", denied
    if allowed:
        return "allowed", allowed
    return "implicitDeny", []


@query_action("iam", "SimulatePrincipalPolicy")
def simulate_principal_policy(form: dict, ctx: RequestContext) -> str:
    source = form.get("PolicySourceArn", "")
    actions = _members(form, "ActionNames")
    if not actions:
        raise InvalidInput("ActionNames must name at least one action, e.g. s3:PutObject.")
    documents = _principal_documents(source, ctx)
    documents += [(f"PolicyInputList.{i + 1}", _parse(doc)) for i, doc in enumerate(_members(form, "PolicyInputList"))]
    resources = _members(form, "ResourceArns") or ["*"]
    members = []
    for action in actions:
        for resource in resources:
            decision, matched = evaluate(documents, action, resource)
            statements = "".join(f"<member><SourcePolicyId>{escape(p)}</SourcePolicyId>"
                                 "<SourcePolicyType>IAM Policy</SourcePolicyType></member>" for p in matched)
            members.append(
                f"<member><EvalActionName>{escape(action)}</EvalActionName>"
                f"<EvalResourceName>{escape(resource)}</EvalResourceName>"
                f"<EvalDecision>{decision}</EvalDecision><MatchedStatements>{statements}</MatchedStatements>"
                "<MissingContextValues/></member>")
    return ('<SimulatePrincipalPolicyResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">'
            f"<SimulatePrincipalPolicyResult><IsTruncated>false</IsTruncated><EvaluationResults>{''.join(members)}"
            "</EvaluationResults></SimulatePrincipalPolicyResult>"
            "<ResponseMetadata><RequestId>local</RequestId></ResponseMetadata></SimulatePrincipalPolicyResponse>")
