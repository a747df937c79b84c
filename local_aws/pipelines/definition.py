"""A parsed pipeline definition: its parameters, steps and the dependencies between them.

`parsing.parse` builds one from the JSON the SDK's `Pipeline.definition()` emits; executions run
steps in the order `upstream` allows. Nothing here reads JSON or evaluates expressions.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

STEP_TYPES = {
    "Training", "Processing", "Transform", "Tuning", "Model", "RegisterModel", "Condition", "Fail",
    "Callback", "Lambda", "QualityCheck", "ClarifyCheck", "EMR", "EMRServerless", "AutoML",
    "EndpointConfig", "Endpoint", "InferenceComponent", "Lineage", "Job", "Cleanup", "ForEach",
}
JOB_STEP_TYPES = {"Training", "Processing", "Transform", "Tuning"}
CACHEABLE_STEP_TYPES = JOB_STEP_TYPES | {"AutoML", "EMR", "QualityCheck", "ClarifyCheck"}
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
