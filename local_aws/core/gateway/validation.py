"""Request validation driven by the botocore service models, with AWS's own messages.

Every request is checked against its operation's input shape before its handler runs: required
members, string and list lengths, number ranges, patterns and enums, at any depth. A request that
breaks them is answered as AWS answers it, every broken constraint named:

    1 validation error detected: Value 'x y' at 'featureGroupName' failed to satisfy constraint:
    Member must satisfy regular expression pattern: [a-zA-Z0-9]([_-]*[a-zA-Z0-9]){0,63}

A member of the wrong JSON type (a string where a number belongs) is a SerializationException, as
in AWS's JSON protocols. Checks are compiled once per operation into closures, so validating a
PutRecord costs microseconds. Handlers keep only the checks no model can express (reserved names,
references between members, state).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any

import regex
from botocore.model import Shape

from local_aws.core.gateway.errors import AwsError, SerializationException, validation_error
from local_aws.core.gateway.service_models import operation_model

Check = Callable[[Any, str, list], None]  # (value, path, errors found so far)

# Patterns that accept every string: skipped instead of matched.
_ANY = {".*", "^.*$", "(.*)", "[\\s\\S]*", "[\\S\\s]*", "^[\\s\\S]*$", "[\\S\\s]+|", ".*\\S.*|"}
# Java writes a supplementary character range as a UTF-16 surrogate range; Python needs code points.
_SURROGATE_RANGE = "\\uD800\\uDC00-\\uDBFF\\uDFFF"
_NUMBER_TYPES = {"integer", "long", "float", "double"}
_MATCHED_CACHE_SIZE = 4096  # per pattern

_cache: dict[tuple[str, str], Check] = {}
_lock = threading.Lock()


def validate(service: str, operation: str, request: dict) -> None:
    """Raise the service's validation error naming every constraint `request` breaks."""
    key = (service, operation)
    check = _cache.get(key)
    if check is None:
        with _lock:
            check = _cache.get(key) or _Compiler().compile(operation_model(service, operation).input_shape)
            _cache[key] = check
    errors: list[str] = []
    check(request, "", errors)
    _refuse(service, errors)


def check_types(service: str, operation: str, request: dict) -> None:
    """Raise SerializationException for a member of the wrong JSON type; leave the model's other constraints
    (lengths, patterns, required members) to whoever answers (moto checks its own)."""
    try:
        validate(service, operation, request)
    except SerializationException:
        raise
    except AwsError:
        pass


def require(service: str, request: dict, *members: str) -> None:
    """Refuse a request that lacks members the call needs though its model marks them optional."""
    _refuse(
        service,
        [
            _violation(None, member_path("", member), "Member must not be null")
            for member in members
            if request.get(member) is None
        ],
    )


def _refuse(service: str, errors: list[str]) -> None:
    if errors:
        count = f"{len(errors)} validation error{'s' if len(errors) > 1 else ''} detected: "
        raise validation_error(service, count + "; ".join(errors))


def member_path(parent: str, member: str) -> str:
    """AWS's name for a member in messages: lowerCamelCase, dotted below its parent."""
    name = member[:1].lower() + member[1:]
    return f"{parent}.{name}" if parent else name


def render(value: Any) -> str:
    """A value as AWS's messages show it (Java's toString: lists as [a, b], maps as {k=v})."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(render(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}={render(item)}" for key, item in value.items()) + "}"
    return str(value)


def _violation(value: Any, path: str, constraint: str) -> str:
    shown = "null" if value is None else f"'{render(value)}'"
    return f"Value {shown} at '{path}' failed to satisfy constraint: {constraint}"


def compile_pattern(pattern: str) -> Callable[[str], Any] | None:
    """A full-match function for a model's (Java) regular expression; None when it accepts anything."""
    if pattern in _ANY:
        return None
    pattern = pattern.replace(_SURROGATE_RANGE, "\\U00010000-\\U0010FFFF")
    try:
        return re.compile(pattern).fullmatch
    except re.error:  # Java's \p{L} classes and the like: the regex module knows them
        return regex.compile(pattern).fullmatch


