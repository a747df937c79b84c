"""Model Registry calls moto lacks or gets wrong: deletes, group policies, batch describe, versions.

moto keeps the model packages and groups; this module completes moto's own records through adapter
functions of local_aws.core.moto.state (the Model Registry extends moto's own state) so that moto's
Describe/List/Update keep answering. Versions are numbered as AWS numbers them: one more than the highest
version the group ever had, so deleting version 1 of 2 does not hand out 2 again. A pipeline's RegisterModel
step registers through CreateModelPackage, as the pipeline's role.

What the registry adds to moto's records (the highest version each group ever had, the group policies) is
its own store, per account and region, so numbering goes on from the highest version ever after a restart.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from local_aws.core.gateway.context import RequestContext
from local_aws.core.gateway.errors import ConflictException, ValidationException
from local_aws.core.moto import state as moto_state
from local_aws.core.runtime.store import AccountRegionStore
from local_aws.core.service import Api


@dataclass
class State:
    """What the Model Registry adds to one account's groups in one region, by group name."""

    highest_version: dict[str, int] = field(default_factory=dict)  # the highest version the group ever had
    policies: dict[str, str] = field(default_factory=dict)  # the group's resource policy (JSON)


STORE: AccountRegionStore[State] = AccountRegionStore("model_registry", State, layout=2)


def _state(ctx: RequestContext) -> State:
    return STORE.of(ctx.account_id, ctx.region)


def _require_group(ctx: RequestContext, name_or_arn: str) -> str:
    name = name_or_arn.split(":model-package-group/")[-1]
    if moto_state.model_package_group_arn(ctx.region, ctx.account_id, name) is None:
        raise ValidationException(f"Model Package Group {name} does not exist.")
    return name


api = Api("sagemaker")


@api.operation("CreateModelPackage")
def create_model_package(request: dict, ctx: RequestContext) -> dict:
    group = request.get("ModelPackageGroupName")
    if not group or request.get("ModelPackageName"):
        # Unversioned packages (and the both/neither errors) are moto's as they are.
        args = _moto_args(request, model_package_name=request.get("ModelPackageName"), model_package_group_name=group)
        return {"ModelPackageArn": moto_state.create_model_package(ctx.region, ctx.account_id, args)}
    group = _require_group(ctx, group)
    status = request.get("ModelApprovalStatus", "PendingManualApproval")
    with STORE.lock:  # one version number per package, however many register at once
        highest = _state(ctx).highest_version
        existing = moto_state.model_package_versions(ctx.region, ctx.account_id, group)
        version = max([highest.get(group, 0), *existing]) + 1
        highest[group] = version
        arn = moto_state.add_model_package_version(
            ctx.region, ctx.account_id, group, version, _moto_args(request, model_approval_status=status)
        )
    STORE.changed()
    return {"ModelPackageArn": arn}


def _moto_args(request: dict, **fixed: object) -> dict:
    args = {
        "model_package_description": request.get("ModelPackageDescription"),
        "inference_specification": request.get("InferenceSpecification"),
        "validation_specification": request.get("ValidationSpecification"),
        "source_algorithm_specification": request.get("SourceAlgorithmSpecification"),
        "certify_for_marketplace": request.get("CertifyForMarketplace", False),
        "tags": request.get("Tags"),
        "model_approval_status": request.get("ModelApprovalStatus"),
        "metadata_properties": request.get("MetadataProperties"),
        "model_metrics": request.get("ModelMetrics"),
        "customer_metadata_properties": request.get("CustomerMetadataProperties"),
        "drift_check_baselines": request.get("DriftCheckBaselines"),
        "domain": request.get("Domain"),
        "task": request.get("Task"),
        "sample_payload_url": request.get("SamplePayloadUrl"),
        "additional_inference_specifications": request.get("AdditionalInferenceSpecifications"),
        "client_token": request.get("ClientToken"),
    }
    args.update(fixed)
    return args


@api.operation("DeleteModelPackage")
def delete_model_package(request: dict, ctx: RequestContext) -> dict:
    name = request["ModelPackageName"]
    with STORE.lock:
        if not moto_state.delete_model_package(ctx.region, ctx.account_id, name):
            raise ValidationException(f"Model package {name} does not exist.")
    return {}


@api.operation("DeleteModelPackageGroup")
def delete_model_package_group(request: dict, ctx: RequestContext) -> dict:
    name = _require_group(ctx, request["ModelPackageGroupName"])
    with STORE.lock:
        remaining = moto_state.model_package_versions(ctx.region, ctx.account_id, name)
        if remaining:
            raise ConflictException(
                f"Model Package Group {name} cannot be deleted because it contains {len(remaining)} model "
                "package(s). Delete every version with DeleteModelPackage first."
            )
        moto_state.delete_model_package_group(ctx.region, ctx.account_id, name)
        state = _state(ctx)
        state.highest_version.pop(name, None)
        state.policies.pop(name, None)
    STORE.changed()
    return {}


_SUMMARY_MEMBERS = (
    "ModelPackageGroupName",
    "ModelPackageVersion",
    "ModelPackageArn",
    "ModelPackageDescription",
    "CreationTime",
    "InferenceSpecification",
    "ModelPackageStatus",
    "ModelApprovalStatus",
)


@api.operation("BatchDescribeModelPackage")
def batch_describe_model_package(request: dict, ctx: RequestContext) -> dict:
    summaries, errors = {}, {}
    for arn in request["ModelPackageArnList"]:
        package = moto_state.describe_model_package(ctx.region, ctx.account_id, arn)
        if package is None or not package.get("ModelPackageVersion") or package.get("ModelPackageArn") != arn:
            errors[arn] = {
                "ErrorCode": "ValidationException",
                "ErrorResponse": f"Model package {arn} does not exist or is not versioned.",
            }
            continue
        summaries[arn] = {k: package[k] for k in _SUMMARY_MEMBERS if k in package}
    return {"ModelPackageSummaries": summaries, "BatchDescribeModelPackageErrorMap": errors}


@api.operation("PutModelPackageGroupPolicy")
def put_model_package_group_policy(request: dict, ctx: RequestContext) -> dict:
    name = _require_group(ctx, request["ModelPackageGroupName"])
    try:
        json.loads(request["ResourcePolicy"])
    except json.JSONDecodeError as exc:
        raise ValidationException(f"ResourcePolicy is not valid JSON: {exc}") from None
    with STORE.lock:
        _state(ctx).policies[name] = request["ResourcePolicy"]
    STORE.changed()
    return {"ModelPackageGroupArn": moto_state.model_package_group_arn(ctx.region, ctx.account_id, name)}


@api.operation("GetModelPackageGroupPolicy")
def get_model_package_group_policy(request: dict, ctx: RequestContext) -> dict:
    name = _require_group(ctx, request["ModelPackageGroupName"])
    policy = _state(ctx).policies.get(name)
    if policy is None:
        raise ValidationException(f"Model Package Group {name} has no resource policy.")
    return {"ResourcePolicy": policy}


@api.operation("DeleteModelPackageGroupPolicy")
def delete_model_package_group_policy(request: dict, ctx: RequestContext) -> dict:
    name = _require_group(ctx, request["ModelPackageGroupName"])
    with STORE.lock:
        if _state(ctx).policies.pop(name, None) is None:
            raise ValidationException(f"Model Package Group {name} has no resource policy.")
    STORE.changed()
    return {}
