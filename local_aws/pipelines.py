"""SageMaker Pipelines: pipelines, their versions and executions that really run (moto only records them).

Create/UpdatePipeline validate the definition (local_aws.pipeline_definition); StartPipelineExecution
checks the parameters, answers at once and runs the steps in the background
(local_aws.pipeline_executor). Executions live in the server, so any client (a second notebook, the
CLI) can follow them. ARNs follow AWS: the pipeline name lowercased, a 12-character execution id.
Pipelines are mirrored into moto's records only so that moto's AddTags/ListTags/DeleteTags work on them.
"""
from __future__ import annotations

import base64
import datetime as dt
import random
import re
import string
import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from moto.sagemaker.models import FakePipeline

from local_aws import moto_state, pipeline_definition as pdef, pipeline_executor as executor
from local_aws.pipeline_executor import Execution, StepRecord
from local_aws.protocol import AwsError, RequestContext, json_action, now, on_reset, on_shutdown


class ValidationException(AwsError):
    code = "ValidationException"


class ResourceNotFound(AwsError):
    code = "ResourceNotFound"


class ConflictException(AwsError):
    code = "ConflictException"


PIPELINE_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}$")
EXECUTION_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,81}$")
ROLE_ARN = re.compile(r"^arn:aws[a-z\-]*:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+$")
DEFAULT_MAX_RESULTS = 50


@dataclass
class Version:
    version_id: int
    definition: pdef.Definition
    created: dt.datetime


@dataclass
class Pipeline:
    name: str
    arn: str
    ctx: RequestContext
    role_arn: str
    display_name: str
    description: str | None
    parallelism: dict | None
    versions: list[Version]
    created: dt.datetime = field(default_factory=now)
    modified: dt.datetime = field(default_factory=now)
    last_run: dt.datetime | None = None
    start_tokens: dict[str, str] = field(default_factory=dict)  # ClientRequestToken -> execution ARN

    @property
    def latest(self) -> Version:
        return self.versions[-1]


_lock = threading.RLock()
_pipelines: dict[str, Pipeline] = {}  # pipeline ARN -> pipeline
_executions: dict[str, Execution] = {}  # execution ARN -> execution


def _stop_all(forget: bool) -> None:
    with _lock:
        running = [e for e in _executions.values() if e.status in ("Executing", "Stopping")]
    for execution in running:
        executor.request_stop(execution)
    for execution in running:
        executor.wait(execution, timeout=30)
    if forget:
        with _lock:
            _pipelines.clear()
            _executions.clear()


@on_reset
def _forget() -> None:
    _stop_all(forget=True)


@on_shutdown
def _stop_running() -> None:
    _stop_all(forget=False)


# --- lookups -------------------------------------------------------------------------------------

def _pipeline_arn(ctx: RequestContext, name: str) -> str:
    return f"arn:aws:sagemaker:{ctx.region}:{ctx.account_id}:pipeline/{name.lower()}"


def _find_pipeline(ctx: RequestContext, name_or_arn: str) -> Pipeline:
    arn = name_or_arn if name_or_arn.startswith("arn:") else _pipeline_arn(ctx, name_or_arn)
    pipeline = _pipelines.get(arn)
    if pipeline is None:
        raise ResourceNotFound(f"Pipeline '{arn}' does not exist.")
    return pipeline


def _find_execution(arn: str) -> Execution:
    execution = _executions.get(arn or "")
    if execution is None:
        raise ResourceNotFound(f"Pipeline execution '{arn}' does not exist.")
    return execution


def _version(pipeline: Pipeline, version_id: int | None, error: type[AwsError]) -> Version:
    """The pipeline's version with that id (the latest when None)."""
    if version_id is None:
        return pipeline.latest
    version = next((v for v in pipeline.versions if v.version_id == version_id), None)
    if version is None:
        raise error(f"Pipeline version {version_id} of pipeline '{pipeline.arn}' does not exist.")
    return version


def _required(request: dict, *names: str) -> None:
    missing = [n for n in names if request.get(n) in (None, "")]
    if missing:
        raise ValidationException(f"1 validation error detected: Value null at '{missing[0]}' failed to satisfy "
                                  "constraint: Member must not be null")


def _check_pattern(value: Any, pattern: re.Pattern, member: str) -> None:
    if value is not None and (not isinstance(value, str) or not pattern.match(value)):
        raise ValidationException(f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
                                  "constraint: Member must satisfy regular expression pattern: "
                                  f"{pattern.pattern.strip('^$')}")