class _Compiler:
    """Turns shapes into checks; shapes that refer to themselves resolve through `self.checks`."""

    def __init__(self) -> None:
        self.checks: dict[str, Check] = {}

    def compile(self, shape: Shape | None) -> Check:
        if shape is None or shape.metadata.get("document"):  # a document member holds any JSON
            return lambda value, path, errors: None
        if shape.name not in self.checks:
            self.checks[shape.name] = lambda value, path, errors: self.checks[shape.name](value, path, errors)
            self.checks[shape.name] = getattr(self, f"_{shape.type_name}", self._scalar)(shape)
        return self.checks[shape.name]

    def _structure(self, shape: Shape) -> Check:
        members = {name: (name[:1].lower() + name[1:], self.compile(member)) for name, member in shape.members.items()}
        required = list(shape.required_members)

        def check(value: Any, path: str, errors: list) -> None:
            if not isinstance(value, dict):
                raise _wrong_type(value, path, "structure")
            for name in required:
                if value.get(name) is None:
                    errors.append(_violation(None, member_path(path, name), "Member must not be null"))
            for name, item in value.items():  # members the model does not know are ignored, as AWS does
                member = members.get(name)
                if member is not None and item is not None:
                    member[1](item, f"{path}.{member[0]}" if path else member[0], errors)

        return check

    def _list(self, shape: Shape) -> Check:
        item_check = self.compile(shape.member)
        length = _length_check(shape)

        def check(value: Any, path: str, errors: list) -> None:
            if not isinstance(value, list):
                raise _wrong_type(value, path, "list")
            length(value, path, errors)
            for index, item in enumerate(value, start=1):
                if item is not None:
                    item_check(item, f"{path}.{index}.member", errors)

        return check

    def _map(self, shape: Shape) -> Check:
        key_check, value_check = self.compile(shape.key), self.compile(shape.value)
        length = _length_check(shape)

        def check(value: Any, path: str, errors: list) -> None:
            if not isinstance(value, dict):
                raise _wrong_type(value, path, "map")
            length(value, path, errors)
            for kind, part_check, parts in (("keys", key_check, value.keys()), ("value", value_check, value.values())):
                found: list[str] = []
                for part in parts:
                    if part is not None:
                        part_check(part, path, found)
                if found:
                    constraints = ", ".join(sorted({f.split("failed to satisfy constraint: ", 1)[1] for f in found}))
                    errors.append(_violation(value, path, f"Map {kind} must satisfy constraint: [{constraints}]"))

        return check

    def _string(self, shape: Shape) -> Check:
        enum = shape.enum
        enum_set = frozenset(enum or ())
        minimum, maximum = shape.metadata.get("min"), shape.metadata.get("max")
        matches = compile_pattern(shape.metadata["pattern"]) if "pattern" in shape.metadata else None
        pattern = shape.metadata.get("pattern")
        matched: set[str] = set()  # values known to match: names recur in every request (PutRecord's)

        def check(value: Any, path: str, errors: list) -> None:
            if not isinstance(value, str):
                raise _wrong_type(value, path, "string")
            if enum_set and value not in enum_set:
                errors.append(_violation(value, path, f"Member must satisfy enum value set: [{', '.join(enum)}]"))
            if minimum is not None and len(value) < minimum:
                errors.append(_violation(value, path, f"Member must have length greater than or equal to {minimum}"))
            if maximum is not None and len(value) > maximum:
                errors.append(_violation(value, path, f"Member must have length less than or equal to {maximum}"))
            if matches is not None and value not in matched:
                if not matches(value):
                    errors.append(_violation(value, path, f"Member must satisfy regular expression pattern: {pattern}"))
                elif len(matched) < _MATCHED_CACHE_SIZE:
                    matched.add(value)

        return check

    def _scalar(self, shape: Shape) -> Check:
        kind = shape.type_name
        minimum, maximum = shape.metadata.get("min"), shape.metadata.get("max")

        def check(value: Any, path: str, errors: list) -> None:
            if kind in _NUMBER_TYPES:
                if (
                    isinstance(value, bool)
                    or not isinstance(value, (int, float))
                    or (kind in ("integer", "long") and isinstance(value, float) and not value.is_integer())
                ):
                    raise _wrong_type(value, path, kind)
                if minimum is not None and value < minimum:
                    errors.append(_violation(value, path, f"Member must have value greater than or equal to {minimum}"))
                if maximum is not None and value > maximum:
                    errors.append(_violation(value, path, f"Member must have value less than or equal to {maximum}"))
            elif kind == "boolean" and not isinstance(value, bool):
                raise _wrong_type(value, path, kind)
            elif kind == "timestamp" and (isinstance(value, bool) or not isinstance(value, (int, float, str))):
                raise _wrong_type(value, path, kind)
            elif kind == "blob" and not isinstance(value, (str, bytes)):
                raise _wrong_type(value, path, kind)

        return check


def _length_check(shape: Shape) -> Check:
    minimum, maximum = shape.metadata.get("min"), shape.metadata.get("max")

    def check(value: Any, path: str, errors: list) -> None:
        if minimum is not None and len(value) < minimum:
            errors.append(_violation(value, path, f"Member must have length greater than or equal to {minimum}"))
        if maximum is not None and len(value) > maximum:
            errors.append(_violation(value, path, f"Member must have length less than or equal to {maximum}"))

    return check


def _wrong_type(value: Any, path: str, expected: str) -> SerializationException:
    found = {bool: "boolean", int: "number", float: "number", str: "string", list: "list", dict: "structure"}.get(
        type(value), type(value).__name__
    )
    article = "an" if expected[0] in "aeiou" else "a"
    return SerializationException(
        f"Value {render(value)!r} at '{path or 'request'}' is a {found}, but the API "
        f"expects {article} {expected} there. Send the member with the type the API defines."
    )
