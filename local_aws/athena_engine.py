"""Athena's query engine: DuckDB over the Parquet objects of the Glue tables a query names.

A query is parsed by DuckDB itself (`json_serialize_sql`) to find the tables it reads; each is
looked up in moto's Glue, its objects under StorageDescriptor.Location are read from moto's S3
(pyarrow), cast to the Glue schema and kept as a DuckDB table `awsdatacatalog.<db>.<table>`, so
`"db"."table"`, `db.table`, `AwsDataCatalog.db.table` and a bare `table` (in the query's default
database) all resolve. Loaded tables are cached by the objects' (key, etag): a query after new
objects arrived loads only those; a changed or deleted object or schema reloads the table.

DuckDB speaks a SQL close to Trino's; the Trino functions it lacks are added as DuckDB macros
(`TRINO_MACROS`, the whole documented mapping), and the two whose names DuckDB already uses
differently (`to_timestamp(string, format)`, `date_add(unit, n, ts)`) are renamed in the query text
(`RENAMED_FUNCTIONS`). Integer division is integer division, as in Trino. Errors are answered the
way Athena words them: `TABLE_NOT_FOUND: line 1:15: Table 'awsdatacatalog.db.t' does not exist`.
"""
from __future__ import annotations

import io
import json
import re
import threading
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Callable

import duckdb
import duckdb.sqltypes as sqltypes
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from local_aws import moto_state

CATALOG = "awsdatacatalog"

# MySQL-style date_format/date_parse specifiers -> strftime's (order matters: outputs are never inputs).
_MYSQL_FORMAT = [("%i", "%M"), ("%s", "%S"), ("%h", "%I"), ("%e", "%-d"), ("%c", "%-m"), ("%k", "%-H"),
                 ("%l", "%-I"), ("%W", "%A"), ("%T", "%H:%M:%S"), ("%r", "%I:%M:%S %p")]
# Joda-style format_datetime/parse_datetime patterns -> strftime's.
_JODA_FORMAT = [("yyyy", "%Y"), ("yy", "%y"), ("MM", "%m"), ("dd", "%d"), ("HH", "%H"), ("hh", "%I"),
                ("mm", "%M"), ("ss", "%S"), ("SSS", "%g"), ("a", "%p")]
# Teradata-style to_timestamp/to_char formats (case-insensitive) -> strftime's.
_TERADATA_FORMAT = [("yyyy", "%Y"), ("hh24", "%H"), ("hh", "%I"), ("mi", "%M"), ("mm", "%m"), ("dd", "%d"),
                    ("ss", "%S")]


def _convert_format(pattern: str, pairs: list[tuple[str, str]]) -> str:
    for old, new in pairs:
        pattern = pattern.replace(old, new)
    return pattern


# Trino functions DuckDB lacks, as DuckDB macros: name -> "(params) AS body[, (params) AS body]".
TRINO_MACROS = {
    "from_iso8601_timestamp": "(s) AS CAST(s AS TIMESTAMPTZ)",
    "from_iso8601_date": "(s) AS CAST(s AS DATE)",
    "from_unixtime": "(x) AS to_timestamp(x)",
    "to_unixtime": "(ts) AS epoch(ts)",
    "to_iso8601": "(ts) AS strftime(ts, '%Y-%m-%dT%H:%M:%S.%g') || "
                  "CASE WHEN typeof(ts) LIKE '%TIME ZONE' THEN 'Z' ELSE '' END",
    "date_parse": "(s, f) AS strptime(s, f)",
    "date_format": "(ts, f) AS strftime(ts, f)",
    "parse_datetime": "(s, f) AS strptime(s, f)",
    "format_datetime": "(ts, f) AS strftime(ts, f)",
    "to_char": "(ts, f) AS strftime(ts, f)",
    "trino_to_timestamp": "(x) AS to_timestamp(x), (s, f) AS strptime(s, f)",
    "trino_date_add": "(unit, n, ts) AS ts + CAST(CAST(n AS VARCHAR) || ' ' || unit AS INTERVAL)",
    "regexp_like": "(s, p) AS regexp_matches(s, p)",
    "approx_distinct": "(x) AS approx_count_distinct(x)",
    "approx_percentile": "(x, p) AS approx_quantile(x, p)",
    "json_extract_scalar": "(j, p) AS json_extract_string(j, p)",
    "day_of_week": "(d) AS isodow(d)",
    "day_of_year": "(d) AS dayofyear(d)",
    "year_of_week": "(d) AS isoyear(d)",
    "is_nan": "(x) AS isnan(x)",
    "nan": "() AS CAST('NaN' AS DOUBLE)",
    "infinity": "() AS CAST('Infinity' AS DOUBLE)",
    "sequence": "(a, b) AS generate_series(a, b)",
}
# Trino names DuckDB uses for something else: renamed in the query text to the macros above.
RENAMED_FUNCTIONS = {"to_timestamp": "trino_to_timestamp", "date_add": "trino_date_add"}
# Functions whose format argument, when a string literal, is rewritten into strftime's specifiers.
FORMAT_STYLES = {"date_parse": _MYSQL_FORMAT, "date_format": _MYSQL_FORMAT, "parse_datetime": _JODA_FORMAT,
                 "format_datetime": _JODA_FORMAT, "to_char": _TERADATA_FORMAT, "to_timestamp": _TERADATA_FORMAT}

