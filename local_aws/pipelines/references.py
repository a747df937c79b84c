"""What a definition's expressions may name, checked as CreatePipeline checks it.

A `Get` must name a declared parameter, a known execution variable, the experiment config, or a
property of a defined step; a step property path is walked through the botocore shape of the step's
Describe response (DescribeProcessingJobResponse, ...), so `Steps.P.ProcessingOutputConfig.Outputz`
is refused before anything runs, as the service refuses it; a Lambda or Callback step's properties
are the OutputParameters it declares.
"""

from __future__ import annotations

from typing import Any

from botocore.model import Shape

from local_aws.core.gateway.service_models import service_model
from local_aws.pipelines.definition import DefinitionError, Step
from local_aws.pipelines.expressions import expressions, path_tokens

EXECUTION_VARIABLES = {
    "StartDateTime",
    "CurrentDateTime",
    "PipelineName",
    "PipelineArn",
    "PipelineExecutionId",
    "PipelineExecutionArn",
    "TrainingJobName",
    "ProcessingJobName",
}
# The botocore shapes a step's properties follow (what `Steps.<name>.<path>` may name).
PROPERTY_SHAPES = {
    "Processing": ["DescribeProcessingJobResponse"],
    "Training": ["DescribeTrainingJobResponse"],
    "Transform": ["DescribeTransformJobResponse"],
    "Tuning": ["DescribeHyperParameterTuningJobResponse", "ListTrainingJobsForHyperParameterTuningJobResponse"],
    "RegisterModel": ["DescribeModelPackageOutput"],
    "Model": ["DescribeModelOutput"],
    "AutoML": ["DescribeAutoMLJobResponse"],
    "EndpointConfig": ["DescribeEndpointConfigOutput"],
    "Endpoint": ["DescribeEndpointOutput"],
}


def check_step_references(step: Step, steps: dict[str, Step], parameters: dict[str, dict]) -> None:
    """The steps `step` depends on exist, and every expression in its own arguments resolves."""
    for dependency in step.depends_on:
        if dependency.step not in steps:
            raise DefinitionError(
                f"Step '{step.name}' DependsOn step '{dependency.step}', which is not defined in the pipeline."
            )
        if dependency.step == step.name:
            raise DefinitionError(f"Step '{step.name}' cannot depend on itself.")
    check_expressions(step.own_expressions, f"step '{step.name}'", steps, parameters, step)


def check_expressions(
    obj: Any, where: str, steps: dict[str, Step], parameters: dict[str, dict], step: Step | None = None
) -> None:
    """Every expression in obj is well formed and names something that exists."""
    for expr in expressions(obj):
        if "Std:Join" in expr:
            join = expr["Std:Join"]
            if (
                not isinstance(join, dict)
                or not isinstance(join.get("Values"), list)
                or not isinstance(join.get("On", ""), str)
            ):
                raise DefinitionError(f"Std:Join in {where} needs On (a string) and Values (a Json Array).")
        elif "Std:JsonGet" in expr:
            json_get = expr["Std:JsonGet"]
            if (
                not isinstance(json_get, dict)
                or not isinstance(json_get.get("Path"), str)
                or ("PropertyFile" in json_get) == ("S3Uri" in json_get)
            ):
                raise DefinitionError(f"Std:JsonGet in {where} needs a Path and exactly one of PropertyFile and S3Uri.")
            source = json_get.get("PropertyFile")
            if source is not None and not (
                isinstance(source, dict) and isinstance(source.get("Get"), str) and ".PropertyFiles." in source["Get"]
            ):
                raise DefinitionError(
                    f'Std:JsonGet in {where}: PropertyFile must be {{"Get": "Steps.<step>.PropertyFiles.<name>"}}.'
                )
        else:
            _check_get(expr["Get"], where, steps, parameters, step)


