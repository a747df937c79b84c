"""IAM enforced: every call is allowed or denied as AWS would, for whoever signed it.

Who calls is decided by local_aws.core.iam.authentication from the request's verified SigV4 key: the
key pair the server issued its user is the account's administrator, who may do everything (the
tutorial's notebooks outside Studio, `python -m local_aws env`); the keys moto's STS issued (a job's or
a Studio kernel's session of its execution role, any AssumeRole session) and the keys of IAM users
moto holds belong to a principal whose identity policies decide every call.

What a call needs is said per service (local_aws.core.iam.rules): the IAM actions, the resources they
act on and the condition keys of the request, e.g. s3:PutObject on arn:aws:s3:::bucket/key, or
iam:PassRole on the job's role with iam:PassedToService. A call lacking one is refused with the
service's access-denied error and AWS's message naming the principal, action and resource.
Decisions are cached until IAM changes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from local_aws.core.gateway import service_models
from local_aws.core.gateway.errors import AccessDenied, AccessDeniedException, AwsError
from local_aws.core.iam.policy_evaluation import Context, decide
from local_aws.core.moto import iam as moto_iam


@dataclass(frozen=True)
class Principal:
    """A caller whose policies decide: its ARN as AWS names it in errors, and the role or user it acts as."""

    arn: str
    identity_arn: str


@dataclass(frozen=True)
class Need:
    """One IAM action on one resource a call needs, with the request's condition keys."""

    action: str
    resource: str = "*"
    context: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @staticmethod
    def of(action: str, resource: str = "*", **context: str) -> Need:
        """Need.of("iam:PassRole", arn, **{"iam:PassedToService": "sagemaker.amazonaws.com"})"""
        return Need(action, resource, tuple(sorted((k.lower(), (v,)) for k, v in context.items())))


@dataclass
class Call:
    """A call as its service's permission rules read it."""

    service: str  # botocore's service name (s3, glue, sagemaker, ...)
    operation: str  # "" for a REST call its rules name from the request itself (S3)
    request: dict
    region: str
    account_id: str
    environ: dict = field(default_factory=dict, repr=False)


Rules = Callable[[Call], list[Need]]
_decisions: dict[tuple[str, Need], str] = {}
_lock = threading.Lock()


def acting_as(role_arn: str, session_name: str = "SageMaker") -> Principal:
    """The principal of a role's session, as SageMaker acts with a role it was given (a pipeline's steps)."""
    account, name = role_arn.split(":")[4], role_arn.rsplit("/", 1)[-1]
    return Principal(f"arn:aws:sts::{account}:assumed-role/{name}/{session_name}", role_arn)


def needs(call: Call, rules: Rules | None = None) -> list[Need]:
    """What the call needs: as its service's rules say (local_aws.core.iam.rules), else prefix:Operation on *."""
    if rules is not None:
        return rules(call)
    if not call.operation:
        return []  # a REST call of a service without rules: nothing to name it by
    return [Need(f"{service_models.signing_name(call.service)}:{call.operation}")]


def authorize(principal: Principal | None, call: Call, rules: Rules | None, called_via: tuple[str, ...] = ()) -> None:
    """Raise the service's access-denied error unless the principal may make this call; a call made on the
    principal's behalf by services carries them in aws:CalledVia."""
    if principal is None:
        return
    for need in needs(call, rules):
        if called_via:
            need = Need(need.action, need.resource, tuple(sorted((*need.context, ("aws:calledvia", called_via)))))
        check(principal, need, call.service)


def check(principal: Principal, need: Need, service: str) -> None:
    """Raise the service's access-denied error unless the principal's policies allow the need."""
    decision = allowed(principal.identity_arn, need)
    if decision != "allowed":
        raise denied(principal.arn, need, decision, service)


def allowed(identity_arn: str, need: Need) -> str:
    """IAM's decision ("allowed", "explicitDeny", "implicitDeny") for the role or user an ARN names."""
    key = (identity_arn, need)
    with _lock:
        decision = _decisions.get(key)
    if decision is None:
        policies = moto_iam.principal_policies(identity_arn) or []
        context: Context = {name: list(values) for name, values in need.context}
        decision, _ = decide(policies, need.action, need.resource, context)
        with _lock:
            _decisions[key] = decision
    return decision


def forget_decisions() -> None:
    """IAM changed (a role, a policy, an attachment, or all at a reset): decide again from now on."""
    with _lock:
        _decisions.clear()


def denied(principal_arn: str, need: Need, decision: str, service: str) -> AwsError:
    """The access-denied error a service answers, with AWS's message."""
    resource = f'"{need.resource}"' if service == "s3" else need.resource
    why = (
        "with an explicit deny in an identity-based policy"
        if decision == "explicitDeny"
        else f"because no identity-based policy allows the {need.action} action"
    )
    message = f"User: {principal_arn} is not authorized to perform: {need.action} on resource: {resource} {why}"
    json_protocol = service_models.protocol(service) in ("json", "rest-json")
    return AccessDeniedException(message) if json_protocol else AccessDenied(message)