# String literals, quoted identifiers and comments are skipped; calls of the functions above are found.
_TOKENS = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|/\*.*?\*/|\b(?P<fn>"
                     + "|".join(sorted(set(RENAMED_FUNCTIONS) | set(FORMAT_STYLES))) + r")\s*\(",
                     re.IGNORECASE | re.DOTALL)
_LITERAL = re.compile(r"'(?:[^']|'')*'")


def translate(sql: str) -> str:
    """Trino SQL -> the DuckDB SQL this engine runs: renames clashing functions, converts format literals."""
    edits: list[tuple[int, int, str]] = []
    for match in _TOKENS.finditer(sql):
        name = (match.group("fn") or "").lower()
        if not name:
            continue
        if name in RENAMED_FUNCTIONS:
            edits.append((match.start("fn"), match.end("fn"), RENAMED_FUNCTIONS[name]))
        literal = _format_literal(sql, match.end()) if name in FORMAT_STYLES else None
        if literal:
            text = sql[literal[0] + 1:literal[1] - 1].replace("''", "'")
            text = text.lower() if FORMAT_STYLES[name] is _TERADATA_FORMAT else text
            edits.append((literal[0], literal[1],
                          "'" + _convert_format(text, FORMAT_STYLES[name]).replace("'", "''") + "'"))
    for start, end, replacement in sorted(edits, reverse=True):
        sql = sql[:start] + replacement + sql[end:]
    return sql


_PLACEHOLDERS = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|/\*.*?\*/|(?P<mark>\?)", re.DOTALL)


def bind_parameters(sql: str, parameters: list[str]) -> str:
    """ExecutionParameters into the query's `?` placeholders, in order, as the SQL text they are."""
    marks = [m for m in _PLACEHOLDERS.finditer(sql) if m.group("mark")]
    if len(marks) != len(parameters):
        raise QueryError("INVALID_PARAMETER_USAGE", f"Incorrect number of parameters: expected {len(marks)} "
                         f"but found {len(parameters)}", error_type=1000)
    for mark, value in zip(reversed(marks), reversed(parameters)):
        sql = sql[:mark.start()] + value + sql[mark.end():]
    return sql


def _format_literal(sql: str, pos: int) -> tuple[int, int] | None:
    """(start, end) of a call's second argument when it is a string literal ending the call."""
    depth = 0
    while pos < len(sql):
        ch = sql[pos]
        if ch == "'":
            pos = _LITERAL.match(sql, pos).end() if _LITERAL.match(sql, pos) else len(sql)
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            if depth == 0:
                return None
            depth -= 1
        elif ch == "," and depth == 0:
            literal = _LITERAL.match(sql, pos + 1 + (len(sql[pos + 1:]) - len(sql[pos + 1:].lstrip())))
            if literal and sql[literal.end():].lstrip().startswith(")"):
                return literal.start(), literal.end()
            return None
        pos += 1
    return None


