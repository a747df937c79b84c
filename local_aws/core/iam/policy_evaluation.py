"""IAM's evaluation of identity policies: does a set of policies allow one action on one resource?

As AWS documents it: an explicit Deny in any statement wins, else an Allow, else the request is
implicitly denied. A statement applies when its Action (or NotAction) covers the action, compared
case-insensitively, its Resource (or NotResource) covers the resource, with `*` and `?` wildcards and
policy variables such as `${aws:username}` filled from the request context, and every condition in its
Condition block holds for the request context. The condition operators are the ones AWS-managed
policies use (String*, Arn*, Bool, Null, Numeric*, with IfExists and ForAnyValue/ForAllValues); a
condition on a key the context lacks is false, but true for a negated operator, IfExists and
ForAllValues, as AWS evaluates them.

SimulatePrincipalPolicy reports those missing keys instead: given a `missing` set, a statement whose
condition names a key the context lacks does not apply and the key is added to the set.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Iterable

Context = dict[str, list[str]]  # condition key (lower case) -> its values in this request
_VARIABLE = re.compile(r"\$\{([^}]+)\}")


def decide(
    policies: Iterable[tuple[str, dict]], action: str, resource: str, context: Context, missing: set[str] | None = None
) -> tuple[str, list[str]]:
    """("allowed" | "explicitDeny" | "implicitDeny", the ids of the policies whose statements decided)."""
    allowed, denied = [], []
    for policy_id, document in policies:
        statements = document.get("Statement", [])
        for statement in statements if isinstance(statements, list) else [statements]:
            if _applies(statement, action, resource, context, missing):
                (denied if statement.get("Effect") == "Deny" else allowed).append(policy_id)
    if denied:
        return "explicitDeny", denied
    return ("allowed", allowed) if allowed else ("implicitDeny", [])


def _applies(statement: dict, action: str, resource: str, context: Context, missing: set[str] | None) -> bool:
    if "NotAction" in statement:
        if _matches_any(statement["NotAction"], action, ignore_case=True):
            return False
    elif not _matches_any(statement.get("Action", []), action, ignore_case=True):
        return False
    if "NotResource" in statement:
        if _matches_any(_filled(statement["NotResource"], context), resource):
            return False
    elif not _matches_any(_filled(statement.get("Resource", "*"), context), resource):
        return False
    return all(
        _condition(operator, key, expected, context, missing)
        for operator, block in (statement.get("Condition") or {}).items()
        for key, expected in block.items()
    )


def _as_list(value: str | list[str]) -> list[str]:
    return value if isinstance(value, list) else [value]


def _filled(patterns: str | list[str], context: Context) -> list[str]:
    """Patterns with their policy variables replaced by the context's values (unmatchable if absent)."""

    def fill(match: re.Match) -> str:
        values = context.get(match.group(1).lower())
        return values[0] if values else "\0"

    return [_VARIABLE.sub(fill, pattern) for pattern in _as_list(patterns)]


def _matches_any(patterns: str | list[str], value: str, ignore_case: bool = False) -> bool:
    return any(_glob(pattern, ignore_case).fullmatch(value) for pattern in _as_list(patterns))


@functools.lru_cache(maxsize=4096)
def _glob(pattern: str, ignore_case: bool) -> re.Pattern:
    regex = fnmatch.translate(pattern.replace("[", "\0")).replace("\0", r"\[")  # only * and ? are wildcards
    return re.compile(regex, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def _condition(operator: str, key: str, expected: str | list[str], context: Context, missing: set[str] | None) -> bool:
    quantifier, _, test = operator.rpartition(":")
    if_exists = test.endswith("IfExists")
    test = test.removesuffix("IfExists")
    expected = [str(value) for value in _as_list(expected)]
    actual = context.get(key.lower())
    if test == "Null":
        return (actual is None) == (expected[0].lower() == "true")
    if actual is None:
        if missing is not None and not if_exists:
            missing.add(key)
            return False
        return if_exists or quantifier == "ForAllValues" or test.startswith(("StringNot", "ArnNot", "NumericNot"))
    negated = "Not" in test
    check = _TESTS.get(test.replace("Not", ""))
    if check is None:
        return False  # an operator local_aws does not know: the statement does not apply
    if quantifier == "ForAllValues":
        return all(check(value, expected) != negated for value in actual)
    return any(check(value, expected) for value in actual) != negated


def _numeric(compare):
    def test(value: str, expected: list[str]) -> bool:
        try:
            return any(compare(float(value), float(e)) for e in expected)
        except ValueError:
            return False

    return test


_TESTS = {
    "StringEquals": lambda value, expected: value in expected,
    "StringEqualsIgnoreCase": lambda value, expected: value.lower() in [e.lower() for e in expected],
    "StringLike": lambda value, expected: any(_glob(e, False).fullmatch(value) for e in expected),
    "ArnEquals": lambda value, expected: value in expected,
    "ArnLike": lambda value, expected: any(_glob(e, False).fullmatch(value) for e in expected),
    "Bool": lambda value, expected: value.lower() in [e.lower() for e in expected],
    "NumericEquals": _numeric(lambda a, b: a == b),
    "NumericLessThan": _numeric(lambda a, b: a < b),
    "NumericLessThanEquals": _numeric(lambda a, b: a <= b),
    "NumericGreaterThan": _numeric(lambda a, b: a > b),
    "NumericGreaterThanEquals": _numeric(lambda a, b: a >= b),
}