def _check_parallelism(config: Any) -> dict | None:
    if config is None:
        return None
    steps = config.get("MaxParallelExecutionSteps") if isinstance(config, dict) else None
    if not isinstance(steps, int) or steps < 1:
        raise ValidationException(f"1 validation error detected: Value '{steps}' at "
                                  "'parallelismConfiguration.maxParallelExecutionSteps' failed to satisfy constraint: "
                                  "Member must have value greater than or equal to 1")
    return {"MaxParallelExecutionSteps": steps}


def _definition(request: dict, ctx: RequestContext, required: bool) -> pdef.Definition | None:
    text, location = request.get("PipelineDefinition"), request.get("PipelineDefinitionS3Location")
    if text and location:
        raise ValidationException("Both Pipeline Definition and Pipeline Definition S3 Location shouldn't be present")
    if location:
        _required(location, "Bucket", "ObjectKey")
        if not moto_state.bucket_exists(location["Bucket"], ctx.account_id):
            raise ValidationException(
                f"Unable to read the pipeline definition from S3: bucket {location['Bucket']} does not exist.")
        data = moto_state.get_object(location["Bucket"], location["ObjectKey"], ctx.account_id)
        if data is None:
            raise ValidationException(
                f"Unable to read the pipeline definition from s3://{location['Bucket']}/{location['ObjectKey']}: "
                "the object does not exist.")
        text = data.decode("utf-8", errors="replace")
    if not text:
        if required:
            raise ValidationException(
                "Either Pipeline Definition or Pipeline Definition S3 location should be provided")
        return None
    try:
        return pdef.parse(text)
    except pdef.DefinitionError as exc:
        raise ValidationException(str(exc)) from None


# --- pipelines -----------------------------------------------------------------------------------

@json_action("SageMaker", "CreatePipeline")
def create_pipeline(request: dict, ctx: RequestContext) -> dict:
    _required(request, "PipelineName", "RoleArn")
    name = request["PipelineName"]
    _check_pattern(name, PIPELINE_NAME, "pipelineName")
    _check_pattern(request.get("PipelineDisplayName"), PIPELINE_NAME, "pipelineDisplayName")
    _check_pattern(request["RoleArn"], ROLE_ARN, "roleArn")
    parallelism = _check_parallelism(request.get("ParallelismConfiguration"))
    definition = _definition(request, ctx, required=True)
    arn = _pipeline_arn(ctx, name)
    with _lock:
        if arn in _pipelines:
            raise ValidationException(f"Pipeline names must be unique within an AWS account and region. "
                                      f"Pipeline with name ({name}) already exists.")
        pipeline = Pipeline(name=name, arn=arn, ctx=ctx, role_arn=request["RoleArn"],
                            display_name=request.get("PipelineDisplayName") or name,
                            description=request.get("PipelineDescription"), parallelism=parallelism,
                            versions=[Version(1, definition, now())])
        _pipelines[arn] = pipeline
        moto_state.sagemaker(ctx.region, ctx.account_id).pipelines[name.lower()] = FakePipeline(
            name, pipeline.display_name, definition.text, pipeline.description, pipeline.role_arn,
            list(request.get("Tags") or []), ctx.account_id, ctx.region, parallelism)
    return {"PipelineArn": arn}


@json_action("SageMaker", "UpdatePipeline")
def update_pipeline(request: dict, ctx: RequestContext) -> dict:
    _required(request, "PipelineName")
    _check_pattern(request.get("PipelineDisplayName"), PIPELINE_NAME, "pipelineDisplayName")
    _check_pattern(request.get("RoleArn"), ROLE_ARN, "roleArn")
    parallelism = _check_parallelism(request.get("ParallelismConfiguration"))
    definition = _definition(request, ctx, required=False)
    with _lock:
        pipeline = _find_pipeline(ctx, request["PipelineName"])
        if definition is not None:
            pipeline.versions.append(Version(pipeline.latest.version_id + 1, definition, now()))
        pipeline.role_arn = request.get("RoleArn") or pipeline.role_arn
        pipeline.display_name = request.get("PipelineDisplayName") or pipeline.display_name
        if "PipelineDescription" in request:
            pipeline.description = request["PipelineDescription"]
        if parallelism:
            pipeline.parallelism = parallelism
        pipeline.modified = now()
        mirrored = moto_state.sagemaker(ctx.region, ctx.account_id).pipelines.get(pipeline.name.lower())
        if mirrored is not None:
            mirrored.pipeline_definition = pipeline.latest.definition.text
    return {"PipelineArn": pipeline.arn, "PipelineVersionId": pipeline.latest.version_id}


