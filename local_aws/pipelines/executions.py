"""Execution requests: Start/Describe/List/Stop/Retry/Update PipelineExecution, their steps,
definitions and parameters.

StartPipelineExecution checks the parameters (and, for a selective execution, its source execution),
records the execution's experiment and trial (local_aws.pipelines.experiments), answers at once and
runs the steps in the background (local_aws.pipelines.executor). Executions are found in the caller's
account and region. A reset stops every running execution (waiting for its jobs to stop) once the store
has forgotten them all; a shutdown stops them the same way, and they are saved Stopped.
"""

from __future__ import annotations

import random
import string

from local_aws.core.gateway import validation
from local_aws.core.gateway.context import RequestContext
from local_aws.core.gateway.errors import ConflictException, ResourceNotFound, ValidationException
from local_aws.core.gateway.paging import page
from local_aws.core.service import Api, drop_none, now
from local_aws.pipelines import executor, experiments, models
from local_aws.pipelines.definition import Definition, ancestors
from local_aws.pipelines.execution import TERMINAL_EXECUTION, Execution
from local_aws.pipelines.expressions import EvaluationError, evaluate
from local_aws.pipelines.models import DEFAULT_MAX_RESULTS, STORE, Pipeline, created_between
from local_aws.pipelines.parameters import execution_values
from local_aws.pipelines.scope import scope_of


def _execution_id() -> str:
    return "".join(random.choices(string.ascii_lowercase + string.digits, k=12))


api = Api("sagemaker")


@api.operation("StartPipelineExecution")
def start_pipeline_execution(request: dict, ctx: RequestContext) -> dict:
    token = request.get("ClientRequestToken")
    with STORE.lock:
        pipeline = models.find_pipeline(ctx, request["PipelineName"])
        if token and token in pipeline.start_tokens:
            return {"PipelineExecutionArn": pipeline.start_tokens[token]}
        version = pipeline.version(request.get("PipelineVersionId"), ValidationException)
        typed, listed = execution_values(version.definition, request.get("PipelineParameters") or [])
        selective = request.get("SelectiveExecutionConfig")
        source = _selective_source(ctx, pipeline, version.definition, selective) if selective else None
        execution_id = _execution_id()
        created = now()
        execution = Execution(
            arn=f"{pipeline.arn}/execution/{execution_id}",
            execution_id=execution_id,
            pipeline_name=pipeline.name,
            pipeline_arn=pipeline.arn,
            role_arn=request.get("RoleArn") or pipeline.role_arn,
            account_id=ctx.account_id,
            region=ctx.region,
            definition=version.definition,
            parameters=typed,
            parameter_list=listed,
            display_name=request.get("PipelineExecutionDisplayName") or f"execution-{int(created.timestamp() * 1000)}",
            description=request.get("PipelineExecutionDescription"),
            parallelism=request.get("ParallelismConfiguration") or pipeline.parallelism,
            version_id=version.version_id,
            created=created,
            modified=created,
        )
        if source is not None:
            execution.selective = selective
            executor.reuse(execution, source, [s["StepName"] for s in selective["SelectedSteps"]])
    experiment = version.definition.experiment_config
    if experiment:
        execution.experiment = _evaluated(experiment, execution, "PipelineExperimentConfig")
    execution.mlflow = _mlflow(version.definition, execution, request.get("MlflowExperimentName"))
    experiments.record(execution)  # calls SageMaker Experiments: outside the store's lock
    with STORE.lock:
        if models.find_pipeline(ctx, pipeline.arn) is not pipeline:  # deleted meanwhile (and made again)
            raise ResourceNotFound(f"Pipeline '{pipeline.arn}' does not exist.")
        if token and token in pipeline.start_tokens:  # the same request, answered meanwhile
            return {"PipelineExecutionArn": pipeline.start_tokens[token]}
        models.state(ctx).executions[execution.arn] = execution
        pipeline.last_run = created
        if token:
            pipeline.start_tokens[token] = execution.arn
    STORE.changed()
    executor.start(execution)
    return {"PipelineExecutionArn": execution.arn}


