"""Types across the three systems a query crosses: Glue's column types become DuckDB's when a table
is loaded, and DuckDB's result types become Athena's (ColumnInfo's type, precision and scale) with
values rendered as Athena renders them (timestamps to the millisecond, doubles as Java prints them).
"""

from __future__ import annotations

import re
from decimal import Decimal

from local_aws.athena.failures import QueryError

_GLUE_SIMPLE = {
    "string": "VARCHAR",
    "bigint": "BIGINT",
    "int": "INTEGER",
    "integer": "INTEGER",
    "smallint": "SMALLINT",
    "tinyint": "TINYINT",
    "double": "DOUBLE",
    "float": "FLOAT",
    "real": "FLOAT",
    "boolean": "BOOLEAN",
    "timestamp": "TIMESTAMP",
    "date": "DATE",
    "binary": "BLOB",
}
# DuckDB result type -> (Athena type name, precision) as ColumnInfo reports them.
_ATHENA_TYPES = {
    "VARCHAR": ("varchar", 2147483647),
    "BOOLEAN": ("boolean", 0),
    "TINYINT": ("tinyint", 3),
    "SMALLINT": ("smallint", 5),
    "INTEGER": ("integer", 10),
    "BIGINT": ("bigint", 19),
    "HUGEINT": ("bigint", 19),
    "UTINYINT": ("smallint", 5),
    "USMALLINT": ("integer", 10),
    "UINTEGER": ("bigint", 19),
    "UBIGINT": ("bigint", 19),
    "FLOAT": ("real", 7),
    "DOUBLE": ("double", 17),
    "DATE": ("date", 0),
    "TIME": ("time", 3),
    "TIMESTAMP": ("timestamp", 3),
    "TIMESTAMP_MS": ("timestamp", 3),
    "TIMESTAMP_S": ("timestamp", 3),
    "TIMESTAMP_NS": ("timestamp", 3),
    "TIMESTAMP WITH TIME ZONE": ("timestamp with time zone", 3),
    "BLOB": ("varbinary", 2147483647),
    "INTERVAL": ("interval day to second", 0),
    "UUID": ("uuid", 0),
    "JSON": ("json", 0),
}


def glue_to_duckdb(glue_type: str) -> str:
    """A Glue (Hive) column type -> the DuckDB type Athena reads it as."""
    t = glue_type.strip().lower()
    if t in _GLUE_SIMPLE:
        return _GLUE_SIMPLE[t]
    if t.startswith(("varchar", "char")):
        return "VARCHAR"
    if t.startswith("decimal"):
        return t.upper()
    inner = t[t.find("<") + 1 : t.rfind(">")] if "<" in t else ""
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
    name, precision = _ATHENA_TYPES.get(t, ("unknown", 0))
    return name, precision, 0


def text_expr(position: int, duck_type: str) -> str:
    """SQL rendering column #position as Athena renders the value (timestamps to the millisecond...)."""
    ref = f"#{position}"
    t = duck_type.upper()
    if t == "VARCHAR":
        return ref
    if t in ("DOUBLE", "FLOAT"):
        return (
            f"CASE WHEN {ref} IS NULL THEN NULL WHEN isnan({ref}) THEN 'NaN' "
            f"WHEN isinf({ref}) THEN CASE WHEN {ref} > 0 THEN 'Infinity' ELSE '-Infinity' END "
            f"WHEN {ref} = 0 OR (abs({ref}) >= 0.001 AND abs({ref}) < 10000000) THEN CAST({ref} AS VARCHAR) "
            f"ELSE java_scientific(CAST({ref} AS VARCHAR)) END"
        )
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
