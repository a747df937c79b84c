"""A feature group with TableFormat Iceberg: its table registered in Glue as AWS registers it, laid out in S3
as AWS lays it out (Iceberg metadata and manifests, Parquet data files in `_trunc` date folders), one
snapshot appended per flush of the offline store, read by Athena and by pyiceberg's own reader."""

from __future__ import annotations

import re

import pytest
from support.featurestore import (
    BUCKET,
    create_group,
    iceberg_offline_store,
    offline_query,
    s3_json,
    table_objects,
    wait_for_status,
)

import local_aws

GROUP = "customers"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
LATEST = (
    "SELECT customer_id, age, event_time FROM (SELECT *, row_number() OVER (PARTITION BY customer_id "
    "ORDER BY event_time DESC, write_time DESC, api_invocation_time DESC) AS row_num FROM {table}) "
    "WHERE row_num = 1 AND NOT is_deleted ORDER BY customer_id"
)


def record(customer: int, event_time: str, age: int) -> list[dict]:
    values = {
        "customer_id": str(customer),
        "event_time": event_time,
        "age": str(age),
        "balance": "1.5",
        "segment": "retail",
    }
    return [{"FeatureName": name, "ValueAsString": value} for name, value in values.items()]


def glue_entry(aws, described: dict) -> dict:
    catalog = described["OfflineStoreConfig"]["DataCatalogConfig"]
    return aws.client("glue").get_table(DatabaseName=catalog["Database"], Name=catalog["TableName"])["Table"]


def metadata(aws, described: dict) -> dict:
    """The table's current Iceberg metadata (the file the Glue table's metadata_location names)."""
    return s3_json(aws, glue_entry(aws, described)["Parameters"]["metadata_location"])


@pytest.fixture()
def group(aws) -> dict:
    return create_group(aws, GROUP, OfflineStoreConfig=iceberg_offline_store())


def test_create_registers_an_iceberg_table_in_glue(aws, group):
    offline = group["OfflineStoreConfig"]
    assert offline["TableFormat"] == "Iceberg"
    resolved = offline["S3StorageConfig"]["ResolvedOutputS3Uri"]
    assert re.fullmatch(
        rf"s3://{BUCKET}/feature-store/123456789012/sagemaker/us-east-1/offline-store/"
        rf"{GROUP}-\d+/data",
        resolved,
    )
    location = resolved.removesuffix("/data")

    table = glue_entry(aws, group)
    assert table["TableType"] == "EXTERNAL_TABLE"
    assert table["Parameters"]["table_type"] == "ICEBERG"
    assert re.fullmatch(rf"{location}/metadata/00000-{UUID}\.metadata\.json", table["Parameters"]["metadata_location"])
    assert table["StorageDescriptor"]["Location"] == location
    assert [
        (c["Name"], c["Type"], c["Parameters"]["iceberg.field.id"]) for c in table["StorageDescriptor"]["Columns"]
    ] == [
        ("customer_id", "bigint", "1"),
        ("event_time", "string", "2"),
        ("age", "bigint", "3"),
        ("balance", "double", "4"),
        ("segment", "string", "5"),
        ("write_time", "timestamp", "6"),
        ("api_invocation_time", "timestamp", "7"),
        ("is_deleted", "boolean", "8"),
    ]

    iceberg = metadata(aws, group)
    assert (iceberg["format-version"], iceberg["location"], iceberg["snapshots"]) == (2, location, [])
    assert iceberg["partition-specs"] == [
        {
            "spec-id": 0,
            "fields": [{"source-id": 2, "field-id": 1000, "transform": "truncate[10]", "name": "event_time_trunc"}],
        }
    ]
    assert [(f["name"], f["type"]) for f in iceberg["schemas"][0]["fields"]][-3:] == [
        ("write_time", "timestamp"),
        ("api_invocation_time", "timestamp"),
        ("is_deleted", "boolean"),
    ]
    assert table_objects(aws, group) == [table["Parameters"]["metadata_location"].split("/", 3)[3]]