@json_action("SageMaker", "DescribePipeline")
def describe_pipeline(request: dict, ctx: RequestContext) -> dict:
    _required(request, "PipelineName")
    with _lock:
        pipeline = _find_pipeline(ctx, request["PipelineName"])
        version = _version(pipeline, request.get("PipelineVersionId"), ResourceNotFound)
        body = {
            "PipelineArn": pipeline.arn, "PipelineName": pipeline.name, "PipelineDisplayName": pipeline.display_name,
            "PipelineDefinition": version.definition.text, "RoleArn": pipeline.role_arn, "PipelineStatus": "Active",
            "CreationTime": pipeline.created, "LastModifiedTime": pipeline.modified, "CreatedBy": {},
            "LastModifiedBy": {},
        }
        _put(body, PipelineDescription=pipeline.description, LastRunTime=pipeline.last_run,
             ParallelismConfiguration=pipeline.parallelism)
    return body


def _put(body: dict, **values: Any) -> None:
    body.update({k: v for k, v in values.items() if v is not None})


@json_action("SageMaker", "ListPipelines")
def list_pipelines(request: dict, ctx: RequestContext) -> dict:
    prefix = request.get("PipelineNamePrefix") or ""
    with _lock:
        found = [p for p in _pipelines.values() if p.ctx.region == ctx.region and p.ctx.account_id == ctx.account_id
                 and p.name.startswith(prefix) and _created_between(p.created, request)]
        key = (lambda p: p.name) if request.get("SortBy") == "Name" else (lambda p: p.created)
        found.sort(key=key, reverse=request.get("SortOrder", "Descending") == "Descending")
        page, token = _page(found, request)
        summaries = []
        for p in page:
            summary = {"PipelineArn": p.arn, "PipelineName": p.name, "PipelineDisplayName": p.display_name,
                       "RoleArn": p.role_arn, "CreationTime": p.created, "LastModifiedTime": p.modified}
            _put(summary, PipelineDescription=p.description, LastExecutionTime=p.last_run)
            summaries.append(summary)
    return _with_token({"PipelineSummaries": summaries}, token)


def _created_between(created: dt.datetime, request: dict) -> bool:
    after, before = request.get("CreatedAfter"), request.get("CreatedBefore")
    stamp = created.timestamp()
    return (after is None or stamp > float(after)) and (before is None or stamp < float(before))


def _page(items: list, request: dict) -> tuple[list, str | None]:
    """One page of items and the NextToken for the rest (an opaque offset)."""
    start = 0
    if request.get("NextToken"):
        try:
            start = int(base64.urlsafe_b64decode(request["NextToken"].encode()).decode())
        except ValueError:
            raise ValidationException(f"Invalid pagination token {request['NextToken']!r}.") from None
    size = request.get("MaxResults") or DEFAULT_MAX_RESULTS
    end = start + size
    token = base64.urlsafe_b64encode(str(end).encode()).decode() if end < len(items) else None
    return items[start:end], token


def _with_token(body: dict, token: str | None) -> dict:
    if token:
        body["NextToken"] = token
    return body


@json_action("SageMaker", "ListPipelineVersions")
def list_pipeline_versions(request: dict, ctx: RequestContext) -> dict:
    _required(request, "PipelineName")
    with _lock:
        pipeline = _find_pipeline(ctx, request["PipelineName"])
        versions = [v for v in pipeline.versions if _created_between(v.created, request)]
        last_runs = {e.version_id: e for e in sorted(_executions.values(), key=lambda e: e.created)
                     if e.pipeline_arn == pipeline.arn}
    versions.sort(key=lambda v: v.version_id, reverse=request.get("SortOrder", "Descending") == "Descending")
    page, token = _page(versions, request)
    summaries = []
    for version in page:
        summary = {"PipelineArn": pipeline.arn, "PipelineVersionId": version.version_id,
                   "CreationTime": version.created}
        if version.version_id in last_runs:
            summary["LastExecutionPipelineExecutionArn"] = last_runs[version.version_id].arn
        summaries.append(summary)
    return _with_token({"PipelineVersionSummaries": summaries}, token)