class QueryError(Exception):
    """A query that fails as Athena fails it: `<ERROR_NAME>: <message>`, category 2 (user) by default."""

    def __init__(self, name: str, message: str, category: int = 2, error_type: int = 1006):
        super().__init__(f"{name}: {message}")
        self.reason = f"{name}: {message}"
        self.category = category
        self.error_type = error_type


class QueryCancelled(Exception):
    """The query was stopped (StopQueryExecution) while it ran."""


def _first_word(sql: str) -> str:
    words = re.sub(r"(--[^\n]*|/\*.*?\*/)", " ", sql, flags=re.DOTALL).replace("(", " ").split()
    return words[0].upper() if words else ""


def substatement_type(sql: str) -> str:
    """Athena's SubstatementType: SELECT for queries (WITH, VALUES too), else the statement's verb."""
    first = _first_word(sql)
    return "SELECT" if first in ("SELECT", "WITH", "VALUES", "TABLE") else first


def statement_type(sql: str) -> str:
    """Athena's StatementType of a query: DML (SELECT, INSERT...), DDL (CREATE, DROP...) or UTILITY."""
    first = _first_word(sql)
    if first in ("CREATE", "DROP", "ALTER", "MSCK"):
        return "DDL"
    if first in ("SHOW", "DESCRIBE", "DESC", "EXPLAIN", "USE"):
        return "UTILITY"
    return "DML"


def _line_col(sql: str, offset: int) -> str:
    before = sql[:max(offset, 0)]
    return f"line {before.count(chr(10)) + 1}:{len(before) - (before.rfind(chr(10)) + 1) + 1}"


# ----------------------------------------------------------------------------------------------
# Glue tables and their data


def glue_to_duckdb(glue_type: str) -> str:
    """A Glue (Hive) column type -> the DuckDB type Athena reads it as."""
    t = glue_type.strip().lower()
    simple = {"string": "VARCHAR", "bigint": "BIGINT", "int": "INTEGER", "integer": "INTEGER",
              "smallint": "SMALLINT", "tinyint": "TINYINT", "double": "DOUBLE", "float": "FLOAT",
              "real": "FLOAT", "boolean": "BOOLEAN", "timestamp": "TIMESTAMP", "date": "DATE",
              "binary": "BLOB"}
    if t in simple:
        return simple[t]
    if t.startswith(("varchar", "char")):
        return "VARCHAR"
    if t.startswith("decimal"):
        return t.upper()
    inner = t[t.find("<") + 1:t.rfind(">")] if "<" in t else ""
    if t.startswith("array<"):
        return f"{glue_to_duckdb(inner)}[]"
    if t.startswith("map<"):
        key, value = _split_top(inner)
        return f"MAP({glue_to_duckdb(key)}, {glue_to_duckdb(value)})"
    if t.startswith("struct<"):
        fields = [f.split(":", 1) for f in _split_top(inner)]
        return "STRUCT(" + ", ".join(f'"{n.strip()}" {glue_to_duckdb(ft)}' for n, ft in fields) + ")"
    raise QueryError("NOT_SUPPORTED", f"Unsupported Hive type: {glue_type}", error_type=1000)