def _evaluated(config: dict, execution: Execution, member: str) -> dict:
    try:
        return evaluate(config, scope_of(execution))
    except EvaluationError as exc:
        raise ValidationException(f"{member} cannot be evaluated: {exc}") from None


def _mlflow(definition: Definition, execution: Execution, experiment_name: str | None) -> dict | None:
    """The execution's MLflow settings: the definition's MlflowConfig, its experiment name replaced by the
    one StartPipelineExecution names (for this execution only)."""
    config = _evaluated(definition.mlflow_config, execution, "MlflowConfig") if definition.mlflow_config else {}
    if experiment_name:
        config["MlflowExperimentName"] = experiment_name
    return config or None


def _selective_source(ctx: RequestContext, pipeline: Pipeline, definition: Definition, config: dict) -> Execution:
    """The execution whose results the steps a selective execution does not run are taken from (the store's lock
    is held)."""
    selected = [item["StepName"] for item in config["SelectedSteps"]]
    unknown = [name for name in selected if name not in definition.steps]
    if unknown:
        raise ValidationException(f"Selected steps {unknown} are not defined in the pipeline definition.")
    source_arn = config.get("SourcePipelineExecutionArn")
    source = models.state(ctx).executions.get(source_arn or "")
    if source is None or source.pipeline_arn != pipeline.arn:
        raise ValidationException(
            f"Invalid SourcePipelineExecutionArn: {source_arn or 'null'}. It must be an "
            f"execution of pipeline '{pipeline.arn}'."
        )
    if source.status not in ("Succeeded", "Failed"):  # AWS's rule for a selective execution's source
        raise ValidationException(
            f"Source pipeline execution '{source_arn}' is {source.status}: the source of a "
            "selective execution must have Succeeded or Failed."
        )
    missing = sorted(
        name
        for name in ancestors(definition, selected)
        if getattr(source.steps.get(name), "status", None) != "Succeeded"
    )
    if missing:
        raise ValidationException(
            f"Invalid SourcePipelineExecutionArn: {source_arn}. The selected steps {selected} "
            f"have dependencies on {missing}, which did not succeed in that execution."
        )
    return source


@api.operation("DescribePipelineExecution")
def describe_pipeline_execution(request: dict, ctx: RequestContext) -> dict:
    execution = models.find_execution(ctx, request["PipelineExecutionArn"])
    with STORE.lock:
        return drop_none(
            {
                "PipelineArn": execution.pipeline_arn,
                "PipelineExecutionArn": execution.arn,
                "PipelineExecutionDisplayName": execution.display_name,
                "PipelineExecutionStatus": execution.status,
                "PipelineExecutionDescription": execution.description,
                "PipelineExperimentConfig": execution.experiment or None,
                "FailureReason": execution.failure_reason,
                "CreationTime": execution.created,
                "LastModifiedTime": execution.modified,
                "CreatedBy": {},
                "LastModifiedBy": {},
                "ParallelismConfiguration": execution.parallelism,
                "SelectiveExecutionConfig": execution.selective,
                "PipelineVersionId": execution.version_id,
                "MLflowConfig": execution.mlflow,
            }
        )


@api.operation("ListPipelineExecutions")
def list_pipeline_executions(request: dict, ctx: RequestContext) -> dict:
    with STORE.lock:
        pipeline = models.find_pipeline(ctx, request["PipelineName"])
        found = [
            e for e in models.executions_of(models.state(ctx), pipeline.arn) if created_between(e.created, request)
        ]
    by_arn = request.get("SortBy") == "PipelineExecutionArn"
    found.sort(
        key=lambda e: e.arn if by_arn else e.created, reverse=request.get("SortOrder", "Descending") == "Descending"
    )
    listed = page(found, request, ctx, DEFAULT_MAX_RESULTS, scope=pipeline.arn, key=lambda e: e.arn)
    with STORE.lock:
        summaries = [
            drop_none(
                {
                    "PipelineExecutionArn": execution.arn,
                    "StartTime": execution.created,
                    "PipelineExecutionStatus": execution.status,
                    "PipelineExecutionDescription": execution.description,
                    "PipelineExecutionDisplayName": execution.display_name,
                    "PipelineExecutionFailureReason": execution.failure_reason,
                }
            )
            for execution in listed.items
        ]
    return listed.answer({"PipelineExecutionSummaries": summaries})


