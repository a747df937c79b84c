"""Model Registry calls moto lacks or gets wrong: deletes, group policies, batch describe, versions.

moto keeps the model packages and groups; this module works on moto's own records so that moto's
Describe/List/Update keep answering. Versions are numbered as AWS numbers them: one more than the
highest version the group ever had, so deleting version 1 of 2 does not hand out 2 again.
"""
from __future__ import annotations

import json
import threading

from moto.sagemaker.models import ModelPackage

from local_aws import moto_state
from local_aws.protocol import AwsError, RequestContext, json_action, on_reset


class ConflictException(AwsError):
    code = "ConflictException"


class ValidationException(AwsError):
    code = "ValidationException"


_lock = threading.Lock()
_highest_version: dict[tuple[str, str], int] = {}  # (region, group) -> highest version ever created
_group_policies: dict[tuple[str, str], str] = {}  # (region, group) -> resource policy JSON


@on_reset
def _forget() -> None:
    _highest_version.clear()
    _group_policies.clear()


def _backend(ctx: RequestContext):
    return moto_state.sagemaker(ctx.region, ctx.account_id)


def _group_name(name_or_arn: str) -> str:
    return name_or_arn.split(":model-package-group/")[-1]


def _require_group(ctx: RequestContext, name_or_arn: str) -> str:
    name = _group_name(name_or_arn)
    if name not in _backend(ctx).model_package_groups:
        raise ValidationException(f"Model Package Group {name} does not exist.")
    return name


def _versions(ctx: RequestContext, group: str) -> list[ModelPackage]:
    return [p for p in _backend(ctx).model_packages.values() if p.model_package_group_name == group]


@json_action("SageMaker", "CreateModelPackage")
def create_model_package(request: dict, ctx: RequestContext) -> dict:
    backend = _backend(ctx)
    group = request.get("ModelPackageGroupName")
    if not group or request.get("ModelPackageName"):
        # Unversioned packages (and the both/neither errors) are moto's as they are.
        arn = backend.create_model_package(**_moto_args(request, model_package_name=request.get("ModelPackageName"),
                                                        model_package_group_name=group))
        return {"ModelPackageArn": arn}
    group = _require_group(ctx, group)
    status = request.get("ModelApprovalStatus", "PendingManualApproval")
    if status not in ("Approved", "Rejected", "PendingManualApproval"):
        raise ValidationException(
            f"1 validation error detected: Value '{status}' at 'modelApprovalStatus' failed to satisfy constraint: "
            "Member must satisfy enum value set: [Approved, Rejected, PendingManualApproval]")
    with _lock:
        key = (ctx.region, group)
        version = max([_highest_version.get(key, 0)] + [p.model_package_version or 0 for p in _versions(ctx, group)]) + 1
        _highest_version[key] = version
        package = ModelPackage(
            model_package_name=group, model_package_group_name=group, model_package_version=version,
            approval_description=None, region_name=ctx.region, account_id=ctx.account_id,
            model_package_type="Versioned",
            **_moto_args(request, model_approval_status=status),
        )
        backend.model_package_name_mapping[package.arn] = package.arn
        backend.model_packages[package.arn] = package
    return {"ModelPackageArn": package.arn}


def _moto_args(request: dict, **fixed) -> dict:
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


@json_action("SageMaker", "DeleteModelPackage")
def delete_model_package(request: dict, ctx: RequestContext) -> dict:
    backend = _backend(ctx)
    name = request.get("ModelPackageName", "")
    arn = backend.model_package_name_mapping.get(name, name)
    package = backend.model_packages.get(arn)
    if package is None:
        raise ValidationException(f"Model package {name} does not exist.")
    with _lock:
        del backend.model_packages[arn]
        for key in [k for k, v in backend.model_package_name_mapping.items() if v == arn]:
            del backend.model_package_name_mapping[key]
    return {}


@json_action("SageMaker", "DeleteModelPackageGroup")
def delete_model_package_group(request: dict, ctx: RequestContext) -> dict:
    name = _require_group(ctx, request.get("ModelPackageGroupName", ""))
    remaining = _versions(ctx, name)
    if remaining:
        raise ConflictException(
            f"Model Package Group {name} cannot be deleted because it contains {len(remaining)} model "
            "package(s). Delete every version with DeleteModelPackage first.")
    with _lock:
        del _backend(ctx).model_package_groups[name]
        _highest_version.pop((ctx.region, name), None)
        _group_policies.pop((ctx.region, name), None)
    return {}


@json_action("SageMaker", "BatchDescribeModelPackage")
def batch_describe_model_package(request: dict, ctx: RequestContext) -> dict:
    backend = _backend(ctx)
    summaries, errors = {}, {}
    for arn in request.get("ModelPackageArnList", []):
        package = backend.model_packages.get(arn)
        if package is None or not package.model_package_version:
            errors[arn] = {"ErrorCode": "ValidationException",
                           "ErrorResponse": f"Model package {arn} does not exist or is not versioned."}
            continue
        full = package.gen_response_object()
        summaries[arn] = {k: full[k] for k in (
            "ModelPackageGroupName", "ModelPackageVersion", "ModelPackageArn", "ModelPackageDescription",
            "CreationTime", "InferenceSpecification", "ModelPackageStatus", "ModelApprovalStatus") if k in full}
    return {"ModelPackageSummaries": summaries, "BatchDescribeModelPackageErrorMap": errors}


@json_action("SageMaker", "PutModelPackageGroupPolicy")
def put_model_package_group_policy(request: dict, ctx: RequestContext) -> dict:
    name = _require_group(ctx, request.get("ModelPackageGroupName", ""))
    policy = request.get("ResourcePolicy", "")
    try:
        json.loads(policy)
    except json.JSONDecodeError as exc:
        raise ValidationException(f"ResourcePolicy is not valid JSON: {exc}") from None
    _group_policies[(ctx.region, name)] = policy
    return {"ModelPackageGroupArn": _backend(ctx).model_package_groups[name].arn}


@json_action("SageMaker", "GetModelPackageGroupPolicy")
def get_model_package_group_policy(request: dict, ctx: RequestContext) -> dict:
    name = _require_group(ctx, request.get("ModelPackageGroupName", ""))
    policy = _group_policies.get((ctx.region, name))
    if policy is None:
        raise ValidationException(f"Model Package Group {name} has no resource policy.")
    return {"ResourcePolicy": policy}


@json_action("SageMaker", "DeleteModelPackageGroupPolicy")
def delete_model_package_group_policy(request: dict, ctx: RequestContext) -> dict:
    name = _require_group(ctx, request.get("ModelPackageGroupName", ""))
    if _group_policies.pop((ctx.region, name), None) is None:
        raise ValidationException(f"Model Package Group {name} has no resource policy.")
    return {}
