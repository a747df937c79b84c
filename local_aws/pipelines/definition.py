"""A parsed pipeline definition: its parameters, steps and the dependencies between them.

`parsing.parse` builds one from the JSON the SDK's `Pipeline.definition()` emits; executions run
steps in the order `upstream` allows. Nothing here reads JSON or evaluates expressions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

_CACHE, _RETRY = {"CacheConfig"}, {"RetryPolicies"}
_CHECK = {
    "CheckType",
    "ModelPackageGroupName",
    "SkipCheck",
    "FailOnViolation",
    "RegisterNewBaseline",
    "SuppliedBaselineConstraints",
}
# The members a step of each type may have besides Name, Type, Arguments, DependsOn, DisplayName and
# Description: the pipeline definition JSON schema's, and what the SDK's step classes emit (to_request).
STEP_TYPE_MEMBERS: dict[str, set[str]] = {
    "Training": _CACHE | _RETRY,
    "Processing": _CACHE | _RETRY | {"PropertyFiles"},
    "Transform": _CACHE | _RETRY,
    "Tuning": _CACHE | _RETRY,
    "AutoML": _CACHE | _RETRY,
    "Job": _CACHE | _RETRY,
    "EMRServerless": _CACHE | _RETRY,
    "EndpointConfig": _CACHE | _RETRY,
    "Endpoint": _CACHE,
    "EMR": _CACHE,
    "Model": _RETRY,
    "RegisterModel": _RETRY,
    "Callback": _CACHE | {"SqsQueueUrl", "OutputParameters"},
    "Lambda": _CACHE | {"FunctionArn", "OutputParameters"},
    "QualityCheck": _CACHE | _RETRY | _CHECK | {"SuppliedBaselineStatistics"},
    "ClarifyCheck": _CACHE | _RETRY | _CHECK | {"ModelName"},
    "Condition": set(),
    "Fail": set(),
    "InferenceComponent": set(),
    "Lineage": set(),
    "Cleanup": set(),
    "ForEach": set(),
}
REQUIRED_STEP_MEMBERS = {
    "Lambda": ("FunctionArn",),
    "Callback": ("SqsQueueUrl",),
    "QualityCheck": ("CheckType",),
    "ClarifyCheck": ("CheckType",),
}
STEP_TYPES = set(STEP_TYPE_MEMBERS)
JOB_STEP_TYPES = {"Training", "Processing", "Transform", "Tuning"}
TRIGGERS = {"Completed", "Failed", "Stopped", "Any"}


class DefinitionError(ValueError):
    """The definition is not one the service would accept; the message names the problem."""


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
    members: dict | None = None  # its type's own members (a Callback's SqsQueueUrl, ...); None: saved before them

    @property
    def own_arguments(self) -> Any:
        """The arguments that belong to this step alone (a Condition's or a ForEach's nested steps are separate,
        and so is a ForEach's Selector, which reads its iterations' outputs)."""
        if self.type == "Condition":
            return {"Conditions": self.arguments.get("Conditions", [])}
        if self.type == "ForEach":
            return {key: self.arguments[key] for key in ("IterableItems", "MaxConcurrency") if key in self.arguments}
        return self.arguments

    @property
    def own_expressions(self) -> list:
        """Where this step's own expressions may be: its own arguments and its type's members."""
        return [self.own_arguments, self.members or {}]


@dataclass
class Definition:
    text: str
    parameters: dict[str, dict]  # name -> {Name, Type, DefaultValue?, EnumValues?}
    steps: dict[str, Step]  # every step, nested ones included, in definition order
    upstream: dict[str, list[Dependency]]  # step -> steps it waits for (DependsOn, data, its Condition)
    experiment_config: dict | None
    mlflow_config: dict | None = None  # MlflowResourceArn, MlflowExperimentName (expressions allowed)


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
