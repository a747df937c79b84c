"""Pipeline requests: Create/Update/Describe/List/Delete Pipeline and ListPipelineVersions.

Create and Update take the definition as text or from S3 and validate it (local_aws.pipelines.parsing)
before keeping it as a new version. A definition in S3 is read through the gateway as the caller: SageMaker
retrieves it on the caller's request, so a caller who may not read the object is refused. Pipelines are
mirrored into moto's records (an adapter in local_aws.core.moto) only so that moto's AddTags/ListTags/DeleteTags
work on them.
"""

from __future__ import annotations

from local_aws.core import gateway
from local_aws.core.gateway.context import RequestContext
from local_aws.core.gateway.errors import AwsError, ConflictException, ResourceNotFound, ValidationException
from local_aws.core.gateway.paging import page
from local_aws.core.moto import state as moto_state
from local_aws.core.service import Api, drop_none, now
from local_aws.pipelines import models
from local_aws.pipelines.definition import Definition, DefinitionError
from local_aws.pipelines.execution import RUNNING
from local_aws.pipelines.models import DEFAULT_MAX_RESULTS, STORE, Pipeline, Version, created_between
from local_aws.pipelines.parsing import parse


def _definition(request: dict, ctx: RequestContext, required: bool) -> Definition | None:
    """The request's definition, read from S3 where it names a location, parsed and validated."""
    text, location = request.get("PipelineDefinition"), request.get("PipelineDefinitionS3Location")
    if text and location:
        raise ValidationException("Both Pipeline Definition and Pipeline Definition S3 Location shouldn't be present")
    if location:
        text = _read_definition(location, ctx)
    if not text:
        if required:
            raise ValidationException(
                "Either Pipeline Definition or Pipeline Definition S3 location should be provided"
            )
        return None
    try:
        return parse(text)
    except DefinitionError as exc:
        raise ValidationException(str(exc)) from None


def _read_definition(location: dict, ctx: RequestContext) -> str:
    """The definition's text at a PipelineDefinitionS3Location (its VersionId, if given), read as the caller."""
    bucket, key = location["Bucket"], location["ObjectKey"]
    request = {"Bucket": bucket, "Key": key}
    if "VersionId" in location:
        request["VersionId"] = location["VersionId"]
    try:
        data = gateway.call("s3", "GetObject", request, ctx.caller)["Body"]
    except AwsError as error:
        if error.code == "NoSuchBucket":
            reason = f"bucket {bucket} does not exist."
        elif error.code in ("NoSuchKey", "NoSuchVersion"):
            reason = "the object does not exist."
        else:  # the caller may not read it
            reason = f"{error.code}: {error.message}"
        raise ValidationException(
            f"Unable to read the pipeline definition from s3://{bucket}/{key}: {reason}"
        ) from None
    return data.decode("utf-8", errors="replace")


api = Api("sagemaker")


@api.operation("CreatePipeline")
def create_pipeline(request: dict, ctx: RequestContext) -> dict:
    name = request["PipelineName"]
    definition = _definition(request, ctx, required=True)
    arn = models.pipeline_arn(ctx, name)
    with STORE.lock:
        pipelines = models.state(ctx).pipelines
        if arn in pipelines:
            raise ValidationException(
                f"Pipeline names must be unique within an AWS account and region. "
                f"Pipeline with name ({name}) already exists."
            )
        pipeline = Pipeline(
            name=name,
            arn=arn,
            role_arn=request["RoleArn"],
            display_name=request.get("PipelineDisplayName") or name,
            description=request.get("PipelineDescription"),
            parallelism=request.get("ParallelismConfiguration"),
            versions=[Version(1, definition, now())],
        )
        pipelines[arn] = pipeline
        moto_state.mirror_pipeline(
            ctx.region,
            ctx.account_id,
            name,
            definition.text,
            pipeline.role_arn,
            list(request.get("Tags") or []),
            pipeline.display_name,
            pipeline.description,
            pipeline.parallelism,
        )
    STORE.changed()
    return {"PipelineArn": arn}