def _split_top(text: str) -> list[str]:
    """Split 'a,map<b,c>,d' on the commas outside angle brackets."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += ch == "<"
        depth -= ch == ">"
        if ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts]


@dataclass(frozen=True)
class GlueTable:
    database: str
    name: str
    location: str
    columns: tuple[tuple[str, str], ...]  # (name, DuckDB type), data columns then partition keys
    partition_keys: tuple[str, ...]
    data_format: str  # "parquet" or "csv"
    delimiter: str = ","
    skip_header_lines: int = 0


def _glue_table(region: str, database: str, table: str) -> GlueTable:
    found = moto_state.glue_table(region, database, table)
    if found is None:
        raise KeyError(table)
    sd = found.get("StorageDescriptor") or {}
    cols = [(c["Name"].lower(), glue_to_duckdb(c["Type"])) for c in sd.get("Columns") or []]
    parts = [(c["Name"].lower(), glue_to_duckdb(c["Type"])) for c in found.get("PartitionKeys") or []]
    serde = sd.get("SerdeInfo") or {}
    described = " ".join([serde.get("SerializationLibrary") or "", sd.get("InputFormat") or ""]).lower()
    params = {**(found.get("Parameters") or {}), **(serde.get("Parameters") or {})}
    is_text = any(word in described for word in ("csv", "lazysimpleserde", "textinputformat"))
    return GlueTable(
        database=found.get("DatabaseName", database).lower(), name=found["Name"].lower(),
        location=sd.get("Location") or "", columns=tuple(cols + parts),
        partition_keys=tuple(name for name, _ in parts), data_format="csv" if is_text else "parquet",
        delimiter=params.get("separatorChar") or params.get("field.delim") or ",",
        skip_header_lines=int(params.get("skip.header.line.count") or 0),
    )


@dataclass
class _Loaded:
    table: GlueTable
    objects: dict[str, str] = field(default_factory=dict)  # key -> etag
    size: int = 0


def _is_data_object(key: str, prefix: str, size: int) -> bool:
    name = key.rsplit("/", 1)[-1]
    return size > 0 and not key.endswith("/") and not name.startswith(("_", ".")) and \
        not any(part.startswith(("_", ".")) for part in key[len(prefix):].split("/")[:-1])


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# ----------------------------------------------------------------------------------------------
# Results: Athena's column types and text forms


@dataclass
class QueryResult:
    names: list[str]
    types: list[tuple[str, int, int]]  # Athena (type name, precision, scale)
    rows: pa.Table  # every value as text (null stays null), in result order
    data_scanned_bytes: int

    def to_csv(self) -> bytes:
        """The result as Athena writes it to S3: header row, every non-null field double-quoted."""
        out = io.BytesIO()
        table = self.rows.rename_columns(self.names)
        pacsv.write_csv(table, out, pacsv.WriteOptions(quoting_style="all_valid"))
        return out.getvalue()


def athena_type(duck_type: str) -> tuple[str, int, int]:
    """A DuckDB result type -> (Athena type name, precision, scale) as ColumnInfo reports them."""
    t = duck_type.upper()
    if t.startswith("DECIMAL"):
        precision, scale = (int(x) for x in re.findall(r"\d+", t)[:2])
        return "decimal", precision, scale
    if t.endswith("[]") or t.startswith("LIST") or re.search(r"\[\d*\]$", t):
        return "array", 0, 0
    if t.startswith("STRUCT"):
        return "row", 0, 0
    if t.startswith("MAP"):
        return "map", 0, 0
    known = {"VARCHAR": ("varchar", 2147483647), "BOOLEAN": ("boolean", 0), "TINYINT": ("tinyint", 3),
             "SMALLINT": ("smallint", 5), "INTEGER": ("integer", 10), "BIGINT": ("bigint", 19),
             "HUGEINT": ("bigint", 19), "UTINYINT": ("smallint", 5), "USMALLINT": ("integer", 10),
             "UINTEGER": ("bigint", 19), "UBIGINT": ("bigint", 19), "FLOAT": ("real", 7),
             "DOUBLE": ("double", 17), "DATE": ("date", 0), "TIME": ("time", 3),
             "TIMESTAMP": ("timestamp", 3), "TIMESTAMP_MS": ("timestamp", 3), "TIMESTAMP_S": ("timestamp", 3),
             "TIMESTAMP_NS": ("timestamp", 3), "TIMESTAMP WITH TIME ZONE": ("timestamp with time zone", 3),
             "BLOB": ("varbinary", 2147483647), "INTERVAL": ("interval day to second", 0), "UUID": ("uuid", 0),
             "JSON": ("json", 0)}
    name, precision = known.get(t, ("unknown", 0))
    return name, precision, 0


def _text_expr(position: int, duck_type: str) -> str:
    """SQL rendering column #position as Athena renders the value (timestamps to the millisecond...)."""
    ref = f"#{position}"
    t = duck_type.upper()
    if t == "VARCHAR":
        return ref
    if t in ("DOUBLE", "FLOAT"):
        return (f"CASE WHEN {ref} IS NULL THEN NULL WHEN isnan({ref}) THEN 'NaN' "
                f"WHEN isinf({ref}) THEN CASE WHEN {ref} > 0 THEN 'Infinity' ELSE '-Infinity' END "
                f"WHEN {ref} = 0 OR (abs({ref}) >= 0.001 AND abs({ref}) < 10000000) THEN CAST({ref} AS VARCHAR) "
                f"ELSE java_scientific(CAST({ref} AS VARCHAR)) END")
    if t.startswith("TIMESTAMP WITH TIME ZONE"):
        return f"strftime({ref}, '%Y-%m-%d %H:%M:%S.%g') || ' UTC'"
    if t.startswith("TIMESTAMP"):
        return f"strftime(CAST({ref} AS TIMESTAMP), '%Y-%m-%d %H:%M:%S.%g')"
    return f"CAST({ref} AS VARCHAR)"


