"""Parse and validate a pipeline definition as CreatePipeline and UpdatePipeline do.

The definition is a JSON string (schema version 2020-12-01) the API model cannot check, so it is
checked here: its members (MlflowConfig included), parameters, steps (Condition steps nest their
IfSteps/ElseSteps, ForEach steps their body) with the members of their type (a Callback's SqsQueueUrl
and OutputParameters, a Lambda's FunctionArn...), their DependsOn, CacheConfig, RetryPolicies and
PropertyFiles, every expression's references (local_aws.pipelines.references), and that the steps'
dependencies form no cycle. The first problem found is raised as a DefinitionError whose message names it.
"""

from __future__ import annotations

import datetime as dt
import graphlib
import json
import re
from typing import Any

from local_aws.pipelines.definition import (
    JOB_STEP_TYPES,
    REQUIRED_STEP_MEMBERS,
    STEP_TYPE_MEMBERS,
    STEP_TYPES,
    TRIGGERS,
    Definition,
    DefinitionError,
    Dependency,
    Step,
)
from local_aws.pipelines.expressions import referenced_steps
from local_aws.pipelines.parameters import parse_parameters
from local_aws.pipelines.references import check_expressions, check_step_references

SCHEMA_VERSION = "2020-12-01"
DOCUMENT_MEMBERS = {"Version", "Metadata", "Parameters", "PipelineExperimentConfig", "MlflowConfig", "Steps"}
STEP_MEMBERS = {"Name", "Type", "Arguments", "DependsOn", "DisplayName", "Description"}  # every type's
STEP_SETTINGS = {"CacheConfig", "RetryPolicies", "PropertyFiles"}  # parsed into the Step's own fields
MLFLOW_MEMBERS = {"MlflowResourceArn", "MlflowExperimentName"}
OUTPUT_TYPES = {"String", "Integer", "Boolean", "Float"}
CHECK_TYPES = {
    "QualityCheck": {"DATA_QUALITY", "MODEL_QUALITY"},
    "ClarifyCheck": {"DATA_BIAS", "MODEL_BIAS", "MODEL_EXPLAINABILITY"},
}
CONDITION_TYPES = {"Equals", "GreaterThan", "GreaterThanOrEqualTo", "LessThan", "LessThanOrEqualTo", "In", "Not", "Or"}
STEP_EXCEPTION_TYPES = {"Step.SERVICE_FAULT", "Step.THROTTLING"}
JOB_EXCEPTION_TYPES = {"SageMaker.JOB_INTERNAL_ERROR", "SageMaker.CAPACITY_ERROR", "SageMaker.RESOURCE_LIMIT"}
STEP_NAME = re.compile(r"^[A-Za-z0-9\-_]{1,64}$")
_DURATION = re.compile(
    r"^P?(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$", re.IGNORECASE
)