@api.operation("UpdatePipeline")
def update_pipeline(request: dict, ctx: RequestContext) -> dict:
    definition = _definition(request, ctx, required=False)
    with STORE.lock:
        pipeline = models.find_pipeline(ctx, request["PipelineName"])
        if definition is not None:
            pipeline.versions.append(Version(pipeline.latest.version_id + 1, definition, now()))
        pipeline.role_arn = request.get("RoleArn") or pipeline.role_arn
        pipeline.display_name = request.get("PipelineDisplayName") or pipeline.display_name
        if "PipelineDescription" in request:
            pipeline.description = request["PipelineDescription"]
        if request.get("ParallelismConfiguration"):
            pipeline.parallelism = request["ParallelismConfiguration"]
        pipeline.modified = now()
    STORE.changed()
    return {"PipelineArn": pipeline.arn, "PipelineVersionId": pipeline.latest.version_id}


@api.operation("DescribePipeline")
def describe_pipeline(request: dict, ctx: RequestContext) -> dict:
    with STORE.lock:
        pipeline = models.find_pipeline(ctx, request["PipelineName"])
        version = pipeline.version(request.get("PipelineVersionId"), ResourceNotFound)
        return drop_none(
            {
                "PipelineArn": pipeline.arn,
                "PipelineName": pipeline.name,
                "PipelineDisplayName": pipeline.display_name,
                "PipelineDefinition": version.definition.text,
                "PipelineDescription": pipeline.description,
                "RoleArn": pipeline.role_arn,
                "PipelineStatus": "Active",
                "CreationTime": pipeline.created,
                "LastModifiedTime": pipeline.modified,
                "LastRunTime": pipeline.last_run,
                "CreatedBy": {},
                "LastModifiedBy": {},
                "ParallelismConfiguration": pipeline.parallelism,
            }
        )


@api.operation("ListPipelines")
def list_pipelines(request: dict, ctx: RequestContext) -> dict:
    prefix = request.get("PipelineNamePrefix") or ""
    with STORE.lock:
        found = [
            p
            for p in models.state(ctx).pipelines.values()
            if p.name.startswith(prefix) and created_between(p.created, request)
        ]
    by_name = request.get("SortBy") == "Name"
    found.sort(
        key=lambda p: p.name if by_name else p.created, reverse=request.get("SortOrder", "Descending") == "Descending"
    )
    listed = page(found, request, ctx, DEFAULT_MAX_RESULTS, key=lambda p: p.arn)
    return listed.answer(
        {
            "PipelineSummaries": [
                drop_none(
                    {
                        "PipelineArn": p.arn,
                        "PipelineName": p.name,
                        "PipelineDisplayName": p.display_name,
                        "PipelineDescription": p.description,
                        "RoleArn": p.role_arn,
                        "CreationTime": p.created,
                        "LastModifiedTime": p.modified,
                        "LastExecutionTime": p.last_run,
                    }
                )
                for p in listed.items
            ]
        }
    )


@api.operation("ListPipelineVersions")
def list_pipeline_versions(request: dict, ctx: RequestContext) -> dict:
    with STORE.lock:
        pipeline = models.find_pipeline(ctx, request["PipelineName"])
        versions = [v for v in pipeline.versions if created_between(v.created, request)]
        executions = sorted(models.executions_of(models.state(ctx), pipeline.arn), key=lambda e: e.created)
    last_runs = {e.version_id: e.arn for e in executions}
    versions.sort(key=lambda v: v.version_id, reverse=request.get("SortOrder", "Descending") == "Descending")
    listed = page(versions, request, ctx, DEFAULT_MAX_RESULTS, scope=pipeline.arn)
    return listed.answer(
        {
            "PipelineVersionSummaries": [
                drop_none(
                    {
                        "PipelineArn": pipeline.arn,
                        "PipelineVersionId": v.version_id,
                        "CreationTime": v.created,
                        "LastExecutionPipelineExecutionArn": last_runs.get(v.version_id),
                    }
                )
                for v in listed.items
            ]
        }
    )


@api.operation("DeletePipeline")
def delete_pipeline(request: dict, ctx: RequestContext) -> dict:
    with STORE.lock:
        pipeline = models.find_pipeline(ctx, request["PipelineName"])
        state = models.state(ctx)
        executions = models.executions_of(state, pipeline.arn)
        running = [e.arn for e in executions if e.status in RUNNING]
        if running:
            raise ConflictException(
                f"Pipeline '{pipeline.arn}' has running executions {running}; stop them with "
                "StopPipelineExecution before deleting the pipeline."
            )
        del state.pipelines[pipeline.arn]
        for execution in executions:
            del state.executions[execution.arn]
        moto_state.drop_pipeline_mirror(ctx.region, ctx.account_id, pipeline.name)
    STORE.changed()
    return {"PipelineArn": pipeline.arn}