def java_scientific(shortest: str) -> str:
    """Java's Double.toString form outside [1e-3, 1e7), which Athena prints: '1.0E-5', '1.2345678E7'."""
    digits, exponent = _shortest_digits(float(shortest))
    sign = "-" if shortest.startswith("-") else ""
    return f"{sign}{digits[0]}.{digits[1:] or '0'}E{exponent}"


def _shortest_digits(value: float) -> tuple[str, int]:
    """(significant digits, decimal exponent of the first) of the shortest repr: 12345678.9 -> ('123456789', 7)."""
    sign_digits_exponent = Decimal(repr(abs(value))).normalize().as_tuple()
    digits = "".join(str(d) for d in sign_digits_exponent.digits)
    return digits, int(sign_digits_exponent.exponent) + len(digits) - 1


# ----------------------------------------------------------------------------------------------
# Parsing: which tables a query reads, what Athena names its columns


@dataclass(frozen=True)
class TableRef:
    catalog: str
    schema: str
    table: str
    offset: int


def _walk(node: object, refs: list[TableRef], ctes: set[str]) -> None:
    if isinstance(node, dict):
        if node.get("type") == "BASE_TABLE" and "table_name" in node:
            refs.append(TableRef(node.get("catalog_name") or "", node.get("schema_name") or "",
                                 node["table_name"], int(node.get("query_location") or 0)))
        for entry in (node.get("cte_map") or {}).get("map", []) if isinstance(node.get("cte_map"), dict) else []:
            ctes.add(entry["key"].lower())
        for value in node.values():
            _walk(value, refs, ctes)
    elif isinstance(node, list):
        for value in node:
            _walk(value, refs, ctes)


def _parse(cursor: duckdb.DuckDBPyConnection, sql: str) -> dict:
    parsed = json.loads(cursor.execute("SELECT json_serialize_sql(?)", [sql]).fetchone()[0])
    if parsed.get("error"):
        message = parsed.get("error_message", "syntax error")
        position = parsed.get("position")
        where = _line_col(sql, int(position)) + ": " if position is not None else ""
        raise QueryError("SYNTAX_ERROR", where + message.split("\n")[0].replace("Parser Error: ", ""))
    return parsed["statements"][0]["node"]


def _table_refs(node: dict) -> list[TableRef]:
    refs: list[TableRef] = []
    ctes: set[str] = set()
    _walk(node, refs, ctes)
    return [r for r in refs if r.schema or r.table.lower() not in ctes]


def athena_column_names(node: dict, engine_names: list[str]) -> list[str]:
    """Athena's result column names: the alias, else the column's name, else `_col<i>`; lowercased."""
    while node.get("type") == "SET_OPERATION_NODE":
        children = node.get("children") or [node.get("left")]
        node = children[0] or {}
    entries = node.get("select_list") if node.get("type") == "SELECT_NODE" else None
    stars = [e for e in entries or [] if e.get("class") == "STAR"]
    if not entries or len(stars) > 1:
        return [n.lower() for n in engine_names]
    width = len(engine_names) - (len(entries) - len(stars))
    names: list[str] = []
    for entry in entries:
        if entry.get("class") == "STAR":
            names += engine_names[len(names):len(names) + width]
        elif entry.get("alias"):
            names.append(entry["alias"])
        elif entry.get("class") == "COLUMN_REF":
            names.append(entry["column_names"][-1])
        else:
            names.append(f"_col{len(names)}")
    if len(names) != len(engine_names):
        return [n.lower() for n in engine_names]
    return [n.lower() for n in names]