def parse(text: str) -> Definition:
    """Parse and validate a definition; DefinitionError names the first problem found."""
    try:
        document = json.loads(text)
    except (json.JSONDecodeError, TypeError) as exc:
        raise DefinitionError(f"Unable to parse pipeline definition. {exc}.") from None
    if not isinstance(document, dict):
        raise DefinitionError("Unable to parse pipeline definition. Expecting start of Json Object.")
    unknown = set(document) - DOCUMENT_MEMBERS
    if unknown:
        raise DefinitionError(f"Unable to parse pipeline definition. Unknown member(s) {sorted(unknown)}.")
    if document.get("Version") != SCHEMA_VERSION:
        raise DefinitionError(
            f'Unable to parse pipeline definition. Version must be "{SCHEMA_VERSION}", got {document.get("Version")!r}.'
        )
    parameters = parse_parameters(document.get("Parameters") or [])
    raw_steps = document.get("Steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise DefinitionError("Unable to parse pipeline definition. Steps must be a non-empty Json Array.")
    steps: dict[str, Step] = {}
    _collect_steps(raw_steps, steps, branch_of=None, names=set())
    experiment = _json_object(document, "PipelineExperimentConfig")
    mlflow = _json_object(document, "MlflowConfig")
    unknown = set(mlflow or {}) - MLFLOW_MEMBERS
    if unknown:
        raise DefinitionError(
            f"Unable to parse pipeline definition. MlflowConfig has unknown member(s) "
            f"{sorted(unknown)}; it may have {sorted(MLFLOW_MEMBERS)}."
        )
    for step in steps.values():
        check_step_references(step, steps, parameters)
    for name, config in (("PipelineExperimentConfig", experiment), ("MlflowConfig", mlflow)):
        if config:
            check_expressions(config, name, steps, parameters)
    upstream = {name: _upstream(step, steps) for name, step in steps.items()}
    _check_acyclic(upstream)
    return Definition(
        text=text,
        parameters=parameters,
        steps=steps,
        upstream=upstream,
        experiment_config=experiment,
        mlflow_config={k: v for k, v in mlflow.items() if v is not None} if mlflow else None,
    )


def _json_object(document: dict, member: str) -> dict | None:
    value = document.get(member)
    if value is not None and not isinstance(value, dict):
        raise DefinitionError(f"Unable to parse pipeline definition. {member} must be a Json Object.")
    return value


def parse_duration(text: str) -> dt.timedelta:
    """ISO 8601 duration ('P30D', 'PT12H', and the SDK's lenient 'p30d' / 'T12H')."""
    match = _DURATION.match(text or "")
    if not text or not match or not any(match.groups()):
        raise DefinitionError(f"ExpireAfter '{text}' is not an ISO 8601 duration such as P30D or PT12H.")
    years, months, weeks, days, hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    return dt.timedelta(
        days=years * 365 + months * 30 + weeks * 7 + days, hours=hours, minutes=minutes, seconds=seconds
    )


def _collect_steps(
    raw_steps: Any, steps: dict[str, Step] | None, branch_of: tuple[str, bool] | None, names: set[str]
) -> None:
    """Parse the steps into `steps` (None: a ForEach body's, checked for their form only), names unique."""
    if not isinstance(raw_steps, list):
        raise DefinitionError("Unable to parse pipeline definition. Steps must be a Json Array.")
    for raw in raw_steps:
        step = _parse_step(raw, branch_of)
        if step.name in names:
            raise DefinitionError(
                f"Step names must be unique within a pipeline: '{step.name}' appears more than once "
                "(a step inside a Condition's IfSteps/ElseSteps or a ForEach's body counts too)."
            )
        names.add(step.name)
        if steps is not None:
            steps[step.name] = step
        if step.type == "Condition":
            _collect_steps(step.arguments.get("IfSteps", []), steps, (step.name, True), names)
            _collect_steps(step.arguments.get("ElseSteps", []), steps, (step.name, False), names)
        elif step.type == "ForEach":
            _collect_steps(step.arguments.get("ForEachBody", []), None, None, names)


def _parse_step(raw: Any, branch_of: tuple[str, bool] | None) -> Step:
    if not isinstance(raw, dict):
        raise DefinitionError(f"Unable to parse pipeline definition. A step must be a Json Object, got {raw!r}.")
    name, kind = raw.get("Name"), raw.get("Type")
    if not isinstance(name, str) or not STEP_NAME.match(name):
        raise DefinitionError(f"Step name {name!r} must match [A-Za-z0-9\\-_]{{1,64}}.")
    if kind not in STEP_TYPES:
        raise DefinitionError(f"Step '{name}' has unknown Type {kind!r}; known types: {sorted(STEP_TYPES)}.")
    unknown = set(raw) - STEP_MEMBERS - STEP_SETTINGS - STEP_TYPE_MEMBERS[kind]
    if unknown:
        raise DefinitionError(
            f"Unable to parse pipeline definition. Step '{name}' has unknown member(s) {sorted(unknown)}."
        )
    misplaced = sorted(STEP_SETTINGS & (set(raw) - STEP_TYPE_MEMBERS[kind]))
    if misplaced:
        owners = sorted(other for other, allowed in STEP_TYPE_MEMBERS.items() if misplaced[0] in allowed)
        raise DefinitionError(
            f"Step '{name}' of type {kind} cannot have a {misplaced[0]}; it applies to {owners} steps."
        )
    missing = [member for member in REQUIRED_STEP_MEMBERS.get(kind, ()) if raw.get(member) is None]
    if missing:
        raise DefinitionError(f"Unable to parse pipeline definition. {kind} step '{name}' needs {missing}.")
    arguments = raw.get("Arguments", {})
    if not isinstance(arguments, dict):
        raise DefinitionError(f"Arguments of step '{name}' must be a Json Object.")
    if kind == "Condition":
        _check_conditions(name, arguments.get("Conditions"))
    members = {key: raw[key] for key in STEP_TYPE_MEMBERS[kind] - STEP_SETTINGS if key in raw}
    _check_members(name, kind, members)
    step = Step(
        name=name,
        type=kind,
        arguments=arguments,
        depends_on=_parse_depends_on(name, raw.get("DependsOn")),
        display_name=raw.get("DisplayName"),
        description=raw.get("Description"),
        branch_of=branch_of,
        members=members,
    )
    cache = raw.get("CacheConfig")
    if cache is not None:
        if not isinstance(cache, dict) or not isinstance(cache.get("Enabled"), bool):
            raise DefinitionError(f"CacheConfig of step '{name}' needs Enabled (true or false).")
        step.cache_enabled = cache["Enabled"]
        if cache.get("ExpireAfter") is not None:
            step.cache_expire_after = parse_duration(cache["ExpireAfter"])
    step.retry_policies = _parse_retry_policies(name, kind, raw.get("RetryPolicies") or [])
    step.property_files = _parse_property_files(name, arguments, raw.get("PropertyFiles") or [])
    return step


def _check_members(name: str, kind: str, members: dict) -> None:
    """A Lambda's or Callback's OutputParameters and a check step's CheckType, as the schema has them."""
    outputs = members.get("OutputParameters", [])
    if not isinstance(outputs, list) or not all(
        isinstance(o, dict)
        and isinstance(o.get("OutputName"), str)
        and o.get("OutputType", "String") in OUTPUT_TYPES
        and set(o) <= {"OutputName", "OutputType"}
        for o in outputs
    ):
        raise DefinitionError(
            f'OutputParameters of step \'{name}\' must be a Json Array of {{"OutputName": name, "OutputType": '
            f"one of {sorted(OUTPUT_TYPES)}}}."
        )
    if len({o["OutputName"] for o in outputs}) != len(outputs):
        raise DefinitionError(f"OutputParameters of step '{name}' name an output more than once.")
    for member in ("FunctionArn", "SqsQueueUrl"):
        if not isinstance(members.get(member, ""), str):
            raise DefinitionError(f"{member} of step '{name}' must be a string.")
    if kind in CHECK_TYPES and members["CheckType"] not in CHECK_TYPES[kind]:
        raise DefinitionError(
            f"CheckType of {kind} step '{name}' must be one of {sorted(CHECK_TYPES[kind])}, "
            f"got {members['CheckType']!r}."
        )


def _parse_property_files(name: str, arguments: dict, raw: list) -> dict[str, dict]:
    files = {}
    for item in raw:
        if not isinstance(item, dict) or not all(
            isinstance(item.get(k), str) for k in ("PropertyFileName", "OutputName", "FilePath")
        ):
            raise DefinitionError(
                f"Property file {item!r} of step '{name}' needs PropertyFileName, OutputName and FilePath."
            )
        outputs = [o.get("OutputName") for o in (arguments.get("ProcessingOutputConfig") or {}).get("Outputs", [])]
        if item["OutputName"] not in outputs:
            raise DefinitionError(
                f"Property file '{item['PropertyFileName']}' of step '{name}' names output '{item['OutputName']}', "
                f"which is not among the step's ProcessingOutputConfig outputs {outputs}."
            )
        files[item["PropertyFileName"]] = item
    return files


def _parse_depends_on(name: str, raw: Any) -> list[Dependency]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise DefinitionError(f"DependsOn of step '{name}' must be a Json Array of step names.")
    dependencies = []
    for item in raw:
        if isinstance(item, str):
            dependencies.append(Dependency(item))
        elif (
            isinstance(item, dict)
            and isinstance(item.get("Step"), str)
            and item.get("Trigger", "Completed") in TRIGGERS
        ):
            dependencies.append(Dependency(item["Step"], item.get("Trigger", "Completed")))
        else:
            raise DefinitionError(
                f"DependsOn entry {item!r} of step '{name}' must be a step name or "
                f'{{"Step": name, "Trigger": one of {sorted(TRIGGERS)}}}.'
            )
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
                f"Retry policy of step '{name}' ({kind}) names exception type(s) {wrong}; allowed: {sorted(allowed)}."
            )
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
            f"Condition {condition!r} in step '{name}' has unknown Type; use one of {sorted(CONDITION_TYPES)}."
        )
    needed = {"Not": ["Condition"], "Or": ["Conditions"], "In": ["QueryValue", "Values"]}.get(
        kind, ["LeftValue", "RightValue"]
    )
    missing = [k for k in needed if k not in condition]
    if missing:
        raise DefinitionError(f"{kind} condition in step '{name}' is missing {missing}.")
    if kind == "Not":
        _check_condition(name, condition["Condition"])
    elif kind == "Or":
        _check_conditions(name, condition["Conditions"])


def _upstream(step: Step, steps: dict[str, Step]) -> list[Dependency]:
    found = {d.step: d for d in step.depends_on}
    for name in referenced_steps(step.own_expressions):
        found.setdefault(name, Dependency(name))
    if step.branch_of:
        found.setdefault(step.branch_of[0], Dependency(step.branch_of[0]))
    return list(found.values())


def _check_acyclic(upstream: dict[str, list[Dependency]]) -> None:
    graph = {name: [dependency.step for dependency in dependencies] for name, dependencies in upstream.items()}
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as exc:
        cycle = exc.args[1]  # each step runs before the next; the first is repeated at the end
        raise DefinitionError(
            "Pipeline definition has a cycle between steps: "
            + " -> ".join(cycle)
            + ". Remove a DependsOn entry or property reference to break it."
        ) from None
