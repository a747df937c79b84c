"""The Glue tables queries read: what Glue's GetTable says about one (location, columns, format) and its
S3 objects read as Arrow, as Athena reads them (Parquet, or CSV/text with a delimiter and header lines to
skip; Hive partition values from the `key=value/` folders). An Iceberg table (Parameters
`table_type=ICEBERG`) is read through its metadata instead (iceberg_scan.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from local_aws.athena.access import QueryAccess
from local_aws.athena.failures import QueryError
from local_aws.athena.types import glue_to_duckdb


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
    is_iceberg: bool = False
    metadata_location: str = field(default="", compare=False)  # an Iceberg table's: a new snapshot is the same table


def glue_table(found: dict, database: str) -> GlueTable:
    """A Glue table (GetTable's Table) as this engine reads it."""
    sd = found.get("StorageDescriptor") or {}
    cols = [(c["Name"].lower(), glue_to_duckdb(c["Type"])) for c in sd.get("Columns") or []]
    parts = [(c["Name"].lower(), glue_to_duckdb(c["Type"])) for c in found.get("PartitionKeys") or []]
    serde = sd.get("SerdeInfo") or {}
    described = " ".join([serde.get("SerializationLibrary") or "", sd.get("InputFormat") or ""]).lower()
    params = {**(found.get("Parameters") or {}), **(serde.get("Parameters") or {})}
    iceberg = params.get("table_type", "").upper() == "ICEBERG"
    is_text = not iceberg and any(word in described for word in ("csv", "lazysimpleserde", "textinputformat"))
    return GlueTable(
        database=found.get("DatabaseName", database).lower(),
        name=found["Name"].lower(),
        location=sd.get("Location") or "",
        columns=tuple(cols + parts),
        partition_keys=tuple(name for name, _ in parts),
        data_format="csv" if is_text else "parquet",
        delimiter=params.get("separatorChar") or params.get("field.delim") or ",",
        skip_header_lines=int(params.get("skip.header.line.count") or 0),
        is_iceberg=iceberg,
        metadata_location=params.get("metadata_location", "") if iceberg else "",
    )


def is_data_object(key: str, prefix: str, size: int) -> bool:
    """Whether Athena reads this object: not empty, not a folder marker, not hidden (`_SUCCESS`, `.tmp`)."""
    name = key.rsplit("/", 1)[-1]
    return (
        size > 0
        and not key.endswith("/")
        and not name.startswith(("_", "."))
        and not any(part.startswith(("_", ".")) for part in key[len(prefix) :].split("/")[:-1])
    )


def read_object(table: GlueTable, access: QueryAccess, bucket: str, prefix: str, key: str) -> pa.Table | None:
    """One object's rows, read as the query's caller, with a `__partition_<key>` text column per partition key;
    None if it is gone."""
    data = access.read(f"s3://{bucket}/{key}", "Hive")
    if data is None:
        return None
    part = _read(table, data, f"s3://{bucket}/{key}")
    values = dict(segment.split("=", 1) for segment in key[len(prefix) :].split("/")[:-1] if "=" in segment)
    for name in table.partition_keys:
        part = part.append_column(f"__partition_{name}", pa.array([values.get(name)] * part.num_rows, pa.string()))
    return part


def _read(table: GlueTable, data: bytes, uri: str) -> pa.Table:
    try:
        if table.data_format == "parquet":
            return utc_wall_clock(pq.read_table(pa.BufferReader(data)))
        names = [name for name, _ in table.columns if name not in table.partition_keys]
        return pacsv.read_csv(
            pa.BufferReader(data),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=table.skip_header_lines),
            parse_options=pacsv.ParseOptions(delimiter=table.delimiter),
            convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names}),
        )
    except (pa.ArrowInvalid, OSError) as exc:
        raise QueryError("HIVE_BAD_DATA", f"Error reading {uri}: {exc}", error_type=1001) from exc


def utc_wall_clock(table: pa.Table) -> pa.Table:
    """Timestamps with a time zone as UTC wall-clock timestamps (what Athena's `timestamp` shows), done
    in Arrow: DuckDB's TIMESTAMPTZ -> TIMESTAMP cast goes through ICU, value by value."""
    for i, column in enumerate(table.schema):
        if pa.types.is_timestamp(column.type) and column.type.tz is not None:
            table = table.set_column(i, column.name, table.column(i).cast(pa.timestamp(column.type.unit)))
    return table