@json_action("SageMaker", "DeletePipeline")
def delete_pipeline(request: dict, ctx: RequestContext) -> dict:
    _required(request, "PipelineName")
    with _lock:
        pipeline = _find_pipeline(ctx, request["PipelineName"])
        running = [e.arn for e in _executions.values()
                   if e.pipeline_arn == pipeline.arn and e.status in ("Executing", "Stopping")]
        if running:
            raise ConflictException(f"Pipeline '{pipeline.arn}' has running executions {running}; stop them with "
                                    "StopPipelineExecution before deleting the pipeline.")
        del _pipelines[pipeline.arn]
        for arn in [a for a, e in _executions.items() if e.pipeline_arn == pipeline.arn]:
            del _executions[arn]
        moto_state.sagemaker(ctx.region, ctx.account_id).pipelines.pop(pipeline.name.lower(), None)
    return {"PipelineArn": pipeline.arn}


# --- executions ----------------------------------------------------------------------------------

def _execution_parameters(definition: pdef.Definition, given: list[dict]) -> tuple[dict[str, Any], list[dict]]:
    """Typed values for every declared parameter, and the [{Name, Value}] list the execution reports."""
    values: dict[str, str] = {}
    for item in given or []:
        name, value = item.get("Name"), item.get("Value")
        if name in values:
            raise ValidationException(f"Pipeline parameter '{name}' is given more than once.")
        if name not in definition.parameters:
            raise ValidationException(
                f"Pipeline parameter '{name}' is not defined in the pipeline definition; "
                f"declared parameters: {sorted(definition.parameters)}.")
        values[name] = value
    typed, listed = {}, []
    for name, spec in definition.parameters.items():
        if name in values:
            try:
                typed[name] = pdef.typed_value(spec["Type"], values[name])
            except ValueError:
                raise ValidationException(
                    f"Value '{values[name]}' of pipeline parameter '{name}' is not a valid {spec['Type']}.") from None
            text = values[name]
        elif "DefaultValue" in spec:
            typed[name] = pdef.typed_value(spec["Type"], spec["DefaultValue"])
            text = pdef.to_text(typed[name])
        else:
            raise ValidationException(
                f"Pipeline parameter '{name}' has no default value, so StartPipelineExecution must give it a value.")
        if spec.get("EnumValues") and typed[name] not in spec["EnumValues"]:
            raise ValidationException(
                f"Value '{text}' of pipeline parameter '{name}' is not one of {spec['EnumValues']}.")
        listed.append({"Name": name, "Value": text})
    return typed, listed


def _execution_id() -> str:
    return "".join(random.choices(string.ascii_lowercase + string.digits, k=12))


@json_action("SageMaker", "StartPipelineExecution")
def start_pipeline_execution(request: dict, ctx: RequestContext) -> dict:
    _required(request, "PipelineName")
    _check_pattern(request.get("PipelineExecutionDisplayName"), EXECUTION_NAME, "pipelineExecutionDisplayName")
    parallelism = _check_parallelism(request.get("ParallelismConfiguration"))
    with _lock:
        pipeline = _find_pipeline(ctx, request["PipelineName"])
        token = request.get("ClientRequestToken")
        if token and token in pipeline.start_tokens:
            return {"PipelineExecutionArn": pipeline.start_tokens[token]}
        version = _version(pipeline, request.get("PipelineVersionId"), ValidationException)
        typed, listed = _execution_parameters(version.definition, request.get("PipelineParameters") or [])
        selective = request.get("SelectiveExecutionConfig")
        source = _selective_source(pipeline, version.definition, selective) if selective else None
        execution_id = _execution_id()
        created = now()
        execution = Execution(
            arn=f"{pipeline.arn}/execution/{execution_id}", execution_id=execution_id, pipeline_name=pipeline.name,
            pipeline_arn=pipeline.arn, role_arn=request.get("RoleArn") or pipeline.role_arn,
            definition=version.definition,
            parameters=typed, parameter_list=listed, ctx=ctx,
            display_name=request.get("PipelineExecutionDisplayName") or f"execution-{int(created.timestamp() * 1000)}",
            description=request.get("PipelineExecutionDescription"), parallelism=parallelism or pipeline.parallelism,
            version_id=version.version_id, created=created, modified=created, find_cached=_find_cached)
        if version.definition.experiment_config:
            try:
                execution.experiment = pdef.evaluate(version.definition.experiment_config, execution.scope())
            except pdef.EvaluationError as exc:
                raise ValidationException(f"PipelineExperimentConfig cannot be evaluated: {exc}") from None
        if selective:
            execution.selective = selective
            executor.reuse(execution, source, [s["StepName"] for s in selective["SelectedSteps"]])
        _executions[execution.arn] = execution
        pipeline.last_run = created
        if token:
            pipeline.start_tokens[token] = execution.arn
    executor.start(execution)
    return {"PipelineExecutionArn": execution.arn}