@api.operation("ListPipelineExecutionSteps")
def list_pipeline_execution_steps(request: dict, ctx: RequestContext) -> dict:
    validation.require(ctx.service, request, "PipelineExecutionArn")  # optional in the model, needed here
    execution = models.find_execution(ctx, request["PipelineExecutionArn"])
    with STORE.lock:
        records = sorted(
            execution.steps.values(),
            key=lambda r: r.start_time,
            reverse=request.get("SortOrder", "Descending") == "Descending",
        )
        listed = page(records, request, ctx, DEFAULT_MAX_RESULTS, scope=execution.arn, key=lambda r: r.step.name)
        return listed.answer({"PipelineExecutionSteps": [r.summary() for r in listed.items]})


@api.operation("StopPipelineExecution")
def stop_pipeline_execution(request: dict, ctx: RequestContext) -> dict:
    execution = models.find_execution(ctx, request["PipelineExecutionArn"])
    with STORE.lock:
        if execution.status in TERMINAL_EXECUTION and execution.status != "Stopped":
            raise ConflictException(
                f"Pipeline execution '{execution.arn}' is {execution.status} and cannot be stopped."
            )
    executor.request_stop(execution)
    return {"PipelineExecutionArn": execution.arn}


@api.operation("RetryPipelineExecution")
def retry_pipeline_execution(request: dict, ctx: RequestContext) -> dict:
    execution = models.find_execution(ctx, request["PipelineExecutionArn"])
    with STORE.lock:
        if execution.status not in ("Failed", "Stopped"):
            raise ConflictException(
                f"Pipeline execution '{execution.arn}' is {execution.status}; only Failed or "
                "Stopped executions can be retried."
            )
        if executor.is_running(execution.arn):
            raise ConflictException(f"Pipeline execution '{execution.arn}' is still finishing; retry in a moment.")
        executor.prepare_retry(execution, request.get("ParallelismConfiguration"))
    executor.start(execution)
    return {"PipelineExecutionArn": execution.arn}


@api.operation("UpdatePipelineExecution")
def update_pipeline_execution(request: dict, ctx: RequestContext) -> dict:
    execution = models.find_execution(ctx, request["PipelineExecutionArn"])
    with STORE.lock:
        if "PipelineExecutionDescription" in request:
            execution.description = request["PipelineExecutionDescription"]
        if request.get("PipelineExecutionDisplayName"):
            execution.display_name = request["PipelineExecutionDisplayName"]
        if request.get("ParallelismConfiguration"):
            execution.parallelism = request["ParallelismConfiguration"]
        execution.modified = now()
    STORE.changed()
    executor.wake(execution)
    return {"PipelineExecutionArn": execution.arn}


@api.operation("DescribePipelineDefinitionForExecution")
def describe_pipeline_definition_for_execution(request: dict, ctx: RequestContext) -> dict:
    execution = models.find_execution(ctx, request["PipelineExecutionArn"])
    return {"PipelineDefinition": execution.definition.text, "CreationTime": execution.created}


@api.operation("ListPipelineParametersForExecution")
def list_pipeline_parameters_for_execution(request: dict, ctx: RequestContext) -> dict:
    execution = models.find_execution(ctx, request["PipelineExecutionArn"])
    listed = page(execution.parameter_list, request, ctx, DEFAULT_MAX_RESULTS, scope=execution.arn)
    return listed.answer({"PipelineParameters": listed.items})