def test_each_flush_appends_a_snapshot_that_athena_reads(aws, server, group):
    runtime = aws.client("sagemaker-featurestore-runtime")
    for customer, day in ((1, "01"), (2, "01"), (3, "02")):
        runtime.put_record(FeatureGroupName=GROUP, Record=record(customer, f"2024-05-{day}T10:00:00Z", 30 + customer))
    runtime.delete_record(FeatureGroupName=GROUP, RecordIdentifierValueAsString="2", EventTime="2024-05-03T00:00:00Z")
    local_aws.flush(server.port)

    first = glue_entry(aws, group)["Parameters"]["metadata_location"]
    assert re.search(rf"/metadata/00001-{UUID}\.metadata\.json$", first)
    location = group["OfflineStoreConfig"]["S3StorageConfig"]["ResolvedOutputS3Uri"].removesuffix("/data")
    prefix = location.split("/", 3)[3]
    keys = table_objects(aws, group)
    data = sorted(re.sub(r"/data/[0-9a-f]{8}/", "/data/<hash>/", key)[len(prefix) :] for key in keys if "/data/" in key)
    assert [re.sub(r"_[0-9a-f]{16}\.parquet$", "_<id>.parquet", key) for key in data] == [
        "/data/<hash>/event_time_trunc=2024-05-01/20240501T100000Z_<id>.parquet",
        "/data/<hash>/event_time_trunc=2024-05-02/20240502T100000Z_<id>.parquet",
        "/data/<hash>/event_time_trunc=2024-05-03/20240503T000000Z_<id>.parquet",
    ]
    listed = [key[len(prefix) :] for key in keys if "/metadata/" in key]
    assert sum(bool(re.fullmatch(rf"/metadata/\d{{5}}-{UUID}\.metadata\.json", key)) for key in listed) == 2
    assert sum(bool(re.fullmatch(rf"/metadata/snap-\d+-\d-{UUID}\.avro", key)) for key in listed) == 1
    assert sum(bool(re.fullmatch(rf"/metadata/{UUID}-m\d\.avro", key)) for key in listed) == 1

    assert offline_query(aws, group, "SELECT count(*), count_if(is_deleted) FROM {table}")[1] == ["4", "1"]
    assert offline_query(aws, group, LATEST)[1:] == [
        ["1", "31", "2024-05-01T10:00:00Z"],
        ["3", "33", "2024-05-02T10:00:00Z"],
    ]

    runtime.put_record(FeatureGroupName=GROUP, Record=record(1, "2024-05-04T08:00:00Z", 41))
    runtime.put_record(FeatureGroupName=GROUP, Record=record(4, "2024-05-04T09:00:00Z", 44))
    local_aws.flush(server.port)

    second = glue_entry(aws, group)["Parameters"]
    assert re.search(rf"/metadata/00002-{UUID}\.metadata\.json$", second["metadata_location"])
    assert second["previous_metadata_location"] == first
    snapshots = metadata(aws, group)["snapshots"]
    assert [s["summary"]["operation"] for s in snapshots] == ["append", "append"]
    assert snapshots[1]["parent-snapshot-id"] == snapshots[0]["snapshot-id"]
    assert (snapshots[0]["summary"]["added-records"], snapshots[1]["summary"]["added-records"]) == ("4", "2")
    assert (snapshots[1]["summary"]["added-data-files"], snapshots[1]["summary"]["total-data-files"]) == ("1", "4")
    assert offline_query(aws, group, "SELECT count(*) FROM {table}")[1] == ["6"]
    assert offline_query(aws, group, LATEST)[1:] == [
        ["1", "41", "2024-05-04T08:00:00Z"],
        ["3", "33", "2024-05-02T10:00:00Z"],
        ["4", "44", "2024-05-04T09:00:00Z"],
    ]


def test_pyiceberg_reads_the_table_from_glue_and_s3(aws, server, group):
    """An independent reader (pyiceberg's Glue catalog and its own S3 file IO) finds the table whole."""
    from pyiceberg.catalog import load_catalog

    runtime = aws.client("sagemaker-featurestore-runtime")
    for customer in (1, 2):
        runtime.put_record(FeatureGroupName=GROUP, Record=record(customer, "2024-05-01T10:00:00Z", 30 + customer))
    local_aws.flush(server.port)
    runtime.put_record(FeatureGroupName=GROUP, Record=record(3, "2024-05-02T10:00:00Z", 33))
    local_aws.flush(server.port)

    catalog = load_catalog(
        "glue",
        **{"type": "glue", "client.region": "us-east-1", "s3.endpoint": server.endpoint, "s3.region": "us-east-1"},
    )
    names = group["OfflineStoreConfig"]["DataCatalogConfig"]
    table = catalog.load_table(f"{names['Database']}.{names['TableName']}")
    assert str(table.spec()) == "[\n  1000: event_time_trunc: truncate[10](2)\n]"
    assert len(table.snapshots()) == 2
    rows = table.scan().to_arrow().sort_by("customer_id")
    assert rows.column("customer_id").to_pylist() == [1, 2, 3]
    assert rows.column("age").to_pylist() == [31, 32, 33]
    partitions = table.inspect.partitions().sort_by("record_count")
    assert [p["event_time_trunc"] for p in partitions.column("partition").to_pylist()] == ["2024-05-02", "2024-05-01"]


def test_added_features_join_the_schema_before_the_added_columns(aws, server, group):
    runtime = aws.client("sagemaker-featurestore-runtime")
    runtime.put_record(FeatureGroupName=GROUP, Record=record(1, "2024-05-01T10:00:00Z", 31))
    local_aws.flush(server.port)
    aws.client("sagemaker").update_feature_group(
        FeatureGroupName=GROUP, FeatureAdditions=[{"FeatureName": "city", "FeatureType": "String"}]
    )

    columns = glue_entry(aws, group)["StorageDescriptor"]["Columns"]
    assert [c["Name"] for c in columns][-4:] == ["city", "write_time", "api_invocation_time", "is_deleted"]
    assert columns[-4]["Parameters"] == {
        "iceberg.field.id": "9",
        "iceberg.field.optional": "true",
        "iceberg.field.current": "true",
    }
    assert metadata(aws, group)["current-schema-id"] == 1

    runtime.put_record(
        FeatureGroupName=GROUP,
        Record=[*record(2, "2024-05-01T11:00:00Z", 32), {"FeatureName": "city", "ValueAsString": "Oslo"}],
    )
    local_aws.flush(server.port)
    assert offline_query(aws, group, "SELECT customer_id, city FROM {table} ORDER BY customer_id")[1:] == [
        ["1", None],
        ["2", "Oslo"],
    ]


