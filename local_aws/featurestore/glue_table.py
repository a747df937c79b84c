"""The Glue table of a feature group's offline store in the Glue table format, as Feature Store creates it
in the Data Catalog (an Iceberg offline store's table is written by iceberg_store.py).

Its columns are the features (collections as arrays), then the three columns Feature Store adds to
every offline record; it is a Parquet table at the offline store's ResolvedOutputS3Uri, so Athena
reads the files the offline store writes. local_aws writes it into moto's Glue and rewrites it when
features are added; deleting the group leaves it in place, as AWS does.
"""

from __future__ import annotations

from local_aws.core.moto import state as moto_state
from local_aws.featurestore.models import Feature, FeatureGroup

GLUE_TYPES = {"Integral": "bigint", "Fractional": "double", "String": "string"}
ADDED_COLUMNS = (("write_time", "timestamp"), ("api_invocation_time", "timestamp"), ("is_deleted", "boolean"))


def glue_type(feature: Feature) -> str:
    base = GLUE_TYPES[feature.feature_type]
    return f"array<{base}>" if feature.collection_type else base


def description(group: FeatureGroup) -> str:
    return f"Offline store of SageMaker Feature Store feature group {group.name}"


def table_input(group: FeatureGroup) -> dict:
    """Glue's TableInput for the group's offline store as it is now."""
    catalog = group.offline_config["DataCatalogConfig"]
    columns = [(f.name, glue_type(f)) for f in group.features] + list(ADDED_COLUMNS)
    return {
        "Name": catalog["TableName"],
        "Description": description(group),
        "TableType": "EXTERNAL_TABLE",
        "Parameters": {"EXTERNAL": "TRUE", "classification": "parquet"},
        "PartitionKeys": [],
        "StorageDescriptor": {
            "Columns": [{"Name": name, "Type": kind} for name, kind in columns],
            "Location": group.offline_config["S3StorageConfig"]["ResolvedOutputS3Uri"],
            "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
            "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
            "Compressed": False,
            "SerdeInfo": {
                "SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
                "Parameters": {"serialization.format": "1"},
            },
            "StoredAsSubDirectories": False,
        },
    }


def write_glue_table(group: FeatureGroup) -> None:
    """Create (or bring up to date) the group's Glue table; its database is created when missing."""
    database, table = group.glue_table
    moto_state.write_glue_table(group.region, database, table, table_input(group), group.account_id)
