"""Why a query FAILED, in Athena's words: `<ERROR_NAME>: line 1:8: <message>`, from DuckDB's errors.

These are the StateChangeReason and AthenaError of a query execution, not AWS error responses
(those are local_aws.core.gateway.errors). Athena names the failure (COLUMN_NOT_FOUND, TYPE_MISMATCH...),
its category (1 system, 2 user) and type; DuckDB's error classes and messages map onto them.
"""

from __future__ import annotations

import re

import duckdb


class QueryError(Exception):
    """A query that fails as Athena fails it: `<ERROR_NAME>: <message>`, category 2 (user) by default; without a
    name, the message alone (as Athena words the failures of its own S3 and Glue calls)."""

    def __init__(self, name: str, message: str, category: int = 2, error_type: int = 1006):
        reason = f"{name}: {message}" if name else message
        super().__init__(reason)
        self.reason = reason
        self.category = category
        self.error_type = error_type


class QueryCancelled(Exception):
    """The query was stopped (StopQueryExecution) while it ran."""


def error_offset(exc: duckdb.Error, sql: str) -> int | None:
    """The character offset in `sql` DuckDB's caret points at (`LINE 1: ...text...` then `   ^`);
    DuckDB shows a window of a long line, cut with `...`, so the window is looked up in the text."""
    caret = re.search(r"LINE (\d+): (.*)\n( *)\^", str(exc))
    if not caret:
        return None
    line_number, window, pad = int(caret.group(1)), caret.group(2), len(caret.group(3))
    at = pad - len(f"LINE {caret.group(1)}: ")
    cut = window.startswith("...")
    window = window[3:] if cut else window
    at -= 3 if cut else 0
    window = window[:-3] if window.endswith("...") else window
    lines = sql.split("\n")
    if not 1 <= line_number <= len(lines) or window not in lines[line_number - 1]:
        return None
    start = sum(len(line) + 1 for line in lines[: line_number - 1])
    return start + lines[line_number - 1].index(window) + max(at, 0)


def from_duckdb(exc: duckdb.Error, where: str) -> QueryError:
    """Athena's failure for a DuckDB error; `where` is `line L:C: ` in the query as written, or ''."""
    first = str(exc).split("\n")[0]
    message = re.sub(r"^[A-Za-z ]+ Error: ", "", first)
    column = re.search(r'Referenced column "([^"]+)" not found', first)
    if column:
        return QueryError(
            "COLUMN_NOT_FOUND",
            f"{where}Column '{column.group(1).lower()}' cannot be resolved "
            "or requester is not authorized to access requested resources",
        )
    function = re.search(r"Function with name (\w+) does not exist", first)
    if function:
        return QueryError("FUNCTION_NOT_FOUND", f"{where}Function '{function.group(1).lower()}' not registered")
    aggregate = re.search(r'column "([^"]+)" must appear in the GROUP BY clause', first)
    if aggregate:
        return QueryError(
            "EXPRESSION_NOT_AGGREGATE",
            f"{where}'{aggregate.group(1)}' must be an aggregate expression or appear in GROUP BY clause",
        )
    if isinstance(exc, duckdb.ParserException):
        return QueryError("SYNTAX_ERROR", where + message)
    if isinstance(exc, duckdb.ConversionException):
        return QueryError("INVALID_CAST_ARGUMENT", where + message, error_type=1000)
    if isinstance(exc, duckdb.OutOfRangeException):
        return QueryError("NUMERIC_VALUE_OUT_OF_RANGE", where + message, error_type=1000)
    if isinstance(exc, duckdb.BinderException) and (
        "No function matches" in first or "Cannot compare" in first or "Cannot mix" in first
    ):
        return QueryError("TYPE_MISMATCH", where + message)
    if isinstance(exc, (duckdb.BinderException, duckdb.CatalogException)):
        return QueryError("SYNTAX_ERROR", where + message)
    if isinstance(exc, duckdb.InvalidInputException):
        return QueryError("INVALID_FUNCTION_ARGUMENT", where + message, error_type=1000)
    return QueryError("GENERIC_INTERNAL_ERROR", where + message, category=1, error_type=200)
