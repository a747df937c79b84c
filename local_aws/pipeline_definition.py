"""A SageMaker pipeline definition: parse and validate it as CreatePipeline does, evaluate its expressions.

The definition is the JSON the SDK's `Pipeline.definition()` emits (schema version 2020-12-01):
parameters, steps (with Condition steps nesting their IfSteps/ElseSteps), and expressions inside
step arguments: `{"Get": "Parameters.X" | "Execution.X" | "Steps.S.<property path>" |
"PipelineExperimentConfig.X"}`, `{"Std:Join": {"On", "Values"}}` and `{"Std:JsonGet": {"PropertyFile"
| "S3Uri", "Path"}}`. Property paths are checked against the botocore shape of the step's Describe
response (DescribeProcessingJobResponse, ...), as the service checks them.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable, Iterator

SCHEMA_VERSION = "2020-12-01"

STEP_TYPES = {
    "Training", "Processing", "Transform", "Tuning", "Model", "RegisterModel", "Condition", "Fail",
    "Callback", "Lambda", "QualityCheck", "ClarifyCheck", "EMR", "EMRServerless", "AutoML",
    "EndpointConfig", "Endpoint", "InferenceComponent", "Lineage", "Job", "Cleanup", "ForEach",
}
JOB_STEP_TYPES = {"Training", "Processing", "Transform", "Tuning"}
CACHEABLE_STEP_TYPES = JOB_STEP_TYPES | {"AutoML", "EMR", "QualityCheck", "ClarifyCheck"}
# The botocore shape a step's properties follow (what `Steps.<name>.<path>` may name).
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
EXECUTION_VARIABLES = {
    "StartDateTime", "CurrentDateTime", "PipelineName", "PipelineArn", "PipelineExecutionId",
    "PipelineExecutionArn", "TrainingJobName", "ProcessingJobName",
}
PARAMETER_TYPES = {"String", "Integer", "Float", "Boolean"}
CONDITION_TYPES = {"Equals", "GreaterThan", "GreaterThanOrEqualTo", "LessThan", "LessThanOrEqualTo", "In", "Not", "Or"}
STEP_EXCEPTION_TYPES = {"Step.SERVICE_FAULT", "Step.THROTTLING"}
JOB_EXCEPTION_TYPES = {"SageMaker.JOB_INTERNAL_ERROR", "SageMaker.CAPACITY_ERROR", "SageMaker.RESOURCE_LIMIT"}
TRIGGERS = {"Completed", "Failed", "Stopped", "Any"}
STEP_NAME = re.compile(r"^[A-Za-z0-9\-_]{1,64}$")
PARAMETER_NAME = re.compile(r"^[A-Za-z0-9\-_]{1,256}$")
_PATH_TOKEN = re.compile(r"\.?([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\['([^']*)'\]|\[\"([^\"]*)\"\]")
_DURATION = re.compile(
    r"^P?(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$",
    re.IGNORECASE)


class DefinitionError(ValueError):
    """The definition is not one the service would accept; the message names the problem."""


class EvaluationError(ValueError):
    """An expression could not be evaluated at run time (the step using it fails with this reason)."""


@dataclass
class Dependency:
    step: str
    trigger: str = "Completed"  # the upstream outcome that lets the dependent step run


@dataclass
class Step:
    name: str
    type: str
    arguments: Any
    depends_on: list[Dependency]
    display_name: str | None = None
    description: str | None = None
    cache_enabled: bool = False
    cache_expire_after: dt.timedelta | None = None
    retry_policies: list[dict] = field(default_factory=list)
    property_files: dict[str, dict] = field(default_factory=dict)  # PropertyFileName -> {OutputName, FilePath}
    branch_of: tuple[str, bool] | None = None  # (condition step, outcome that runs this step)
    raw: dict = field(default_factory=dict)

    @property
    def own_arguments(self) -> Any:
        """The arguments that belong to this step alone (a Condition's nested steps are separate)."""
        if self.type == "Condition":
            return {"Conditions": self.arguments.get("Conditions", [])}
        return self.arguments


@dataclass
class Definition:
    text: str
    parameters: dict[str, dict]  # name -> {Name, Type, DefaultValue?, EnumValues?}
    steps: dict[str, Step]  # every step, nested ones included, in definition order
    upstream: dict[str, list[Dependency]]  # step -> steps it waits for (DependsOn, data, its Condition)
    experiment_config: dict | None


def parse_duration(text: str) -> dt.timedelta:
    """ISO 8601 duration ('P30D', 'PT12H', and the SDK's lenient 'p30d' / 'T12H')."""
    match = _DURATION.match(text or "")
    if not text or not match or not any(match.groups()):
        raise DefinitionError(f"ExpireAfter '{text}' is not an ISO 8601 duration such as P30D or PT12H.")
    years, months, weeks, days, hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    return dt.timedelta(days=years * 365 + months * 30 + weeks * 7 + days, hours=hours, minutes=minutes,
                        seconds=seconds)


def parse(text: str) -> Definition:
    """Parse and validate a definition; DefinitionError names the first problem found."""
    try:
        document = json.loads(text)
    except (json.JSONDecodeError, TypeError) as exc:
        raise DefinitionError(f"Unable to parse pipeline definition. {exc}.") from None
    if not isinstance(document, dict):
        raise DefinitionError("Unable to parse pipeline definition. Expecting start of Json Object.")
    unknown = set(document) - {"Version", "Metadata", "Parameters", "PipelineExperimentConfig", "MlflowConfig", "Steps"}
    if unknown:
        raise DefinitionError(f"Unable to parse pipeline definition. Unknown member(s) {sorted(unknown)}.")
    if document.get("Version") != SCHEMA_VERSION:
        raise DefinitionError(
            f"Unable to parse pipeline definition. Version must be \"{SCHEMA_VERSION}\", "
            f"got {document.get('Version')!r}.")
    parameters = _parse_parameters(document.get("Parameters") or [])
    raw_steps = document.get("Steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise DefinitionError("Unable to parse pipeline definition. Steps must be a non-empty Json Array.")
    steps: dict[str, Step] = {}
    _collect_steps(raw_steps, steps, branch_of=None)
    experiment = document.get("PipelineExperimentConfig")
    if experiment is not None and not isinstance(experiment, dict):
        raise DefinitionError("Unable to parse pipeline definition. PipelineExperimentConfig must be a Json Object.")
    for step in steps.values():
        _check_step_references(step, steps, parameters)
    if experiment:
        _check_expressions(experiment, "PipelineExperimentConfig", steps, parameters)
    upstream = {name: _upstream(step, steps) for name, step in steps.items()}
    _check_acyclic(upstream)
    return Definition(text=text, parameters=parameters, steps=steps, upstream=upstream, experiment_config=experiment)


def _parse_parameters(raw: Any) -> dict[str, dict]:
    if not isinstance(raw, list):
        raise DefinitionError("Unable to parse pipeline definition. Parameters must be a Json Array.")
    parameters: dict[str, dict] = {}
    for item in raw:
        if not isinstance(item, dict) or "Name" not in item or "Type" not in item:
            raise DefinitionError(f"Unable to parse pipeline definition. Parameter {item!r} needs a Name and a Type.")
        name, kind = item["Name"], item["Type"]
        if not isinstance(name, str) or not PARAMETER_NAME.match(name):
            raise DefinitionError(f"Parameter name {name!r} must match [A-Za-z0-9\\-_]{{1,256}}.")
        if name in parameters:
            raise DefinitionError(f"Parameter names must be unique: '{name}' is declared more than once.")
        if kind not in PARAMETER_TYPES:
            raise DefinitionError(f"Parameter '{name}' has type {kind!r}; use one of {sorted(PARAMETER_TYPES)}.")
        if "DefaultValue" in item:
            try:
                typed_value(kind, item["DefaultValue"])
            except ValueError:
                raise DefinitionError(
                    f"Default value {item['DefaultValue']!r} of parameter '{name}' is not of type {kind}.") from None
        enum = item.get("EnumValues")
        if enum is not None and (kind != "String" or not isinstance(enum, list)):
            raise DefinitionError(f"EnumValues of parameter '{name}' must be a list, on a String parameter.")
        if enum and "DefaultValue" in item and item["DefaultValue"] not in enum:
            raise DefinitionError(f"Default value {item['DefaultValue']!r} of parameter '{name}' is not one of {enum}.")
        parameters[name] = item
    return parameters


def typed_value(kind: str, value: Any) -> Any:
    """A parameter value (from the definition or StartPipelineExecution's strings) as its declared type."""
    if kind == "String":
        if not isinstance(value, str):
            raise ValueError(value)
        return value
    if kind == "Boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise ValueError(value)
    if isinstance(value, bool):
        raise ValueError(value)
    if kind == "Integer":
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and re.fullmatch(r"[+-]?\d+", value.strip()):
            return int(value)
        raise ValueError(value)
    if kind == "Float":
        if isinstance(value, (int, float)):
            return float(value)
        if isinstance(value, str):
            return float(value)  # raises ValueError when not a number
    raise ValueError(value)


def _collect_steps(raw_steps: Any, steps: dict[str, Step], branch_of: tuple[str, bool] | None) -> None:
    if not isinstance(raw_steps, list):
        raise DefinitionError("Unable to parse pipeline definition. Steps must be a Json Array.")
    for raw in raw_steps:
        step = _parse_step(raw, branch_of)
        if step.name in steps:
            raise DefinitionError(
                f"Step names must be unique within a pipeline: '{step.name}' appears more than once "
                "(a step inside a Condition's IfSteps/ElseSteps counts too).")
        steps[step.name] = step
        if step.type == "Condition":
            _collect_steps(step.arguments.get("IfSteps", []), steps, (step.name, True))
            _collect_steps(step.arguments.get("ElseSteps", []), steps, (step.name, False))


def _parse_step(raw: Any, branch_of: tuple[str, bool] | None) -> Step:
    if not isinstance(raw, dict):
        raise DefinitionError(f"Unable to parse pipeline definition. A step must be a Json Object, got {raw!r}.")
    name, kind = raw.get("Name"), raw.get("Type")
    if not isinstance(name, str) or not STEP_NAME.match(name):
        raise DefinitionError(f"Step name {name!r} must match [A-Za-z0-9\\-_]{{1,64}}.")
    if kind not in STEP_TYPES:
        raise DefinitionError(f"Step '{name}' has unknown Type {kind!r}; known types: {sorted(STEP_TYPES)}.")
    unknown = set(raw) - {"Name", "Type", "Arguments", "DependsOn", "DisplayName", "Description", "CacheConfig",
                          "RetryPolicies", "PropertyFiles"}
    if unknown:
        raise DefinitionError(
            f"Unable to parse pipeline definition. Step '{name}' has unknown member(s) {sorted(unknown)}.")
    arguments = raw.get("Arguments", {})
    if not isinstance(arguments, dict):
        raise DefinitionError(f"Arguments of step '{name}' must be a Json Object.")
    if kind == "Condition":
        _check_conditions(name, arguments.get("Conditions"))
    step = Step(name=name, type=kind, arguments=arguments, depends_on=_parse_depends_on(name, raw.get("DependsOn")),
                display_name=raw.get("DisplayName"), description=raw.get("Description"), branch_of=branch_of, raw=raw)
    cache = raw.get("CacheConfig")
    if cache is not None:
        if kind not in CACHEABLE_STEP_TYPES:
            raise DefinitionError(f"Step '{name}' of type {kind} cannot have a CacheConfig; caching applies to "
                                  f"{sorted(CACHEABLE_STEP_TYPES)} steps.")
        if not isinstance(cache, dict) or not isinstance(cache.get("Enabled"), bool):
            raise DefinitionError(f"CacheConfig of step '{name}' needs Enabled (true or false).")
        step.cache_enabled = cache["Enabled"]
        if cache.get("ExpireAfter") is not None:
            step.cache_expire_after = parse_duration(cache["ExpireAfter"])
    step.retry_policies = _parse_retry_policies(name, kind, raw.get("RetryPolicies") or [])
    for item in raw.get("PropertyFiles") or []:
        if kind != "Processing":
            raise DefinitionError(f"Step '{name}' declares PropertyFiles, which only Processing steps can have.")
        if not isinstance(item, dict) or not all(isinstance(item.get(k), str) for k in
                                                 ("PropertyFileName", "OutputName", "FilePath")):
            raise DefinitionError(
                f"Property file {item!r} of step '{name}' needs PropertyFileName, OutputName and FilePath.")
        outputs = [o.get("OutputName") for o in (arguments.get("ProcessingOutputConfig") or {}).get("Outputs", [])]
        if item["OutputName"] not in outputs:
            raise DefinitionError(
                f"Property file '{item['PropertyFileName']}' of step '{name}' names output '{item['OutputName']}', "
                f"which is not among the step's ProcessingOutputConfig outputs {outputs}.")
        step.property_files[item["PropertyFileName"]] = item
    return step


def _parse_depends_on(name: str, raw: Any) -> list[Dependency]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise DefinitionError(f"DependsOn of step '{name}' must be a Json Array of step names.")
    dependencies = []
    for item in raw:
        if isinstance(item, str):
            dependencies.append(Dependency(item))
        elif isinstance(item, dict) and isinstance(item.get("Step"), str) and \
                item.get("Trigger", "Completed") in TRIGGERS:
            dependencies.append(Dependency(item["Step"], item.get("Trigger", "Completed")))
        else:
            raise DefinitionError(
                f"DependsOn entry {item!r} of step '{name}' must be a step name or "
                f"{{\"Step\": name, \"Trigger\": one of {sorted(TRIGGERS)}}}.")
    return dependencies


def _parse_retry_policies(name: str, kind: str, raw: Any) -> list[dict]:
    if not isinstance(raw, list):
        raise DefinitionError(f"RetryPolicies of step '{name}' must be a Json Array.")
    allowed = STEP_EXCEPTION_TYPES | (JOB_EXCEPTION_TYPES if kind in JOB_STEP_TYPES else set())
    for policy in raw:
        types = policy.get("ExceptionType") if isinstance(policy, dict) else None
        if not isinstance(types, list) or not types:
            raise DefinitionError(f"Retry policy {policy!r} of step '{name}' needs a non-empty ExceptionType list.")
        wrong = [t for t in types if t not in allowed]
        if wrong:
            raise DefinitionError(
                f"Retry policy of step '{name}' ({kind}) names exception type(s) {wrong}; allowed: {sorted(allowed)}.")
        if ("MaxAttempts" in policy) == ("ExpireAfterMin" in policy):
            raise DefinitionError(f"Retry policy of step '{name}' needs exactly one of MaxAttempts and ExpireAfterMin.")
        attempts = policy.get("MaxAttempts")
        if attempts is not None and not (isinstance(attempts, int) and 1 <= attempts <= 20):
            raise DefinitionError(f"MaxAttempts {attempts!r} of step '{name}' must be an integer from 1 to 20.")
        for key in ("IntervalSeconds", "BackoffRate"):
            if not isinstance(policy.get(key, 1), (int, float)) or policy.get(key, 1) < 0:
                raise DefinitionError(f"{key} of a retry policy of step '{name}' must be a non-negative number.")
    return raw


def _check_conditions(name: str, conditions: Any) -> None:
    if not isinstance(conditions, list):
        raise DefinitionError(f"Condition step '{name}' needs Arguments.Conditions, a Json Array.")
    for condition in conditions:
        _check_condition(name, condition)


def _check_condition(name: str, condition: Any) -> None:
    kind = condition.get("Type") if isinstance(condition, dict) else None
    if kind not in CONDITION_TYPES:
        raise DefinitionError(
            f"Condition {condition!r} in step '{name}' has unknown Type; use one of {sorted(CONDITION_TYPES)}.")
    needed = {"Not": ["Condition"], "Or": ["Conditions"], "In": ["QueryValue", "Values"]}.get(
        kind, ["LeftValue", "RightValue"])
    missing = [k for k in needed if k not in condition]
    if missing:
        raise DefinitionError(f"{kind} condition in step '{name}' is missing {missing}.")
    if kind == "Not":
        _check_condition(name, condition["Condition"])
    elif kind == "Or":
        _check_conditions(name, condition["Conditions"])


def expressions(obj: Any) -> Iterator[dict]:
    """Every expression ({"Get"}, {"Std:Join"}, {"Std:JsonGet"}) inside obj, outermost first."""
    if isinstance(obj, dict):
        if _is_expression(obj):
            yield obj
            inner = obj.get("Std:Join") or obj.get("Std:JsonGet")
            if inner is not None:
                yield from expressions(inner)
            return
        for value in obj.values():
            yield from expressions(value)
    elif isinstance(obj, list):
        for item in obj:
            yield from expressions(item)


def _is_expression(obj: dict) -> bool:
    return len(obj) == 1 and next(iter(obj)) in ("Get", "Std:Join", "Std:JsonGet")


def referenced_steps(obj: Any) -> set[str]:
    """Names of the steps whose properties or property files obj reads."""
    names = set()
    for expr in expressions(obj):
        path = expr.get("Get")
        if isinstance(path, str) and path.startswith("Steps."):
            names.add(path.split(".")[1])
    return names


def _check_step_references(step: Step, steps: dict[str, Step], parameters: dict[str, dict]) -> None:
    for dependency in step.depends_on:
        if dependency.step not in steps:
            raise DefinitionError(
                f"Step '{step.name}' DependsOn step '{dependency.step}', which is not defined in the pipeline.")
        if dependency.step == step.name:
            raise DefinitionError(f"Step '{step.name}' cannot depend on itself.")
    _check_expressions(step.own_arguments, f"step '{step.name}'", steps, parameters, step)


def _check_expressions(obj: Any, where: str, steps: dict[str, Step], parameters: dict[str, dict],
                       step: Step | None = None) -> None:
    for expr in expressions(obj):
        if "Std:Join" in expr:
            join = expr["Std:Join"]
            if not isinstance(join, dict) or not isinstance(join.get("Values"), list) or \
                    not isinstance(join.get("On", ""), str):
                raise DefinitionError(f"Std:Join in {where} needs On (a string) and Values (a Json Array).")
        elif "Std:JsonGet" in expr:
            json_get = expr["Std:JsonGet"]
            if not isinstance(json_get, dict) or not isinstance(json_get.get("Path"), str) or \
                    ("PropertyFile" in json_get) == ("S3Uri" in json_get):
                raise DefinitionError(f"Std:JsonGet in {where} needs a Path and exactly one of PropertyFile and S3Uri.")
            source = json_get.get("PropertyFile")
            if source is not None and not (isinstance(source, dict) and isinstance(source.get("Get"), str)
                                           and ".PropertyFiles." in source["Get"]):
                raise DefinitionError(
                    f"Std:JsonGet in {where}: PropertyFile must be {{\"Get\": \"Steps.<step>.PropertyFiles.<name>\"}}.")
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
                f"use one of {sorted(EXECUTION_VARIABLES)}.")
        job_variable = {"TrainingJobName": "Training", "ProcessingJobName": "Processing"}.get(rest)
        if job_variable and (step is None or step.type != job_variable):
            raise DefinitionError(f"Invalid Get '{path}' in {where}: it is only defined inside a {job_variable} step.")
    elif namespace == "PipelineExperimentConfig":
        if rest not in ("ExperimentName", "TrialName"):
            raise DefinitionError(
                f"Invalid Get '{path}' in {where}: use PipelineExperimentConfig.ExperimentName or .TrialName.")
    elif namespace == "Steps":
        _check_property_path(path, rest, where, steps)
    else:
        raise DefinitionError(
            f"Invalid Get '{path}' in {where}: it must start with Parameters., Execution., Steps. "
            "or PipelineExperimentConfig.")


def _check_property_path(path: str, rest: str, where: str, steps: dict[str, Step]) -> None:
    name, _, prop = rest.partition(".")
    target = steps.get(name)
    if target is None:
        raise DefinitionError(f"Invalid Get '{path}' in {where}: step '{name}' is not defined in the pipeline.")
    if prop.startswith("PropertyFiles."):
        file_name = prop[len("PropertyFiles."):]
        if file_name not in target.property_files:
            raise DefinitionError(
                f"Invalid Get '{path}' in {where}: step '{name}' declares no property file '{file_name}' "
                f"(declared: {sorted(target.property_files)}).")
        return
    if not prop:
        raise DefinitionError(
            f"Invalid Get '{path}' in {where}: name a property of step '{name}', e.g. Steps.{name}.<Property>.")
    if target.type == "Fail":
        raise DefinitionError(f"Invalid Get '{path}' in {where}: a Fail step has no properties.")
    if target.type == "Condition":
        if prop != "Outcome":
            raise DefinitionError(f"Invalid Get '{path}' in {where}: a Condition step has only the property Outcome.")
        return
    shapes = PROPERTY_SHAPES.get(target.type)
    if shapes is None:
        return  # step types local_aws does not run: their properties are not checked
    tokens = path_tokens(prop)
    if tokens is None:
        raise DefinitionError(f"Invalid Get '{path}' in {where}: '{prop}' is not a property path.")
    problems = [problem for problem in (_walk_shape(shape, tokens) for shape in shapes) if problem]
    if len(problems) == len(shapes):
        raise DefinitionError(f"Invalid property reference '{path}' in {where}: {problems[0]}.")


def path_tokens(path: str) -> list[str | int] | None:
    """'A.B[0].C['k']' -> ['A', 'B', 0, 'C', 'k'] (ints index lists, strings name members or keys)."""
    tokens: list[str | int] = []
    position = 0
    while position < len(path):
        match = _PATH_TOKEN.match(path, position)
        if not match or match.end() == position:
            return None
        name, index, single, double = match.groups()
        tokens.append(int(index) if index is not None else next(t for t in (name, single, double) if t is not None))
        position = match.end()
    return tokens


@lru_cache(maxsize=1)
def _shapes() -> dict:
    import botocore.loaders

    return botocore.loaders.Loader().load_service_model("sagemaker", "service-2")["shapes"]


def _walk_shape(shape_name: str, tokens: list[str | int]) -> str | None:
    """None when the path exists in the shape, else what is wrong."""
    shapes = _shapes()
    current = shape_name
    for token in tokens:
        shape = shapes[current]
        kind = shape["type"]
        if kind == "structure":
            if not isinstance(token, str) or token not in shape["members"]:
                return f"{current} has no member {token!r}"
            current = shape["members"][token]["shape"]
        elif kind == "list":
            current = shape["member"]["shape"]
        elif kind == "map":
            if not isinstance(token, str):
                return f"{current} is a map; index it with a string key"
            current = shape["value"]["shape"]
        else:
            return f"{current} is a {kind} and has no member {token!r}"
    return None


def _upstream(step: Step, steps: dict[str, Step]) -> list[Dependency]:
    found = {d.step: d for d in step.depends_on}
    for name in referenced_steps(step.own_arguments):
        found.setdefault(name, Dependency(name))
    if step.branch_of:
        found.setdefault(step.branch_of[0], Dependency(step.branch_of[0]))
    return list(found.values())


def ancestors(definition: Definition, names: list[str]) -> set[str]:
    """Every step the named steps wait for, directly or through others (the named steps excluded)."""
    found: set[str] = set()
    pending = list(names)
    while pending:
        for dependency in definition.upstream[pending.pop()]:
            if dependency.step not in found and dependency.step not in names:
                found.add(dependency.step)
                pending.append(dependency.step)
    return found


def _check_acyclic(upstream: dict[str, list[Dependency]]) -> None:
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(name: str, trail: list[str]) -> None:
        state[name] = 1
        for dependency in upstream[name]:
            if state.get(dependency.step) == 1:
                cycle = trail[trail.index(dependency.step):] + [dependency.step]
                raise DefinitionError(
                    "Pipeline definition has a cycle between steps: " + " -> ".join(reversed(cycle)) +
                    ". Remove a DependsOn entry or property reference to break it.")
            if state.get(dependency.step) is None:
                visit(dependency.step, trail + [dependency.step])
        state[name] = 2

    for name in upstream:
        if name not in state:
            visit(name, [name])


# --- evaluation ----------------------------------------------------------------------------------


@dataclass
class Scope:
    """What expressions of one execution read: typed parameters, execution variables, step results."""

    parameters: dict[str, Any]
    variables: dict[str, Any]
    experiment: dict[str, Any]
    step_properties: Callable[[str], Any]  # step name -> its Describe response (or raises EvaluationError)
    read_property_file: Callable[[str, str], Any]  # (step, property file) -> parsed JSON
    read_s3_json: Callable[[str], Any]  # s3 uri -> parsed JSON


def evaluate(obj: Any, scope: Scope) -> Any:
    """obj with every expression replaced by its value."""
    if isinstance(obj, dict):
        if _is_expression(obj):
            return _evaluate_expression(obj, scope)
        return {key: evaluate(value, scope) for key, value in obj.items()}
    if isinstance(obj, list):
        return [evaluate(item, scope) for item in obj]
    return obj


def _evaluate_expression(expr: dict, scope: Scope) -> Any:
    if "Std:Join" in expr:
        join = expr["Std:Join"]
        return join.get("On", "").join(to_text(evaluate(value, scope)) for value in join["Values"])
    if "Std:JsonGet" in expr:
        return _json_get(expr["Std:JsonGet"], scope)
    path = expr["Get"]
    namespace, _, rest = path.partition(".")
    if namespace == "Parameters":
        return scope.parameters[rest]
    if namespace == "Execution":
        if rest not in scope.variables:
            raise EvaluationError(f"Execution variable {path} is not defined here.")
        value = scope.variables[rest]
        return value() if callable(value) else value
    if namespace == "PipelineExperimentConfig":
        if rest not in scope.experiment:
            raise EvaluationError(f"{path} is not defined: the pipeline has no PipelineExperimentConfig.")
        return scope.experiment[rest]
    name, _, prop = rest.partition(".")
    return lookup(scope.step_properties(name), path_tokens(prop) or [], path)


def _json_get(json_get: dict, scope: Scope) -> Any:
    if "PropertyFile" in json_get:
        reference = json_get["PropertyFile"]["Get"]  # Steps.<step>.PropertyFiles.<name>
        _, step_name, _, file_name = reference.split(".", 3)
        document = scope.read_property_file(step_name, file_name)
        source = reference
    else:
        source = to_text(evaluate(json_get["S3Uri"], scope))
        document = scope.read_s3_json(source)
    tokens = path_tokens(json_get["Path"][2:] if json_get["Path"].startswith("$.") else json_get["Path"])
    if tokens is None:
        raise EvaluationError(f"Invalid JSON path '{json_get['Path']}' in Std:JsonGet.")
    return lookup(document, tokens, f"{source} at path '{json_get['Path']}'")


def lookup(value: Any, tokens: list[str | int], what: str) -> Any:
    """Walk a Describe response or JSON document; a string key on a list picks the item of that name."""
    for token in tokens:
        if isinstance(value, dict) and isinstance(token, str) and token in value:
            value = value[token]
        elif isinstance(value, list) and isinstance(token, int) and -len(value) <= token < len(value):
            value = value[token]
        elif isinstance(value, list) and isinstance(token, str):
            value = next((item for item in value if isinstance(item, dict) and _item_name(item) == token), _MISSING)
        else:
            value = _MISSING
        if value is _MISSING:
            raise EvaluationError(f"{what} could not be resolved: {token!r} not found.")
    return value


_MISSING = object()
_NAME_KEYS = ("OutputName", "InputName", "ChannelName", "MetricName", "Name")


def _item_name(item: dict) -> Any:
    for key in _NAME_KEYS:
        if key in item:
            return item[key]
    return next((v for k, v in item.items() if k.endswith("Name")), None)


def to_text(value: Any) -> str:
    """A value as Std:Join renders it: booleans in lowercase, numbers plainly, structures as JSON."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), default=str)
    if isinstance(value, dt.datetime):
        return iso_time(value)
    return str(value)


def iso_time(value: dt.datetime) -> str:
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def evaluate_conditions(conditions: list[dict], scope: Scope) -> bool:
    """A Condition step's outcome: every condition in the list must hold."""
    return all(_condition(condition, scope) for condition in conditions)


def _condition(condition: dict, scope: Scope) -> bool:
    kind = condition["Type"]
    if kind == "Not":
        return not _condition(condition["Condition"], scope)
    if kind == "Or":
        return any(_condition(c, scope) for c in condition["Conditions"])
    if kind == "In":
        query = evaluate(condition["QueryValue"], scope)
        return any(_equal(query, evaluate(v, scope)) for v in condition["Values"])
    left, right = evaluate(condition["LeftValue"], scope), evaluate(condition["RightValue"], scope)
    if kind == "Equals":
        if not _comparable(left, right):
            raise EvaluationError(
                f"Equals condition compares LeftValue {left!r} ({_type_name(left)}) with RightValue {right!r} "
                f"({_type_name(right)}), which are not of the same type.")
        return _equal(left, right)
    if not _comparable(left, right) or isinstance(left, (bool, dict, list)) or left is None:
        raise EvaluationError(
            f"{kind} condition cannot order LeftValue {left!r} ({_type_name(left)}) and RightValue {right!r} "
            f"({_type_name(right)}); both must be numbers or both strings.")
    return {"GreaterThan": left > right, "GreaterThanOrEqualTo": left >= right,
            "LessThan": left < right, "LessThanOrEqualTo": left <= right}[kind]


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _comparable(left: Any, right: Any) -> bool:
    return (_is_number(left) and _is_number(right)) or type(left) is type(right)


def _equal(left: Any, right: Any) -> bool:
    return left == right if _comparable(left, right) else False


def _type_name(value: Any) -> str:
    return {bool: "Boolean", int: "Integer", float: "Float", str: "String"}.get(type(value), type(value).__name__)
