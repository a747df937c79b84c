"""Athena's query engine: DuckDB over the objects of the Glue tables a query names.

Each table the query reads (`sql.table_refs`) is looked up in Glue (GetDatabase, GetTable); its objects
under StorageDescriptor.Location (ListObjectsV2; an Iceberg table: the data files of its current
snapshot) are read from S3 (GetObject), cast to the Glue schema and kept as a DuckDB table
`awsdatacatalog.<db>.<table>`, so `"db"."table"`, `db.table`, `AwsDataCatalog.db.table` and a bare
`table` (in the query's default database) all resolve. Every one of those calls is made as the query's
caller (access.py). Loaded tables are cached per account and region by the objects' (key, etag): a query
after new objects (or a new Iceberg snapshot's files) arrived reads only those; a changed or deleted
object or schema reloads the table. An object the cache holds is not read again, but a caller other than
the account's administrator must still be allowed to read it (HeadObject), as every query reads every
object on AWS. The query itself runs as sqlglot's DuckDB translation (`sql.to_duckdb`),
with integer division as in Trino. Errors are answered the way Athena words them, positioned in
the query as written: `TABLE_NOT_FOUND: line 1:15: Table 'awsdatacatalog.db.t' does not exist`.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import duckdb
import duckdb.sqltypes as sqltypes
import pyarrow as pa

from local_aws.athena import failures, sql, tables
from local_aws.athena.access import QueryAccess
from local_aws.athena.failures import QueryCancelled, QueryError
from local_aws.athena.results import QueryResult
from local_aws.athena.sql import Statement, TableRef
from local_aws.athena.tables import GlueTable
from local_aws.athena.types import athena_type, java_scientific, text_expr
from local_aws.core.gateway.clients import parse_s3_uri

CATALOG = "awsdatacatalog"


@dataclass
class _Loaded:
    table: GlueTable
    objects: dict[str, str] = field(default_factory=dict)  # key -> etag
    size: int = 0


class _Files(NamedTuple):
    """A table's objects as the cache knows them ({key: (identity, size)}), how to read one, and how to check
    the caller may read one the cache holds."""

    listing: dict[str, tuple[str, int]]
    read: Callable[[str], pa.Table | None]
    check: Callable[[str], None]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class Engine:
    """One DuckDB database per account and region holding the Glue tables queries have read, kept fresh."""

    def __init__(self) -> None:
        self._db = duckdb.connect()
        self._lock = threading.Lock()
        self._loaded: dict[tuple[str, str], _Loaded] = {}
        self._db.execute("SET GLOBAL TimeZone = 'UTC'")
        self._db.execute("SET GLOBAL integer_division = true")
        self._db.execute(f"ATTACH ':memory:' AS {CATALOG}")
        for name, definition in sql.DUCKDB_MACROS.items():
            self._db.execute(f"CREATE MACRO memory.main.{name}{definition}")
        self._db.create_function("java_scientific", java_scientific, [sqltypes.VARCHAR], sqltypes.VARCHAR)
        self._db.execute("SET GLOBAL enable_external_access = false")  # queries read Glue tables only

    def run(
        self,
        statement: Statement,
        database: str,
        access: QueryAccess,
        on_cursor: Callable[[duckdb.DuckDBPyConnection], None],
        is_cancelled: Callable[[], bool],
        parameters: list[str] | None = None,
    ) -> QueryResult:
        """Run one SELECT, reading its tables as `access`'s caller; `on_cursor` receives the cursor so another
        thread can interrupt it."""
        database = (database or "default").lower()
        if statement.statement_type != "DML" or not statement.is_query:
            raise QueryError(
                "NOT_SUPPORTED",
                "local_aws Athena runs SELECT queries only (with WITH, joins, window "
                "functions...); run DDL through the Glue API instead",
                error_type=1000,
            )
        if len(statement.trees) != 1:
            raise QueryError("SYNTAX_ERROR", f"Only one sql statement is allowed. Got: {len(statement.trees)}")
        text = sql.to_duckdb(statement, parameters or [])
        cursor = self._db.cursor()
        on_cursor(cursor)
        try:
            scanned = 0
            for ref in sql.table_refs(statement):
                if is_cancelled():
                    raise QueryCancelled()
                scanned += self._ensure_loaded(ref, database, statement.text, access)
            with self._lock:  # catalog changes one at a time: concurrent ones conflict in DuckDB
                self._db.execute(f"CREATE SCHEMA IF NOT EXISTS {CATALOG}.{_quote(database)}")
            cursor.execute(f"SET search_path = '{CATALOG}.{database.replace(chr(39), chr(39) * 2)},memory.main'")
            if is_cancelled():
                raise QueryCancelled()
            relation = cursor.sql(text)
            duck_types = [str(t) for t in relation.types]
            names = sql.column_names(statement, list(relation.columns))
            texts = relation.project(
                ", ".join(f"{text_expr(i + 1, t)} AS c{i}" for i, t in enumerate(duck_types))
            ).to_arrow_table()
            return QueryResult(
                names=names, types=[athena_type(t) for t in duck_types], rows=texts, data_scanned_bytes=scanned
            )
        except duckdb.InterruptException as exc:
            raise QueryCancelled() from exc
        except duckdb.Error as exc:
            if is_cancelled():
                raise QueryCancelled() from exc
            raise _failure(statement, text, _positioned(cursor, text, exc)) from exc
        finally:
            cursor.close()

    # -- loading ---------------------------------------------------------------------------------

    def _ensure_loaded(self, ref: TableRef, database: str, query: str, access: QueryAccess) -> int:
        """Make `ref` a fresh DuckDB table; returns the bytes of its objects (what the query scans)."""
        where = sql.line_col(query, ref.offset)
        if ref.catalog and ref.catalog.lower() != CATALOG:
            raise QueryError("CATALOG_NOT_FOUND", f"{where}: Catalog '{ref.catalog.lower()}' does not exist")
        schema = (ref.schema or database).lower()
        if not access.database_exists(schema):
            raise QueryError("SCHEMA_NOT_FOUND", f"{where}: Schema '{schema}' does not exist")
        found = access.table(schema, ref.table.lower())
        if found is None:
            raise QueryError(
                "TABLE_NOT_FOUND", f"{where}: Table '{CATALOG}.{schema}.{ref.table.lower()}' does not exist"
            )
        table = tables.glue_table(found, schema)
        if not table.location.startswith("s3://"):
            raise QueryError(
                "HIVE_METASTORE_ERROR",
                f"Table {schema}.{table.name} has no S3 location (StorageDescriptor.Location is {table.location!r})",
                error_type=204,
            )
        with self._lock:
            loaded = self._loaded.get((schema, table.name))
        if (
            access.caller.principal is None  # the administrator may read every file of the snapshot held
            and table.is_iceberg
            and loaded is not None
            and loaded.table == table
            and loaded.table.metadata_location == table.metadata_location
        ):
            return loaded.size  # the snapshot it holds is still the current one
        files = self._files(table, access)
        with self._lock:
            loaded = self._loaded.get((schema, table.name))
            current = {key: identity for key, (identity, _) in files.listing.items()}
            if (
                loaded is None
                or loaded.table != table
                or any(current.get(key) != identity for key, identity in loaded.objects.items())
            ):
                self._loaded.pop((schema, table.name), None)
                loaded = _Loaded(table)
                self._create(table)
            new_keys = [key for key in files.listing if key not in loaded.objects]
            try:
                self._append(table, new_keys, files.read)
            except BaseException:  # some rows may be in: the next query loads the table whole
                self._loaded.pop((schema, table.name), None)
                raise
            for key in new_keys:
                loaded.objects[key] = current[key]
            loaded.table = table
            loaded.size = sum(size for _, size in files.listing.values())
            self._loaded[(schema, table.name)] = loaded
        for key in sorted(files.listing.keys() - set(new_keys)):  # held from an earlier query: not read again
            files.check(key)
        return loaded.size

    @staticmethod
    def _files(table: GlueTable, access: QueryAccess) -> _Files:
        """The table's objects as its caller lists them, and how to read or check one as that caller."""
        if table.is_iceberg:
            from local_aws.athena import iceberg_scan  # pyiceberg takes most of a second to import: only when needed

            snapshot = iceberg_scan.current_snapshot(table, access)
            return _Files(snapshot.files, snapshot.read, snapshot.check)
        bucket, prefix = parse_s3_uri(table.location)
        prefix = prefix.rstrip("/") + "/" if prefix else ""
        listing = {
            key: (etag, size)
            for key, etag, size in access.objects(bucket, prefix)
            if tables.is_data_object(key, prefix, size)
        }
        return _Files(
            listing,
            functools.partial(tables.read_object, table, access, bucket, prefix),
            lambda key: access.may_read(f"s3://{bucket}/{key}", "Hive"),
        )

    @staticmethod
    def _target(table: GlueTable) -> str:
        return f"{CATALOG}.{_quote(table.database)}.{_quote(table.name)}"

    def _create(self, table: GlueTable) -> None:
        self._db.execute(f"CREATE SCHEMA IF NOT EXISTS {CATALOG}.{_quote(table.database)}")
        columns = ", ".join(f"{_quote(name)} {duck_type}" for name, duck_type in table.columns)
        self._db.execute(f"CREATE OR REPLACE TABLE {self._target(table)} ({columns})")

    def _append(self, table: GlueTable, keys: list[str], read: Callable[[str], pa.Table | None]) -> None:
        """Read the objects, group those with one schema, insert each group cast to the Glue types."""
        groups: dict[pa.Schema, list[pa.Table]] = {}
        for key in keys:
            part = read(key)
            if part is not None:
                groups.setdefault(part.schema, []).append(part)
        for schema, parts in groups.items():
            present = {name.lower(): name for name in schema.names}
            select = []
            for name, duck_type in table.columns:
                source = f"__partition_{name}" if name in table.partition_keys else present.get(name)
                select.append(f"CAST({_quote(source)} AS {duck_type})" if source else f"CAST(NULL AS {duck_type})")
            view = "incoming_objects"
            self._db.register(view, pa.concat_tables(parts))
            try:
                self._db.execute(f"INSERT INTO {self._target(table)} SELECT {', '.join(select)} FROM {view}")
            except duckdb.ConversionException as exc:
                raise QueryError(
                    "HIVE_BAD_DATA",
                    f"Error reading table {table.database}.{table.name}: {str(exc).splitlines()[0]}",
                    error_type=1001,
                ) from exc
            finally:
                self._db.unregister(view)


def _positioned(cursor: duckdb.DuckDBPyConnection, text: str, exc: duckdb.Error) -> duckdb.Error:
    """The same error with its position in the query: the relation API drops it, plain execution keeps it."""
    try:
        cursor.execute(text).fetchone()
    except duckdb.Error as again:
        return again
    return exc


def _failure(statement: Statement, text: str, exc: duckdb.Error) -> QueryError:
    """Athena's failure for a DuckDB error, positioned in the query as written (DuckDB ran sqlglot's text)."""
    offset = failures.error_offset(exc, text)
    source = sql.source_offset(statement, text, offset) if offset is not None else None
    return failures.from_duckdb(exc, f"{sql.line_col(statement.text, source)}: " if source is not None else "")


_engines: dict[tuple[str, str], Engine] = {}
_engines_lock = threading.Lock()


def engine(account_id: str, region: str) -> Engine:
    """The engine of one account's Glue tables in one region."""
    with _engines_lock:
        key = (account_id, region)
        if key not in _engines:
            _engines[key] = Engine()
        return _engines[key]


def reset() -> None:
    """Forget every loaded table (the next query reloads from S3). An engine is dropped, not closed:
    a query being cancelled may still hold one of its cursors."""
    with _engines_lock:
        _engines.clear()
