"""Athena's SQL read as Trino and written as DuckDB, with sqlglot.

StartQueryExecution reads every query here first (`read`), so a syntax error is answered at once,
worded as Athena words it: `line 1:1: mismatched input 'SELEC'. Expecting: 'ALTER', ..., <query>`.
A query's AST then answers what the engine needs: the tables it reads (`table_refs`, CTE names
left out), Athena's names for its result columns (`column_names`), and the DuckDB SQL to run
(`to_duckdb`, with ExecutionParameters in its `?` placeholders). sqlglot translates the Trino
functions DuckDB lacks; the dialect below adds those it does not (`to_timestamp` with a Teradata
format, `parse_datetime`/`format_datetime` with Joda patterns, `nan()`, `infinity()`); only
`to_iso8601`, whose form depends on its argument's type, stays a DuckDB macro (`DUCKDB_MACROS`).
Statements other than queries (DDL...) are not parsed: Athena routes them to Hive, and local_aws
runs none of them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect, build_formatted_time
from sqlglot.dialects.trino import Trino
from sqlglot.errors import ErrorLevel, ParseError, SqlglotError, TokenError
from sqlglot.helper import seq_get
from sqlglot.time import format_time
from sqlglot.tokens import Token, TokenType
from sqlglot.trie import new_trie

from local_aws.athena.failures import QueryError

STATEMENT_KEYWORDS = (
    "ALTER",
    "ANALYZE",
    "CALL",
    "COMMIT",
    "CREATE",
    "DEALLOCATE",
    "DELETE",
    "DESC",
    "DESCRIBE",
    "DROP",
    "EXECUTE",
    "EXPLAIN",
    "GRANT",
    "INSERT",
    "PREPARE",
    "RESET",
    "REVOKE",
    "ROLLBACK",
    "SET",
    "SHOW",
    "START",
    "UNLOAD",
    "UPDATE",
    "USE",
)
QUERY_KEYWORDS = ("SELECT", "WITH", "VALUES", "TABLE")
# Statements Athena takes besides Trino's (Hive's partition repair, Iceberg's maintenance).
OTHER_STATEMENTS = ("MSCK", "MERGE", "OPTIMIZE", "VACUUM")
EXPECTING_STATEMENT = "Expecting: " + ", ".join(f"'{word}'" for word in STATEMENT_KEYWORDS) + ", <query>"

# Joda-style format_datetime/parse_datetime patterns -> sqlglot's (Python strftime) specifiers.
JODA_FORMAT = {
    "yyyy": "%Y",
    "yy": "%y",
    "MM": "%m",
    "dd": "%d",
    "HH": "%H",
    "hh": "%I",
    "mm": "%M",
    "ss": "%S",
    "SSS": "%f_three",
    "a": "%p",
}
_JODA_TRIE = new_trie(JODA_FORMAT)
# Trino functions DuckDB lacks that no AST rewrite expresses: name -> "(params) AS body".
DUCKDB_MACROS = {
    "to_iso8601": "(ts) AS strftime(ts, '%Y-%m-%dT%H:%M:%S.%g') || "
    "CASE WHEN typeof(ts) LIKE '%TIME ZONE' THEN 'Z' ELSE '' END",
}


class MalformedQuery(ValueError):
    """A query Athena's parser rejects: StartQueryExecution answers it with this message."""


def _joda(kind: type[exp.Expr]) -> Callable[[list], exp.Expr]:
    """A builder of `kind` whose literal Joda pattern becomes strftime's."""

    def build(args: list) -> exp.Expr:
        pattern = seq_get(args, 1)
        if isinstance(pattern, exp.Literal) and pattern.is_string:
            pattern = exp.Literal.string(format_time(pattern.this, JODA_FORMAT, _JODA_TRIE))
        return kind(this=seq_get(args, 0), format=pattern)

    return build


def _to_timestamp(args: list, dialect: Trino) -> exp.Expr:
    """Trino's Teradata `to_timestamp(string, format)`; one argument stays DuckDB's epoch form."""
    if len(args) == 1:
        return exp.UnixToTime(this=args[0])
    pattern = seq_get(args, 1)
    if isinstance(pattern, exp.Literal) and pattern.is_string:
        pattern.set("this", pattern.this.upper())  # Teradata's format mapping is upper case
    return build_formatted_time(exp.StrToTime, "teradata")(args, dialect)


