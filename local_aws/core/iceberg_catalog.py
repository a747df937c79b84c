"""Iceberg tables in moto's Glue Data Catalog and S3, as pyiceberg sees them.

A Glue table with Parameters `table_type=ICEBERG` names its current metadata file in
`metadata_location`; the metadata, manifest lists and manifests (Avro) and the Parquet data files are
S3 objects. `S3FileIO` gives pyiceberg S3 as one caller (through the gateway: its reads and writes are authorized as
that caller's), and
`GlueCatalog` does what Iceberg's own GlueCatalog does: it loads a table from its Glue entry and
commits by writing the next `<location>/metadata/<version>-<uuid>.metadata.json` and swapping the
entry's `metadata_location` (the old one becomes `previous_metadata_location`), its columns carrying
Iceberg's `iceberg.field.*` parameters. Commits are applied one at a time to the table as it is
then, after checking the commit's requirements against it, as pyiceberg's catalogs do: a schema
change and an append made at once both land, and a conflicting commit fails with
CommitFailedException, after which pyiceberg reloads the table and retries an append.

Athena reads these tables (iceberg_scan.py) and the Feature Store writes its Iceberg offline store
through this catalog. pyiceberg takes most of a second to import: import this module only where an
Iceberg table is at hand.
"""

from __future__ import annotations

import io
import re
import threading
import uuid
from typing import Any

from pyiceberg.catalog.noop import NoopCatalog
from pyiceberg.exceptions import NoSuchIcebergTableError, NoSuchTableError
from pyiceberg.io import FileIO, InputFile, InputStream, OutputFile, OutputStream
from pyiceberg.partitioning import PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.serializers import FromInputFile, ToOutputFile
from pyiceberg.table import CommitTableResponse, Table
from pyiceberg.table.metadata import TableMetadata, new_table_metadata
from pyiceberg.table.sorting import UNSORTED_SORT_ORDER
from pyiceberg.table.update import TableRequirement, TableUpdate, update_table_metadata
from pyiceberg.typedef import Identifier
from pyiceberg.types import DecimalType, IcebergType, ListType, MapType, StructType

from local_aws.core.gateway.clients import S3, Glue, parse_s3_uri
from local_aws.core.gateway.context import Caller

_GLUE_PRIMITIVES = {
    "boolean": "boolean",
    "int": "int",
    "long": "bigint",
    "float": "float",
    "double": "double",
    "date": "date",
    "time": "string",
    "string": "string",
    "uuid": "string",
    "timestamp": "timestamp",
    "timestamptz": "timestamp",
    "binary": "binary",
}
_COMMIT_LOCK = threading.Lock()  # a commit reads the Glue entry, then swaps it: one at a time


def is_iceberg(glue_entry: dict) -> bool:
    return (glue_entry.get("Parameters") or {}).get("table_type", "").upper() == "ICEBERG"


class _Upload(io.BytesIO):
    """What pyiceberg writes to an S3 object: put into S3 when closed."""

    def __init__(self, file_io: S3FileIO, location: str):
        super().__init__()
        self.file_io, self.location = file_io, location

    def close(self) -> None:
        if not self.closed:
            self.file_io.s3.put(*parse_s3_uri(self.location), self.getvalue())
        super().close()


class _S3File(InputFile, OutputFile):
    def __init__(self, file_io: S3FileIO, location: str):
        super().__init__(location)
        self.file_io = file_io

    def _body(self) -> bytes | None:
        return self.file_io.s3.get(*parse_s3_uri(self.location))

    def __len__(self) -> int:
        return len(self._body() or b"")

    def exists(self) -> bool:
        return self._body() is not None

    def open(self, seekable: bool = True) -> InputStream:
        body = self._body()
        if body is None:
            raise FileNotFoundError(f"{self.location} does not exist")
        return io.BytesIO(body)

    def to_input_file(self) -> InputFile:
        return self

    def create(self, overwrite: bool = False) -> OutputStream:
        if not overwrite and self.exists():
            raise FileExistsError(f"{self.location} already exists")
        return _Upload(self.file_io, self.location)


class S3FileIO(FileIO):
    """pyiceberg's file access, on S3 as one caller."""

    def __init__(self, caller: Caller):
        super().__init__()
        self.s3 = S3(caller)

    def new_input(self, location: str) -> InputFile:
        return _S3File(self, location)

    def new_output(self, location: str) -> OutputFile:
        return _S3File(self, location)

    def delete(self, location: str | InputFile | OutputFile) -> None:
        """Objects stay: services read and write S3 objects only, and an Iceberg table ignores
        files no snapshot names (pyiceberg calls this to tidy after a failed commit, and logs the error)."""
        path = location if isinstance(location, str) else location.location
        raise OSError(f"local_aws does not delete {path}")


def glue_type(field_type: IcebergType) -> str:
    """The Glue (Hive) column type of an Iceberg type, as Iceberg's GlueCatalog writes it."""
    if isinstance(field_type, DecimalType):
        return f"decimal({field_type.precision},{field_type.scale})"
    if isinstance(field_type, ListType):
        return f"array<{glue_type(field_type.element_type)}>"
    if isinstance(field_type, MapType):
        return f"map<{glue_type(field_type.key_type)},{glue_type(field_type.value_type)}>"
    if isinstance(field_type, StructType):
        return "struct<" + ",".join(f"{f.name}:{glue_type(f.field_type)}" for f in field_type.fields) + ">"
    return _GLUE_PRIMITIVES.get(str(field_type), str(field_type))