def _selective_source(pipeline: Pipeline, definition: pdef.Definition, config: dict) -> Execution:
    """The execution whose results the steps a selective execution does not run are taken from."""
    selected = [item.get("StepName") for item in config.get("SelectedSteps") or []]
    if not selected:
        raise ValidationException("SelectiveExecutionConfig.SelectedSteps must name at least one step.")
    unknown = [name for name in selected if name not in definition.steps]
    if unknown:
        raise ValidationException(f"Selected steps {unknown} are not defined in the pipeline definition.")
    source_arn = config.get("SourcePipelineExecutionArn")
    source = _executions.get(source_arn or "")
    if source is None or source.pipeline_arn != pipeline.arn:
        raise ValidationException(f"Invalid SourcePipelineExecutionArn: {source_arn or 'null'}. It must be an "
                                  f"execution of pipeline '{pipeline.arn}'.")
    with source.lock:
        if source.status in ("Executing", "Stopping"):
            raise ValidationException(f"Source pipeline execution '{source_arn}' is still {source.status}.")
        missing = sorted(name for name in pdef.ancestors(definition, selected)
                         if getattr(source.steps.get(name), "status", None) != "Succeeded")
    if missing:
        raise ValidationException(f"Invalid SourcePipelineExecutionArn: {source_arn}. The selected steps {selected} "
                                  f"have dependencies on {missing}, which did not succeed in that execution.")
    return source


def _find_cached(pipeline_arn: str, step_name: str, key: str,
                 expire_after: dt.timedelta | None) -> tuple[str, StepRecord] | None:
    """The newest successful, unexpired run of this step with these arguments in this pipeline."""
    oldest = now() - expire_after if expire_after else None
    with _lock:
        candidates = [e for e in _executions.values() if e.pipeline_arn == pipeline_arn]
    best: tuple[str, StepRecord] | None = None
    for execution in candidates:
        with execution.lock:
            record = execution.steps.get(step_name)
            if record is None or record.status != "Succeeded" or record.cache_key != key:
                continue
            if oldest and record.end_time and record.end_time < oldest:
                continue
            if best is None or record.end_time > best[1].end_time:
                best = (execution.arn, record)
    return best


def _execution_body(execution: Execution) -> dict:
    body = {
        "PipelineArn": execution.pipeline_arn, "PipelineExecutionArn": execution.arn,
        "PipelineExecutionDisplayName": execution.display_name, "PipelineExecutionStatus": execution.status,
        "CreationTime": execution.created, "LastModifiedTime": execution.modified, "CreatedBy": {},
        "LastModifiedBy": {}, "PipelineVersionId": execution.version_id,
    }
    _put(body, PipelineExecutionDescription=execution.description, FailureReason=execution.failure_reason,
         ParallelismConfiguration=execution.parallelism, SelectiveExecutionConfig=execution.selective,
         PipelineExperimentConfig=execution.experiment or None)
    return body


@json_action("SageMaker", "DescribePipelineExecution")
def describe_pipeline_execution(request: dict, ctx: RequestContext) -> dict:
    _required(request, "PipelineExecutionArn")
    execution = _find_execution(request["PipelineExecutionArn"])
    with execution.lock:
        return _execution_body(execution)


