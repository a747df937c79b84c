"""The offline store of a feature group with TableFormat Iceberg: an Iceberg table registered in Glue and
laid out in S3 as AWS lays it out, appended to at each flush of the offline store's buffer.

Layout. The table's location is ResolvedOutputS3Uri without its final `/data` (the SDK says so
when it registers the location with Lake Formation); Iceberg keeps its metadata files, manifest
lists and manifests under `<location>/metadata/`, and the Parquet data files are where AWS's
documentation puts them: `<location>/data/<8 random hex digits>/<event time feature>_trunc=
<YYYY-MM-DD>/<latest event time in the file, YYYYMMDDTHHMMSSZ>_<16 random hex digits>.parquet`. The
`_trunc` folder is the partition field of `truncate[10](<event time>)`, the date of a String event
time (ISO-8601). Iceberg cannot truncate a double, so a table whose event time is Fractional (epoch
seconds) is unpartitioned; its folders still carry the UTC date.

Schema: the features (Integral long, Fractional double, String string, collections list<...>), then
write_time and api_invocation_time (timestamp, UTC) and is_deleted (boolean); features added by
UpdateFeatureGroup join it before write_time. Each flush appends one snapshot holding every data file
written for the group in that flush; when a write or the commit fails, the rows stay buffered and
the files already written are referenced by no snapshot, so no reader sees them.

pyiceberg takes most of a second to import: models.py and feature_groups.py import this module only
for Iceberg groups.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import os
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq
from pyiceberg.io.pyarrow import parquet_file_to_data_file, schema_to_pyarrow
from pyiceberg.partitioning import UNPARTITIONED_PARTITION_SPEC, PartitionField, PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.table import Table
from pyiceberg.transforms import TruncateTransform
from pyiceberg.types import (
    BooleanType,
    DoubleType,
    IcebergType,
    ListType,
    LongType,
    NestedField,
    StringType,
    TimestampType,
)

from local_aws.core.gateway.context import Caller
from local_aws.core.iceberg_catalog import GlueCatalog
from local_aws.core.moto import state as moto_state
from local_aws.featurestore.glue_table import ADDED_COLUMNS, description
from local_aws.featurestore.offline_store import Row

if TYPE_CHECKING:
    from local_aws.featurestore.models import Feature, FeatureGroup

_FEATURE_TYPES = {"Integral": LongType(), "Fractional": DoubleType(), "String": StringType()}
_ADDED_TYPES = {"timestamp": TimestampType(), "boolean": BooleanType()}  # ADDED_COLUMNS' Glue types
_WRITES = threading.Lock()  # local_aws's own commits, one at a time: they never conflict (and retry)
_ADDED = {
    "write_time": lambda row, written: written,
    "api_invocation_time": lambda row, written: int(row.api_invocation_time * 1_000_000),
    "is_deleted": lambda row, written: row.is_deleted,
}


def table_location(group: FeatureGroup) -> str:
    return group.offline_config["S3StorageConfig"]["ResolvedOutputS3Uri"].removesuffix("/data")


def _field_type(feature: Feature, ids: Iterator[int]) -> IcebergType:
    kind = _FEATURE_TYPES[feature.feature_type]
    return ListType(next(ids), kind, element_required=False) if feature.collection_type else kind


def _schema(features: list[Feature]) -> Schema:
    ids = itertools.count(1)
    fields = [NestedField(next(ids), f.name, _field_type(f, ids), required=False) for f in features]
    fields += [NestedField(next(ids), name, _ADDED_TYPES[kind], required=False) for name, kind in ADDED_COLUMNS]
    return Schema(*fields)


def _spec(group: FeatureGroup, schema: Schema) -> PartitionSpec:
    name = group.event_time_name
    if group.by_name[name].feature_type != "String":
        return UNPARTITIONED_PARTITION_SPEC
    return PartitionSpec(
        PartitionField(
            source_id=schema.find_field(name).field_id,
            field_id=1000,
            transform=TruncateTransform(10),
            name=f"{name}_trunc",
        )
    )


def _as_role(group: FeatureGroup) -> Caller:
    """The group's role: Feature Store writes the offline store with it."""
    return Caller.role(group.role_arn, group.region)


def _table(group: FeatureGroup) -> Table:
    return GlueCatalog(_as_role(group)).load_table(group.glue_table)


def create(group: FeatureGroup) -> str | None:
    """Create the group's table and its Glue entry: None, or why the offline store cannot be created."""
    database, name = group.glue_table
    schema = _schema(group.features)
    try:
        GlueCatalog(_as_role(group)).create(
            group.glue_table, schema, _spec(group, schema), table_location(group), description(group)
        )
    except FileExistsError:
        return (
            f"Failed to create the OfflineStore: the Glue table {database}.{name} already exists. Name another "
            "table in DataCatalogConfig, delete this FeatureGroup and create it again."
        )
    return None


def add_features(group: FeatureGroup, features: list[Feature]) -> None:
    """Add the features to the table's schema (one commit), before the columns Feature Store adds."""
    with _WRITES, _table(group).update_schema() as update:
        for feature in features:
            update.add_column(feature.name, _field_type(feature, itertools.count(1)))
            update.move_before(feature.name, "write_time")


def _folder(group: FeatureGroup, row: Row) -> str:
    """The `_trunc` partition value of a row: its String event time's date, or the UTC date of a Fractional one."""
    value = row.values[group.event_time_name]
    if isinstance(value, str):
        return value[:10]
    return f"{dt.datetime.fromtimestamp(row.event_time, dt.UTC):%Y-%m-%d}"


def _encode(schema: Schema, rows: list[Row], write_time: float) -> bytes:
    """One Parquet file of the rows in the table's current schema, with Iceberg's field ids."""
    arrow_schema = schema_to_pyarrow(schema)
    written = int(write_time * 1_000_000)
    arrays = [
        pa.array(
            [
                _ADDED[column.name](row, written) if column.name in _ADDED else row.values.get(column.name)
                for row in rows
            ],
            type=column.type,
        )
        for column in arrow_schema
    ]
    sink = io.BytesIO()
    pq.write_table(pa.Table.from_arrays(arrays, schema=arrow_schema), sink)
    return sink.getvalue()


def append(group: FeatureGroup, rows: list[Row], write_time: float) -> int:
    """Write the rows as one data file per partition and commit them as one snapshot; returns the files."""
    with _WRITES:
        return _write_snapshot(_table(group), group, rows, write_time)


def _write_snapshot(table: Table, group: FeatureGroup, rows: list[Row], write_time: float) -> int:
    by_folder: dict[str, list[Row]] = {}
    for row in rows:
        by_folder.setdefault(_folder(group, row), []).append(row)
    data_files = []
    for folder, part in sorted(by_folder.items()):
        latest = dt.datetime.fromtimestamp(max(row.event_time for row in part), dt.UTC)
        path = (
            f"{table.location()}/data/{os.urandom(4).hex()}/{group.event_time_name}_trunc={folder}/"
            f"{latest:%Y%m%dT%H%M%SZ}_{os.urandom(8).hex()}.parquet"
        )
        bucket, key = moto_state.parse_s3_uri(path)
        moto_state.put_object(bucket, key, _encode(table.schema(), part, write_time), group.account_id)
        data_files.append(parquet_file_to_data_file(table.io, table.metadata, path))
    with table.transaction() as transaction:
        with transaction.update_snapshot().fast_append() as snapshot:
            for data_file in data_files:
                snapshot.append_data_file(data_file)
    return len(data_files)