def test_fractional_event_time_makes_an_unpartitioned_table_in_utc_date_folders(aws, server):
    types = {"customer_id": "String", "event_time": "Fractional", "age": "Integral"}
    described = create_group(aws, "ticks", types=types, OfflineStoreConfig=iceberg_offline_store())
    assert metadata(aws, described)["partition-specs"] == [{"spec-id": 0, "fields": []}]
    aws.client("sagemaker-featurestore-runtime").put_record(
        FeatureGroupName="ticks",
        Record=[
            {"FeatureName": "customer_id", "ValueAsString": "a"},
            {"FeatureName": "event_time", "ValueAsString": "1714600800.5"},
            {"FeatureName": "age", "ValueAsString": "7"},
        ],
    )
    local_aws.flush(server.port)
    data = [key for key in table_objects(aws, described) if "/data/" in key]
    assert len(data) == 1 and "/event_time_trunc=2024-05-01/20240501T220000Z_" in data[0]
    assert offline_query(aws, described, "SELECT customer_id, event_time FROM {table}")[1] == ["a", "1.7146008005E9"]


def test_an_existing_glue_table_makes_the_iceberg_group_fail(aws):
    aws.client("glue").create_database(DatabaseInput={"Name": "mine"})
    aws.client("glue").create_table(DatabaseName="mine", TableInput={"Name": "taken"})
    config = {
        **iceberg_offline_store(),
        "DataCatalogConfig": {"TableName": "taken", "Catalog": "AwsDataCatalog", "Database": "mine"},
    }
    described = create_group(aws, GROUP, OfflineStoreConfig=config, wait=False)  # accepted: it fails later
    failed = wait_for_status(aws.client("sagemaker"), GROUP, "CreateFailed")
    # Creating for half a second (a loaded machine may describe it after that), then CreateFailed.
    assert described["FeatureGroupStatus"] in ("Creating", "CreateFailed")
    assert "the Glue table mine.taken already exists" in failed["FailureReason"]
    assert "Parameters" not in aws.client("glue").get_table(DatabaseName="mine", Name="taken")["Table"]


def test_a_deleted_glue_table_blocks_the_offline_store_until_it_is_back(aws, server, group):
    glue, names = aws.client("glue"), group["OfflineStoreConfig"]["DataCatalogConfig"]
    entry = glue_entry(aws, group)
    glue.delete_table(DatabaseName=names["Database"], Name=names["TableName"])
    aws.client("sagemaker-featurestore-runtime").put_record(
        FeatureGroupName=GROUP, Record=record(1, "2024-05-01T10:00:00Z", 31)
    )
    local_aws.flush(server.port)
    status = aws.client("sagemaker").describe_feature_group(FeatureGroupName=GROUP)["OfflineStoreStatus"]
    assert status["Status"] == "Blocked"
    assert f"Glue has no table {names['Database']}.{names['TableName']}" in status["BlockedReason"]

    glue.create_table(
        DatabaseName=names["Database"],
        TableInput={key: entry[key] for key in ("Name", "TableType", "Parameters", "StorageDescriptor")},
    )
    local_aws.flush(server.port)  # the buffered record is written now
    assert aws.client("sagemaker").describe_feature_group(FeatureGroupName=GROUP)["OfflineStoreStatus"] == {
        "Status": "Active"
    }
    assert offline_query(aws, group, "SELECT customer_id FROM {table}")[1:] == [["1"]]


def test_the_table_survives_a_restart_and_takes_more_snapshots(own_server):
    session = own_server.session()
    described = create_group(session, GROUP, OfflineStoreConfig=iceberg_offline_store())
    runtime = session.client("sagemaker-featurestore-runtime")
    runtime.put_record(FeatureGroupName=GROUP, Record=record(1, "2024-05-01T10:00:00Z", 31))

    own_server.stop()  # a clean stop writes the buffered row: one snapshot
    session = own_server.start().session()
    assert offline_query(session, described, "SELECT customer_id, age FROM {table}")[1:] == [["1", "31"]]
    session.client("sagemaker-featurestore-runtime").put_record(
        FeatureGroupName=GROUP, Record=record(2, "2024-05-01T11:00:00Z", 32)
    )
    local_aws.flush(own_server.port)
    assert len(metadata(session, described)["snapshots"]) == 2
    assert offline_query(session, described, "SELECT count(*) FROM {table}")[1] == ["2"]
