"""Expressions in a pipeline definition: finding them, and evaluating them while an execution runs.

Step arguments may hold `{"Get": "Parameters.X" | "Execution.X" | "Steps.S.<property path>" |
"PipelineExperimentConfig.X"}`, `{"Std:Join": {"On", "Values"}}` and `{"Std:JsonGet": {"PropertyFile"
| "S3Uri", "Path"}}` anywhere; a Condition step's conditions compare their values. At run time they
read a Scope: one execution's typed parameters, its variables and its steps' results.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

_PATH_TOKEN = re.compile(r"\.?([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\['([^']*)'\]|\[\"([^\"]*)\"\]")
_NAME_KEYS = ("OutputName", "InputName", "ChannelName", "MetricName", "Name")
_MISSING = object()


class EvaluationError(ValueError):
    """An expression could not be evaluated at run time (the step using it fails with this reason)."""


def expressions(obj: Any) -> Iterator[dict]:
    """Every expression ({"Get"}, {"Std:Join"}, {"Std:JsonGet"}) inside obj, outermost first."""
    if isinstance(obj, dict):
        if is_expression(obj):
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


def is_expression(obj: dict) -> bool:
    return len(obj) == 1 and next(iter(obj)) in ("Get", "Std:Join", "Std:JsonGet")


def referenced_steps(obj: Any) -> set[str]:
    """Names of the steps whose properties or property files obj reads."""
    names = set()
    for expr in expressions(obj):
        path = expr.get("Get")
        if isinstance(path, str) and path.startswith("Steps."):
            names.add(path.split(".")[1])
    return names


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
        if is_expression(obj):
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
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


# --- conditions ----------------------------------------------------------------------------------


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
                f"({_type_name(right)}), which are not of the same type."
            )
        return _equal(left, right)
    if not _comparable(left, right) or isinstance(left, (bool, dict, list)) or left is None:
        raise EvaluationError(
            f"{kind} condition cannot order LeftValue {left!r} ({_type_name(left)}) and RightValue {right!r} "
            f"({_type_name(right)}); both must be numbers or both strings."
        )
    return {
        "GreaterThan": left > right,
        "GreaterThanOrEqualTo": left >= right,
        "LessThan": left < right,
        "LessThanOrEqualTo": left <= right,
    }[kind]


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _comparable(left: Any, right: Any) -> bool:
    return (_is_number(left) and _is_number(right)) or type(left) is type(right)


def _equal(left: Any, right: Any) -> bool:
    return left == right if _comparable(left, right) else False


def _type_name(value: Any) -> str:
    return {bool: "Boolean", int: "Integer", float: "Float", str: "String"}.get(type(value), type(value).__name__)