def _double(literal: str) -> Callable[[list], exp.Expr]:
    """A builder of the DOUBLE `literal` names (NaN, Infinity), for Trino's `nan()` and `infinity()`."""
    return lambda args: exp.cast(exp.Literal.string(literal), exp.DataType.Type.DOUBLE)


class AthenaTrino(Trino):
    """Trino as Athena engine 3 reads it, with the functions sqlglot leaves untranslated for DuckDB."""

    class Parser(Trino.Parser):
        FUNCTIONS = {
            **Trino.Parser.FUNCTIONS,
            "FORMAT_DATETIME": _joda(exp.TimeToStr),
            "PARSE_DATETIME": _joda(exp.StrToTime),
            "TO_TIMESTAMP": _to_timestamp,
            "NAN": _double("NaN"),
            "INFINITY": _double("Infinity"),
        }
        # `?` remembers where it stands, so ExecutionParameters fill the placeholders in text order.
        PLACEHOLDER_PARSERS = {
            **Trino.Parser.PLACEHOLDER_PARSERS,
            TokenType.PLACEHOLDER: lambda self: self.expression(exp.Placeholder(), token=self._prev),
        }


DIALECT = AthenaTrino()
DUCKDB = Dialect.get_or_raise("duckdb")


@dataclass(frozen=True)
class TableRef:
    catalog: str
    schema: str
    table: str
    offset: int  # where the name starts in the query


@dataclass(frozen=True)
class Statement:
    """One StartQueryExecution's QueryString, read: its tokens and, for a query, its AST."""

    text: str
    tokens: list[Token]
    first_word: str
    trees: list[exp.Expr]  # one per statement of a query; none for other statements (not parsed)

    @property
    def is_query(self) -> bool:
        return self.first_word in QUERY_KEYWORDS

    @property
    def statement_type(self) -> str:
        """Athena's StatementType: DML (SELECT, INSERT...), DDL (CREATE, DROP...) or UTILITY."""
        if self.first_word in ("CREATE", "DROP", "ALTER", "MSCK"):
            return "DDL"
        if self.first_word in ("SHOW", "DESCRIBE", "DESC", "EXPLAIN", "USE"):
            return "UTILITY"
        return "DML"

    @property
    def substatement_type(self) -> str:
        """Athena's SubstatementType: SELECT for queries (WITH, VALUES too), else the statement's verb."""
        return "SELECT" if self.is_query else self.first_word


def read(sql: str) -> Statement:
    """The statement `sql` is; raises MalformedQuery where Athena's parser would reject it."""
    tokenizer = DIALECT.tokenizer()
    try:
        tokens = tokenizer.tokenize(sql)
    except TokenError:
        done = tokenizer.tokens
        offset = done[-1].end + 1 if done else 0
        offset += len(sql[offset:]) - len(sql[offset:].lstrip())
        raise MalformedQuery(
            f"{line_col(sql, offset)}: token recognition error at: "
            f"'{sql[offset:].splitlines()[0] if sql[offset:] else ''}'"
        ) from None
    first = next((token for token in tokens if token.token_type != TokenType.L_PAREN), None)
    if first is None:
        raise MalformedQuery(f"{line_col(sql, len(sql))}: mismatched input '<EOF>'. {EXPECTING_STATEMENT}")
    words = first.text.upper().split() if first.token_type not in (TokenType.IDENTIFIER, TokenType.STRING) else []
    word = words[0] if words else ""
    if word not in STATEMENT_KEYWORDS + QUERY_KEYWORDS + OTHER_STATEMENTS:
        raise MalformedQuery(
            f"{line_col(sql, first.start)}: mismatched input "
            f"'{sql[first.start : first.end + 1]}'. {EXPECTING_STATEMENT}"
        )
    trees = []
    if word in QUERY_KEYWORDS:
        try:
            trees = [tree for tree in DIALECT.parser().parse(tokens, sql) if tree is not None]
        except ParseError as err:
            raise MalformedQuery(_parse_error_message(sql, err)) from None
    return Statement(sql, tokens, word, trees)