def _columns(metadata: TableMetadata) -> list[dict]:
    """Glue's columns: the current schema's, then those only earlier schemas had (`iceberg.field.current` false)."""
    columns: dict[str, dict] = {}
    current = metadata.schema()
    for schema in [current, *(s for s in metadata.schemas if s.schema_id != current.schema_id)]:
        for field in schema.fields:
            columns.setdefault(
                field.name,
                {
                    "Name": field.name,
                    "Type": glue_type(field.field_type),
                    "Parameters": {
                        "iceberg.field.id": str(field.field_id),
                        "iceberg.field.optional": str(field.optional).lower(),
                        "iceberg.field.current": str(schema is current).lower(),
                    },
                },
            )
    return list(columns.values())


def _version(metadata_location: str) -> int:
    """The version a metadata file's name starts with (`00003-<uuid>.metadata.json`); -1 for other names."""
    found = re.fullmatch(r"(\d+)-.*\.metadata\.json", metadata_location.rsplit("/", 1)[-1])
    return int(found.group(1)) if found else -1


def _metadata_file(location: str, version: int) -> str:
    return f"{location}/metadata/{version:05d}-{uuid.uuid4()}.metadata.json"


def read_table(identifier: Identifier, metadata_location: str, caller: Caller) -> Table:
    """The table as its metadata file describes it, read as `caller` (read-only: committing needs GlueCatalog)."""
    file_io = S3FileIO(caller)
    metadata = FromInputFile.table_metadata(file_io.new_input(metadata_location))
    return Table(identifier, metadata, metadata_location, file_io, NoopCatalog("local_aws"))


class GlueCatalog(NoopCatalog):
    """The Iceberg tables of the Glue Data Catalog, as one caller (its account and region): load, create, commit."""

    def __init__(self, caller: Caller):
        super().__init__("local_aws")
        self.caller = caller
        self.glue = Glue(caller)

    def _entry(self, identifier: Identifier) -> dict:
        database, name = identifier
        entry = self.glue.table(database, name)
        if entry is None:
            raise NoSuchTableError(f"Glue has no table {database}.{name}")
        if not is_iceberg(entry) or not (entry.get("Parameters") or {}).get("metadata_location"):
            raise NoSuchIcebergTableError(
                f"Glue table {database}.{name} is not an Iceberg table (its Parameters "
                "have no table_type ICEBERG and metadata_location)"
            )
        return entry

    def load_table(self, identifier: str | Identifier) -> Table:
        identifier = tuple(identifier.split(".")) if isinstance(identifier, str) else tuple(identifier)
        table = read_table(identifier, self._entry(identifier)["Parameters"]["metadata_location"], self.caller)
        table.catalog = self
        return table

    def create(
        self, identifier: Identifier, schema: Schema, spec: PartitionSpec, location: str, description: str
    ) -> None:
        """A new table (metadata version 0) and its Glue entry; an existing Glue table is an error."""
        database, name = identifier
        with _COMMIT_LOCK:
            if self.glue.table(database, name) is not None:
                raise FileExistsError(f"Glue table {database}.{name} already exists")
            metadata = new_table_metadata(schema, spec, UNSORTED_SORT_ORDER, location, {})
            metadata_location = _metadata_file(location, 0)
            ToOutputFile.table_metadata(metadata, S3FileIO(self.caller).new_output(metadata_location))
            self._write_entry(identifier, {"Description": description, "Parameters": {}}, metadata, metadata_location)

    def commit_table(
        self, table: Table, requirements: tuple[TableRequirement, ...], updates: tuple[TableUpdate, ...]
    ) -> CommitTableResponse:
        with _COMMIT_LOCK:
            entry = self._entry(table.name())
            current = entry["Parameters"]["metadata_location"]
            base = table.metadata if current == table.metadata_location else self.load_table(table.name()).metadata
            for requirement in requirements:  # CommitFailedException when a commit since `table` conflicts
                requirement.validate(base)
            metadata = update_table_metadata(base, updates, metadata_location=current)
            metadata_location = _metadata_file(metadata.location, _version(current) + 1)
            ToOutputFile.table_metadata(metadata, table.io.new_output(metadata_location))
            self._write_entry(table.name(), entry, metadata, metadata_location, previous=current)
        return CommitTableResponse(metadata=metadata, metadata_location=metadata_location)

    def _write_entry(
        self,
        identifier: Identifier,
        entry: dict,
        metadata: TableMetadata,
        metadata_location: str,
        previous: str | None = None,
    ) -> None:
        database, name = identifier
        parameters: dict[str, Any] = {
            **entry["Parameters"],
            "table_type": "ICEBERG",
            "metadata_location": metadata_location,
        }
        if previous:
            parameters["previous_metadata_location"] = previous
        table_input = {
            "Name": name,
            "TableType": "EXTERNAL_TABLE",
            "Parameters": parameters,
            "StorageDescriptor": {"Columns": _columns(metadata), "Location": metadata.location},
        }
        if entry.get("Description"):
            table_input["Description"] = entry["Description"]
        self.glue.write_table(database, table_input)
