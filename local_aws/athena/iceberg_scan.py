"""Athena's read of an Iceberg table: the data files of its current snapshot, each read with its columns
named as the table's current schema names them.

The snapshot comes from the metadata file the Glue table's `metadata_location` names (read with
pyiceberg through local_aws.core.iceberg_catalog, as the query's caller: its metadata, manifests and data
files are S3 GetObjects through the gateway); a data file's columns are matched to the current schema by
Iceberg field id, so a column added after the file was written reads as NULL, and a file written
without field ids is matched by name. local_aws reads Parquet data files and no delete files: a
snapshot with ORC or Avro data, or with position or equality deletes, fails NOT_SUPPORTED.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.parquet as pq
from pyiceberg.manifest import FileFormat

from local_aws.athena.access import QueryAccess
from local_aws.athena.failures import QueryError
from local_aws.athena.tables import GlueTable, utc_wall_clock
from local_aws.core.gateway.errors import AwsError
from local_aws.core.iceberg_catalog import read_table

_FIELD_ID = b"PARQUET:field_id"


@dataclass(frozen=True)
class Snapshot:
    """The current snapshot's data files, as the engine's cache knows objects: URI -> (identity, size)."""

    files: dict[str, tuple[str, int]]
    names: dict[int, str]  # field id -> the column's name in the current schema, lowercased
    access: QueryAccess

    def read(self, uri: str) -> pa.Table:
        """One data file's rows, its columns renamed to the current schema's (dropped columns left out)."""
        data = self.access.read(uri, "Iceberg")
        if data is None:
            raise QueryError(
                "ICEBERG_CANNOT_OPEN_SPLIT",
                f"Error opening Iceberg split {uri}: the data file the table's current snapshot lists does not exist",
                error_type=1001,
            )
        try:
            part = pq.read_table(pa.BufferReader(data))
        except (pa.ArrowInvalid, OSError) as exc:
            raise QueryError("ICEBERG_BAD_DATA", f"Error reading {uri}: {exc}", error_type=1001) from exc
        keep, names = [], []
        for index, column in enumerate(part.schema):
            field_id = (column.metadata or {}).get(_FIELD_ID)
            name = self.names.get(int(field_id)) if field_id is not None else column.name.lower()
            if name is not None:
                keep.append(index)
                names.append(name)
        return utc_wall_clock(part.select(keep).rename_columns(names))

    def check(self, uri: str) -> None:
        """A data file the engine holds already: the caller must still be allowed to read it."""
        self.access.may_read(uri, "Iceberg")


def current_snapshot(table: GlueTable, access: QueryAccess) -> Snapshot:
    """The data files of the table's current snapshot (none before the first commit), read as the query's
    caller; metadata the caller may not read fails the query as Athena fails a denied S3 path."""
    if not table.metadata_location:
        raise QueryError(
            "ICEBERG_INVALID_METADATA",
            f"Table {table.database}.{table.name} is an Iceberg table "
            "(table_type ICEBERG) but its Glue Parameters name no metadata_location",
            error_type=204,
        )
    try:
        iceberg = read_table((table.database, table.name), table.metadata_location, access.caller)
        tasks = list(iceberg.scan().plan_files())
    except (FileNotFoundError, ValueError) as exc:
        raise QueryError(
            "ICEBERG_INVALID_METADATA",
            f"Cannot read the metadata of table {table.database}.{table.name} at {table.metadata_location}: {exc}",
            error_type=204,
        ) from exc
    except AwsError as error:
        if error.code not in ("AccessDenied", "AccessDeniedException"):
            raise
        raise QueryError("", f"Permission denied on S3 path: {table.location}", error_type=1000) from None
    files = {}
    for task in tasks:
        data = task.file
        if data.file_format != FileFormat.PARQUET or task.delete_files:
            what = "delete files" if task.delete_files else f"{data.file_format.name} data files"
            raise QueryError(
                "NOT_SUPPORTED",
                f"local_aws reads Iceberg tables of Parquet data files without delete "
                f"files; {table.database}.{table.name} has {what}",
                error_type=1000,
            )
        files[data.file_path] = (data.file_path, data.file_size_in_bytes)
    names = {field.field_id: field.name.lower() for field in iceberg.schema().fields}
    return Snapshot(files, names, access)