def _parse_error_message(sql: str, err: ParseError) -> str:
    """Athena's `line L:C: mismatched input 'X'. ...` from sqlglot's first error."""
    error = err.errors[0] if err.errors else {}
    highlight = error.get("highlight") or ""
    description = re.sub(r"<class '[\w.]*?(\w+)'>", r"\1", error.get("description") or "")
    description = re.sub(r"^Expecting (\S+)$", r"Expecting: '\1'", description)  # as Trino lists tokens
    if description.startswith(("Required keyword", "Expecting")) and not (error.get("end_context") or "").strip():
        return f"{line_col(sql, len(sql.rstrip()))}: mismatched input '<EOF>'. {description}"  # ran out of input
    line, end_col = error.get("line") or 1, error.get("col") or 1
    return f"line {line}:{max(end_col - len(highlight) + 1, 1)}: mismatched input '{highlight}'. {description}"


def line_col(sql: str, offset: int) -> str:
    """Athena's `line L:C` (both from 1) of a character offset in the query."""
    before = sql[: max(offset, 0)]
    return f"line {before.count(chr(10)) + 1}:{len(before) - (before.rfind(chr(10)) + 1) + 1}"


def table_refs(statement: Statement) -> list[TableRef]:
    """The tables the query reads, in text order; names of its CTEs are not tables."""
    tree = statement.trees[0]
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    refs = []
    for table in tree.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier) or (not table.db and table.name.lower() in ctes):
            continue  # a table function, or a CTE
        parts = [part for part in table.parts if part.meta.get("start") is not None]
        offset = min((part.meta["start"] for part in parts), default=0)
        refs.append(TableRef(table.catalog, table.db, table.name, offset))
    return sorted(refs, key=lambda ref: ref.offset)


def column_names(statement: Statement, engine_names: list[str]) -> list[str]:
    """Athena's result column names: the alias, else the column's name, else `_col<i>`; lowercased."""
    node = statement.trees[0]
    while isinstance(node, (exp.SetOperation, exp.Subquery)):
        node = node.left if isinstance(node, exp.SetOperation) else node.this
    entries = node.expressions if isinstance(node, exp.Select) else []
    stars = sum(1 for entry in entries if entry.is_star)
    if not entries or stars > 1:
        return [name.lower() for name in engine_names]
    width = len(engine_names) - (len(entries) - stars)
    names: list[str] = []
    for entry in entries:
        if entry.is_star:
            names += engine_names[len(names) : len(names) + width]
        elif isinstance(entry, (exp.Alias, exp.Column)):
            names.append(entry.alias_or_name)
        else:
            names.append(f"_col{len(names)}")
    if len(names) != len(engine_names):
        return [name.lower() for name in engine_names]
    return [name.lower() for name in names]


def to_duckdb(statement: Statement, parameters: list[str]) -> str:
    """The query as DuckDB SQL, ExecutionParameters (SQL literals) in its `?` placeholders in text order."""
    tree = statement.trees[0].copy()
    marks = sorted(tree.find_all(exp.Placeholder), key=lambda mark: mark.meta.get("start", 0))
    if len(marks) != len(parameters):
        raise QueryError(
            "INVALID_PARAMETER_USAGE",
            f"Incorrect number of parameters: expected {len(marks)} but found {len(parameters)}",
            error_type=1000,
        )
    for mark, value in zip(marks, parameters):
        try:
            mark.replace(sqlglot.parse_one(value, read=DIALECT))
        except SqlglotError as err:
            raise QueryError(
                "INVALID_PARAMETER_USAGE",
                f"Execution parameter {value!r} is not a SQL value: {str(err).splitlines()[0]}",
                error_type=1000,
            ) from None
    try:
        return tree.sql(DUCKDB, unsupported_level=ErrorLevel.RAISE)
    except SqlglotError as err:
        raise QueryError("NOT_SUPPORTED", f"local_aws cannot run this on DuckDB: {err}", error_type=1000) from None


def source_offset(statement: Statement, duckdb_sql: str, offset: int) -> int | None:
    """Where the token at `offset` of the DuckDB SQL stands in the query as written: the same
    occurrence of the same word (sqlglot rewrites the text, so positions differ)."""
    try:
        written = DUCKDB.tokenize(duckdb_sql)
    except TokenError:
        return None
    at = next((i for i, token in enumerate(written) if token.end >= offset), None)
    if at is None:
        return None
    word = written[at].text.upper()
    occurrence = sum(1 for token in written[:at] if token.text.upper() == word)
    matches = [token.start for token in statement.tokens if token.text.upper() == word]
    return matches[occurrence] if occurrence < len(matches) else None