@json_action("SageMaker", "ListPipelineExecutions")
def list_pipeline_executions(request: dict, ctx: RequestContext) -> dict:
    _required(request, "PipelineName")
    with _lock:
        pipeline = _find_pipeline(ctx, request["PipelineName"])
        found = [e for e in _executions.values()
                 if e.pipeline_arn == pipeline.arn and _created_between(e.created, request)]
    by_arn = request.get("SortBy") == "PipelineExecutionArn"
    key: Callable[[Execution], Any] = (lambda e: e.arn) if by_arn else (lambda e: e.created)
    found.sort(key=key, reverse=request.get("SortOrder", "Descending") == "Descending")
    page, token = _page(found, request)
    summaries = []
    for execution in page:
        with execution.lock:
            summary = {"PipelineExecutionArn": execution.arn, "StartTime": execution.created,
                       "PipelineExecutionStatus": execution.status,
                       "PipelineExecutionDisplayName": execution.display_name}
            _put(summary, PipelineExecutionDescription=execution.description,
                 PipelineExecutionFailureReason=execution.failure_reason)
        summaries.append(summary)
    return _with_token({"PipelineExecutionSummaries": summaries}, token)


@json_action("SageMaker", "ListPipelineExecutionSteps")
def list_pipeline_execution_steps(request: dict, ctx: RequestContext) -> dict:
    _required(request, "PipelineExecutionArn")
    execution = _find_execution(request["PipelineExecutionArn"])
    with execution.lock:
        records = sorted(execution.steps.values(), key=lambda r: r.start_time,
                         reverse=request.get("SortOrder", "Descending") == "Descending")
        page, token = _page(records, request)
        return _with_token({"PipelineExecutionSteps": [r.summary() for r in page]}, token)


@json_action("SageMaker", "StopPipelineExecution")
def stop_pipeline_execution(request: dict, ctx: RequestContext) -> dict:
    _required(request, "PipelineExecutionArn")
    execution = _find_execution(request["PipelineExecutionArn"])
    with execution.lock:
        if execution.status in executor.TERMINAL_EXECUTION and execution.status != "Stopped":
            raise ConflictException(
                f"Pipeline execution '{execution.arn}' is {execution.status} and cannot be stopped.")
    executor.request_stop(execution)
    return {"PipelineExecutionArn": execution.arn}


@json_action("SageMaker", "RetryPipelineExecution")
def retry_pipeline_execution(request: dict, ctx: RequestContext) -> dict:
    _required(request, "PipelineExecutionArn")
    parallelism = _check_parallelism(request.get("ParallelismConfiguration"))
    execution = _find_execution(request["PipelineExecutionArn"])
    with execution.lock:
        if execution.status not in ("Failed", "Stopped"):
            raise ConflictException(f"Pipeline execution '{execution.arn}' is {execution.status}; only Failed or "
                                    "Stopped executions can be retried.")
        if execution.coordinator is not None and execution.coordinator.is_alive():
            raise ConflictException(f"Pipeline execution '{execution.arn}' is still finishing; retry in a moment.")
        executor.prepare_retry(execution, parallelism)
    executor.start(execution)
    return {"PipelineExecutionArn": execution.arn}


@json_action("SageMaker", "UpdatePipelineExecution")
def update_pipeline_execution(request: dict, ctx: RequestContext) -> dict:
    _required(request, "PipelineExecutionArn")
    _check_pattern(request.get("PipelineExecutionDisplayName"), EXECUTION_NAME, "pipelineExecutionDisplayName")
    parallelism = _check_parallelism(request.get("ParallelismConfiguration"))
    execution = _find_execution(request["PipelineExecutionArn"])
    with execution.lock:
        if "PipelineExecutionDescription" in request:
            execution.description = request["PipelineExecutionDescription"]
        if request.get("PipelineExecutionDisplayName"):
            execution.display_name = request["PipelineExecutionDisplayName"]
        if parallelism:
            execution.parallelism = parallelism
            execution.lock.notify_all()
        execution.modified = now()
    return {"PipelineExecutionArn": execution.arn}


@json_action("SageMaker", "DescribePipelineDefinitionForExecution")
def describe_pipeline_definition_for_execution(request: dict, ctx: RequestContext) -> dict:
    _required(request, "PipelineExecutionArn")
    execution = _find_execution(request["PipelineExecutionArn"])
    return {"PipelineDefinition": execution.definition.text, "CreationTime": execution.created}


@json_action("SageMaker", "ListPipelineParametersForExecution")
def list_pipeline_parameters_for_execution(request: dict, ctx: RequestContext) -> dict:
    _required(request, "PipelineExecutionArn")
    execution = _find_execution(request["PipelineExecutionArn"])
    page, token = _page(execution.parameter_list, request)
    return _with_token({"PipelineParameters": page}, token)