def _check_get(path: Any, where: str, steps: dict[str, Step], parameters: dict[str, dict], step: Step | None) -> None:
    if not isinstance(path, str):
        raise DefinitionError(f"Get in {where} must name a string path, got {path!r}.")
    namespace, _, rest = path.partition(".")
    if namespace == "Parameters":
        if rest not in parameters:
            raise DefinitionError(f"Invalid Get '{path}' in {where}: parameter '{rest}' is not declared in Parameters.")
    elif namespace == "Execution":
        if rest not in EXECUTION_VARIABLES:
            raise DefinitionError(
                f"Invalid Get '{path}' in {where}: unknown execution variable; "
                f"use one of {sorted(EXECUTION_VARIABLES)}."
            )
        job_variable = {"TrainingJobName": "Training", "ProcessingJobName": "Processing"}.get(rest)
        if job_variable and (step is None or step.type != job_variable):
            raise DefinitionError(f"Invalid Get '{path}' in {where}: it is only defined inside a {job_variable} step.")
    elif namespace == "PipelineExperimentConfig":
        if rest not in ("ExperimentName", "TrialName"):
            raise DefinitionError(
                f"Invalid Get '{path}' in {where}: use PipelineExperimentConfig.ExperimentName or .TrialName."
            )
    elif namespace == "Steps":
        _check_property_path(path, rest, where, steps)
    else:
        raise DefinitionError(
            f"Invalid Get '{path}' in {where}: it must start with Parameters., Execution., Steps. "
            "or PipelineExperimentConfig."
        )


def _check_property_path(path: str, rest: str, where: str, steps: dict[str, Step]) -> None:
    name, _, prop = rest.partition(".")
    target = steps.get(name)
    if target is None:
        raise DefinitionError(f"Invalid Get '{path}' in {where}: step '{name}' is not defined in the pipeline.")
    if prop.startswith("PropertyFiles."):
        file_name = prop[len("PropertyFiles.") :]
        if file_name not in target.property_files:
            raise DefinitionError(
                f"Invalid Get '{path}' in {where}: step '{name}' declares no property file '{file_name}' "
                f"(declared: {sorted(target.property_files)})."
            )
        return
    if not prop:
        raise DefinitionError(
            f"Invalid Get '{path}' in {where}: name a property of step '{name}', e.g. Steps.{name}.<Property>."
        )
    if target.type == "Fail":
        raise DefinitionError(f"Invalid Get '{path}' in {where}: a Fail step has no properties.")
    if target.type == "Condition":
        if prop != "Outcome":
            raise DefinitionError(f"Invalid Get '{path}' in {where}: a Condition step has only the property Outcome.")
        return
    tokens = path_tokens(prop)
    if tokens is None:
        raise DefinitionError(f"Invalid Get '{path}' in {where}: '{prop}' is not a property path.")
    if target.type in ("Lambda", "Callback"):
        declared = [o["OutputName"] for o in (target.members or {}).get("OutputParameters", [])]
        if len(tokens) != 2 or tokens[0] != "OutputParameters" or tokens[1] not in declared:
            raise DefinitionError(
                f"Invalid property reference '{path}' in {where}: a {target.type} step's properties "
                f"are its OutputParameters['<name>'], with <name> one of {declared}."
            )
        return
    shapes = PROPERTY_SHAPES.get(target.type)
    if shapes is None:
        return  # other step types local_aws does not run: their properties are not checked
    problems = [problem for problem in (_walk_shape(shape, tokens) for shape in shapes) if problem]
    if len(problems) == len(shapes):
        raise DefinitionError(f"Invalid property reference '{path}' in {where}: {problems[0]}.")


def _walk_shape(shape_name: str, tokens: list[str | int]) -> str | None:
    """None when the path exists in the shape, else what is wrong."""
    shape: Shape = service_model("sagemaker").shape_for(shape_name)
    for token in tokens:
        kind = shape.type_name
        if kind == "structure":
            if not isinstance(token, str) or token not in shape.members:
                return f"{shape.name} has no member {token!r}"
            shape = shape.members[token]
        elif kind == "list":
            shape = shape.member
        elif kind == "map":
            if not isinstance(token, str):
                return f"{shape.name} is a map; index it with a string key"
            shape = shape.value
        else:
            return f"{shape.name} is a {kind} and has no member {token!r}"
    return None