# ----------------------------------------------------------------------------------------------
# The engine


def _positioned(cursor: duckdb.DuckDBPyConnection, sql: str, exc: duckdb.Error) -> duckdb.Error:
    """The same error with its position in the query: the relation API drops it, plain execution keeps it."""
    try:
        cursor.execute(sql).fetchone()
    except duckdb.Error as again:
        return again
    return exc


def _error_from_duckdb(exc: duckdb.Error) -> QueryError:
    text = str(exc)
    first = text.split("\n")[0]
    message = re.sub(r"^[A-Za-z ]+ Error: ", "", first)
    where = ""
    caret = re.search(r"LINE (\d+): (.*)\n( *)\^", text)
    if caret:
        col = len(caret.group(3)) - len(f"LINE {caret.group(1)}: ") + 1
        where = f"line {caret.group(1)}:{max(col, 1)}: "
    column = re.search(r'Referenced column "([^"]+)" not found', first)
    if column:
        return QueryError("COLUMN_NOT_FOUND", f"{where}Column '{column.group(1).lower()}' cannot be resolved "
                                              "or requester is not authorized to access requested resources")
    function = re.search(r"Function with name (\w+) does not exist", first)
    if function:
        return QueryError("FUNCTION_NOT_FOUND", f"{where}Function '{function.group(1).lower()}' not registered")
    aggregate = re.search(r'column "([^"]+)" must appear in the GROUP BY clause', first)
    if aggregate:
        return QueryError("EXPRESSION_NOT_AGGREGATE", f"{where}'{aggregate.group(1)}' must be an aggregate "
                                                      "expression or appear in GROUP BY clause")
    if isinstance(exc, duckdb.ParserException):
        return QueryError("SYNTAX_ERROR", where + message)
    if isinstance(exc, duckdb.ConversionException):
        return QueryError("INVALID_CAST_ARGUMENT", where + message, error_type=1000)
    if isinstance(exc, duckdb.OutOfRangeException):
        return QueryError("NUMERIC_VALUE_OUT_OF_RANGE", where + message, error_type=1000)
    if isinstance(exc, duckdb.BinderException) and ("No function matches" in first or "Cannot compare" in first
                                                    or "Cannot mix" in first):
        return QueryError("TYPE_MISMATCH", where + message)
    if isinstance(exc, (duckdb.BinderException, duckdb.CatalogException)):
        return QueryError("SYNTAX_ERROR", where + message)
    if isinstance(exc, duckdb.InvalidInputException):
        return QueryError("INVALID_FUNCTION_ARGUMENT", where + message, error_type=1000)
    return QueryError("GENERIC_INTERNAL_ERROR", where + message, category=1, error_type=200)


