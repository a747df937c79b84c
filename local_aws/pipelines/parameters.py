"""Pipeline parameters: declared in the definition, given as strings to StartPipelineExecution.

A definition declares each parameter's Type (String, Integer, Float, Boolean), an optional default
and, for strings, optional EnumValues; an execution runs with typed values, each given one checked
against its declaration, and lists them back as ListPipelineParametersForExecution answers.
"""

from __future__ import annotations

import re
from typing import Any

from local_aws.core.gateway.errors import ValidationException
from local_aws.pipelines.definition import Definition, DefinitionError
from local_aws.pipelines.expressions import to_text

PARAMETER_TYPES = {"String", "Integer", "Float", "Boolean"}
PARAMETER_NAME = re.compile(r"^[A-Za-z0-9\-_]{1,256}$")


def parse_parameters(raw: Any) -> dict[str, dict]:
    """The definition's Parameters by name; DefinitionError names the first problem."""
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
                    f"Default value {item['DefaultValue']!r} of parameter '{name}' is not of type {kind}."
                ) from None
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


def execution_values(definition: Definition, given: list[dict]) -> tuple[dict[str, Any], list[dict]]:
    """Typed values for every declared parameter, and the [{Name, Value}] list the execution reports."""
    values: dict[str, str] = {}
    for item in given:
        name, value = item["Name"], item["Value"]
        if name in values:
            raise ValidationException(f"Pipeline parameter '{name}' is given more than once.")
        if name not in definition.parameters:
            raise ValidationException(
                f"Pipeline parameter '{name}' is not defined in the pipeline definition; "
                f"declared parameters: {sorted(definition.parameters)}."
            )
        values[name] = value
    typed, listed = {}, []
    for name, spec in definition.parameters.items():
        if name in values:
            try:
                typed[name] = typed_value(spec["Type"], values[name])
            except ValueError:
                raise ValidationException(
                    f"Value '{values[name]}' of pipeline parameter '{name}' is not a valid {spec['Type']}."
                ) from None
            text = values[name]
        elif "DefaultValue" in spec:
            typed[name] = typed_value(spec["Type"], spec["DefaultValue"])
            text = to_text(typed[name])
        else:
            raise ValidationException(
                f"Pipeline parameter '{name}' has no default value, so StartPipelineExecution must give it a value."
            )
        if spec.get("EnumValues") and typed[name] not in spec["EnumValues"]:
            raise ValidationException(
                f"Value '{text}' of pipeline parameter '{name}' is not one of {spec['EnumValues']}."
            )
        listed.append({"Name": name, "Value": text})
    return typed, listed