class Engine:
    """One DuckDB database per region holding the Glue tables queries have read, kept fresh."""

    def __init__(self, region: str):
        self.region = region
        self._db = duckdb.connect()
        self._lock = threading.Lock()
        self._loaded: dict[tuple[str, str], _Loaded] = {}
        self._db.execute("SET GLOBAL TimeZone = 'UTC'")
        self._db.execute("SET GLOBAL integer_division = true")
        self._db.execute(f"ATTACH ':memory:' AS {CATALOG}")
        for name, definition in TRINO_MACROS.items():
            self._db.execute(f"CREATE MACRO memory.main.{name}{definition}")
        self._db.create_function("java_scientific", java_scientific, [sqltypes.VARCHAR], sqltypes.VARCHAR)
        self._db.execute("SET GLOBAL enable_external_access = false")  # queries read Glue tables only

    def run(self, sql: str, database: str, on_cursor: Callable[[duckdb.DuckDBPyConnection], None],
            is_cancelled: Callable[[], bool], parameters: list[str] | None = None) -> QueryResult:
        """Run one SELECT; `on_cursor` receives the cursor so another thread can interrupt it."""
        database = (database or "default").lower()
        text = translate(bind_parameters(sql, parameters or [])).strip().rstrip(";").strip()
        cursor = self._db.cursor()
        on_cursor(cursor)
        try:
            kind = statement_type(text)
            if kind != "DML" or not re.match(r"^\(*\s*(SELECT|WITH|VALUES|TABLE)\b", text, re.IGNORECASE):
                raise QueryError("NOT_SUPPORTED", "local_aws Athena runs SELECT queries only (with WITH, "
                                 "joins, window functions...); run DDL through the Glue API instead",
                                 error_type=1000)
            if len(cursor.extract_statements(text)) != 1:
                raise QueryError("SYNTAX_ERROR", "Only one sql statement is allowed. Got: 2")
            node = _parse(cursor, text)
            scanned = 0
            for ref in _table_refs(node):
                if is_cancelled():
                    raise QueryCancelled()
                scanned += self._ensure_loaded(ref, database, text)
            with self._lock:  # catalog changes one at a time: concurrent ones conflict in DuckDB
                self._db.execute(f"CREATE SCHEMA IF NOT EXISTS {CATALOG}.{_quote(database)}")
            cursor.execute(f"SET search_path = '{CATALOG}.{database.replace(chr(39), chr(39) * 2)},memory.main'")
            if is_cancelled():
                raise QueryCancelled()
            relation = cursor.sql(text)
            duck_types = [str(t) for t in relation.types]
            names = athena_column_names(node, list(relation.columns))
            texts = relation.project(", ".join(
                f"{_text_expr(i + 1, t)} AS c{i}" for i, t in enumerate(duck_types))).to_arrow_table()
            return QueryResult(names=names, types=[athena_type(t) for t in duck_types], rows=texts,
                               data_scanned_bytes=scanned)
        except duckdb.InterruptException as exc:
            raise QueryCancelled() from exc
        except duckdb.Error as exc:
            if is_cancelled():
                raise QueryCancelled() from exc
            raise _error_from_duckdb(_positioned(cursor, text, exc)) from exc
        finally:
            cursor.close()

    # -- loading ---------------------------------------------------------------------------------

    def _ensure_loaded(self, ref: TableRef, database: str, sql: str) -> int:
        """Make `ref` a fresh DuckDB table; returns the bytes of its objects (what the query scans)."""
        where = _line_col(sql, ref.offset)
        if ref.catalog and ref.catalog.lower() != CATALOG:
            raise QueryError("CATALOG_NOT_FOUND", f"{where}: Catalog '{ref.catalog.lower()}' does not exist")
        schema = (ref.schema or database).lower()
        if not moto_state.glue_database_exists(self.region, schema):
            raise QueryError("SCHEMA_NOT_FOUND", f"{where}: Schema '{schema}' does not exist")
        try:
            table = _glue_table(self.region, schema, ref.table)
        except KeyError:
            raise QueryError("TABLE_NOT_FOUND",
                             f"{where}: Table '{CATALOG}.{schema}.{ref.table.lower()}' does not exist") from None
        if not table.location.startswith("s3://"):
            raise QueryError("HIVE_METASTORE_ERROR", f"Table {schema}.{table.name} has no S3 location "
                             f"(StorageDescriptor.Location is {table.location!r})", error_type=204)
        bucket, prefix = moto_state.parse_s3_uri(table.location)
        prefix = prefix.rstrip("/") + "/" if prefix else ""
        listing = {key: (etag, size) for key, etag, size in moto_state.list_keys(bucket, prefix)
                   if _is_data_object(key, prefix, size)}
        with self._lock:
            loaded = self._loaded.get((schema, table.name))
            current = {key: etag for key, (etag, _) in listing.items()}
            if loaded is None or loaded.table != table or \
                    any(current.get(key) != etag for key, etag in loaded.objects.items()):
                loaded = _Loaded(table)
                self._create(table)
            new_keys = [key for key in listing if key not in loaded.objects]
            if new_keys:
                self._append(table, bucket, prefix, new_keys)
                for key in new_keys:
                    loaded.objects[key] = current[key]
            loaded.size = sum(size for _, size in listing.values())
            self._loaded[(schema, table.name)] = loaded
            return loaded.size

    def _target(self, table: GlueTable) -> str:
        return f"{CATALOG}.{_quote(table.database)}.{_quote(table.name)}"

    def _create(self, table: GlueTable) -> None:
        self._db.execute(f"CREATE SCHEMA IF NOT EXISTS {CATALOG}.{_quote(table.database)}")
        columns = ", ".join(f"{_quote(name)} {duck_type}" for name, duck_type in table.columns)
        self._db.execute(f"CREATE OR REPLACE TABLE {self._target(table)} ({columns})")

    def _append(self, table: GlueTable, bucket: str, prefix: str, keys: list[str]) -> None:
        """Read the objects, group those with one schema, insert each group cast to the Glue types."""
        groups: dict[pa.Schema, list[pa.Table]] = {}
        for key in keys:
            data = moto_state.get_object(bucket, key)
            if data is None:
                continue
            part = self._read(table, data, f"s3://{bucket}/{key}")
            values = dict(seg.split("=", 1) for seg in key[len(prefix):].split("/")[:-1] if "=" in seg)
            for name in table.partition_keys:
                part = part.append_column(f"__partition_{name}", pa.array([values.get(name)] * part.num_rows,
                                                                          pa.string()))
            groups.setdefault(part.schema, []).append(part)
        for schema, parts in groups.items():
            present = {name.lower(): name for name in schema.names}
            select = []
            for name, duck_type in table.columns:
                source = f"__partition_{name}" if name in table.partition_keys else present.get(name)
                select.append(f"CAST({_quote(source)} AS {duck_type})" if source else f"CAST(NULL AS {duck_type})")
            batch = pa.concat_tables(parts)
            view = "incoming_objects"
            self._db.register(view, batch)
            try:
                self._db.execute(f"INSERT INTO {self._target(table)} SELECT {', '.join(select)} FROM {view}")
            except duckdb.ConversionException as exc:
                raise QueryError("HIVE_BAD_DATA", f"Error reading table {table.database}.{table.name}: "
                                 f"{str(exc).splitlines()[0]}", error_type=1001) from exc
            finally:
                self._db.unregister(view)

    @staticmethod
    def _read(table: GlueTable, data: bytes, uri: str) -> pa.Table:
        try:
            if table.data_format == "parquet":
                return _utc_wall_clock(pq.read_table(pa.BufferReader(data)))
            names = [name for name, _ in table.columns if name not in table.partition_keys]
            return pacsv.read_csv(
                pa.BufferReader(data),
                read_options=pacsv.ReadOptions(column_names=names, skip_rows=table.skip_header_lines),
                parse_options=pacsv.ParseOptions(delimiter=table.delimiter),
                convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names}),
            )
        except (pa.ArrowInvalid, OSError) as exc:
            raise QueryError("HIVE_BAD_DATA", f"Error reading {uri}: {exc}", error_type=1001) from exc


def _utc_wall_clock(table: pa.Table) -> pa.Table:
    """Timestamps with a time zone as UTC wall-clock timestamps (what Athena's `timestamp` shows), done
    in Arrow: DuckDB's TIMESTAMPTZ -> TIMESTAMP cast goes through ICU, value by value."""
    for i, column in enumerate(table.schema):
        if pa.types.is_timestamp(column.type) and column.type.tz is not None:
            table = table.set_column(i, column.name, table.column(i).cast(pa.timestamp(column.type.unit)))
    return table


_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def engine(region: str) -> Engine:
    with _engines_lock:
        if region not in _engines:
            _engines[region] = Engine(region)
        return _engines[region]


def reset() -> None:
    """Forget every loaded table (the next query reloads from S3). An engine is dropped, not closed:
    a query being cancelled may still hold one of its cursors."""
    with _engines_lock:
        _engines.clear()

