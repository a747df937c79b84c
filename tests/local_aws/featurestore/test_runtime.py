"""Feature Store runtime through boto3: records online and offline, validation, deletes, the Parquet files."""

from __future__ import annotations

import datetime as dt
import io
import re
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from support import error_of, wait_until
from support.featurestore import (
    BUCKET,
    PROBE,
    TYPES,
    Clients,
    create_group,
    offline_objects,
    offline_table,
    wait_for_status,
    wait_until_gone,
)
from support.iam import create_test_roles

import local_aws

GROUP = "customers"


def record(customer_id: int | str, event_time: str, **features) -> list[dict]:
    values = {"customer_id": str(customer_id), "event_time": event_time, **features}
    return [{"FeatureName": name, "ValueAsString": value} for name, value in values.items()]


def flush(server) -> dict:
    """What the offline store wrote on a flush now: rows, files and rows still pending."""
    return local_aws.flush(server.port)["offline_store"]


@pytest.fixture()
def runtime(aws):
    return aws.client("sagemaker-featurestore-runtime")


@pytest.fixture()
def group(aws) -> dict:
    return create_group(aws, GROUP)


def get(runtime, customer_id, **kwargs) -> dict:
    response = runtime.get_record(FeatureGroupName=GROUP, RecordIdentifierValueAsString=str(customer_id), **kwargs)
    response.pop("ResponseMetadata")
    return response


# --- online store --------------------------------------------------------------------------------


def test_put_then_get_round_trip(runtime, group):
    written = record(7, "2024-05-01T10:00:00Z", age="41", balance="120.5", segment="gold")
    runtime.put_record(FeatureGroupName=GROUP, Record=written)
    assert get(runtime, 7) == {"Record": written}
    assert get(runtime, 7, FeatureNames=["balance", "segment"]) == {"Record": written[3:]}
    by_arn = runtime.get_record(FeatureGroupName=group["FeatureGroupArn"], RecordIdentifierValueAsString="7")
    assert by_arn["Record"] == written
    assert get(runtime, 8) == {}  # a missing identifier answers an empty response, without Record


def test_online_store_keeps_the_latest_event_time_and_offline_keeps_all(aws, server, runtime, group):
    runtime.put_record(FeatureGroupName=GROUP, Record=record(1, "2024-05-01T10:00:00Z", segment="new"))
    runtime.put_record(FeatureGroupName=GROUP, Record=record(1, "2024-04-01T10:00:00Z", segment="older"))
    assert get(runtime, 1)["Record"][2]["ValueAsString"] == "new"
    runtime.put_record(FeatureGroupName=GROUP, Record=record(1, "2024-05-01T10:00:00Z", segment="same time"))
    assert get(runtime, 1)["Record"][2]["ValueAsString"] == "same time"
    flush(server)
    assert sorted(offline_table(aws, group).column("segment").to_pylist()) == ["new", "older", "same time"]


def test_target_stores_choose_where_a_record_goes(aws, server, runtime, group):
    runtime.put_record(FeatureGroupName=GROUP, Record=record(1, "2024-05-01T10:00:00Z"), TargetStores=["OnlineStore"])
    runtime.put_record(FeatureGroupName=GROUP, Record=record(2, "2024-05-01T10:00:00Z"), TargetStores=["OfflineStore"])
    assert "Record" in get(runtime, 1) and get(runtime, 2) == {}
    flush(server)
    assert offline_table(aws, group).column("customer_id").to_pylist() == [2]


def test_expired_records_are_gone_and_live_ones_answer_expires_at(runtime, aws):
    create_group(aws, GROUP, offline=False)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    runtime.put_record(
        FeatureGroupName=GROUP,
        Record=record(1, now.strftime("%Y-%m-%dT%H:%M:%SZ")),
        TtlDuration={"Unit": "Weeks", "Value": 1},
    )
    runtime.put_record(
        FeatureGroupName=GROUP, Record=record(2, "2024-05-01T10:00:00Z"), TtlDuration={"Unit": "Days", "Value": 7}
    )
    assert "ExpiresAt" not in get(runtime, 1)
    expires = get(runtime, 1, ExpirationTimeResponse="Enabled")["ExpiresAt"]
    assert expires == (now + dt.timedelta(weeks=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert get(runtime, 2) == {}  # expired a week after its event time


# --- validation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad_record, fragment",
    [
        (
            record(1, "2024-05-01T10:00:00Z", colour="red"),
            "The feature colour is not defined in FeatureGroup customers-",
        ),
        (
            [{"FeatureName": "event_time", "ValueAsString": "2024-05-01T10:00:00Z"}],
            "The Record is missing the record identifier feature customer_id",
        ),
        (
            [{"FeatureName": "customer_id", "ValueAsString": "1"}],
            "The Record is missing the event time feature event_time",
        ),
        (
            record(1, "2024-05-01T10:00:00Z") + [{"FeatureName": "age", "ValueAsString": "3"}] * 2,
            "The feature age appears more than once",
        ),
        (record("x1", "2024-05-01T10:00:00Z"), "Invalid value 'x1' for feature customer_id of type Integral"),
        (record(1, "2024-05-01T10:00:00Z", age="4.5"), "Invalid value '4.5' for feature age of type Integral"),
        (record(1, "2024-05-01T10:00:00Z", age="99999999999999999999"), "fits in 64 bits"),
        (
            record(1, "2024-05-01T10:00:00Z", balance="ten"),
            "Invalid value 'ten' for feature balance of type Fractional",
        ),
        (record(1, "2024-05-01 10:00:00"), "Invalid EventTime '2024-05-01 10:00:00'"),
        (record(1, "2024-05-01T10:00:00+00:00"), "yyyy-MM-dd'T'HH:mm:ssZ or yyyy-MM-dd'T'HH:mm:ss.SSSZ"),
        (record(1, "2024-13-01T10:00:00Z"), "Invalid EventTime '2024-13-01T10:00:00Z'"),
        (record(1, "1714557600"), "Invalid EventTime '1714557600'"),
        ([{"FeatureName": "customer_id", "ValueAsStringList": ["1"]}], "a scalar feature takes ValueAsString"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_invalid_records_are_validation_errors(clients, server, probe, bad_record, fragment):
    runtime = clients.client("sagemaker-featurestore-runtime")
    code, message = error_of(lambda: runtime.put_record(FeatureGroupName=PROBE, Record=bad_record))
    assert code == "ValidationError"
    assert fragment in message
    flush(server)
    assert offline_objects(clients, probe) == []


def test_event_times_with_fractional_seconds_are_accepted(runtime, group):
    for customer_id, event_time in enumerate(
        ["2024-05-01T10:00:00.5Z", "2024-05-01T10:00:00.123Z", "2024-05-01T10:00:00.123456Z"]
    ):
        runtime.put_record(FeatureGroupName=GROUP, Record=record(customer_id, event_time))
        assert get(runtime, customer_id)["Record"][1]["ValueAsString"] == event_time


def test_fractional_event_time_is_epoch_seconds(aws, server, runtime):
    described = create_group(aws, GROUP, types={"customer_id": "String", "ts": "Fractional"}, event_time="ts")
    runtime.put_record(
        FeatureGroupName=GROUP,
        Record=[
            {"FeatureName": "customer_id", "ValueAsString": "c-1"},
            {"FeatureName": "ts", "ValueAsString": "1714557600.25"},
        ],
    )
    code, message = error_of(
        lambda: runtime.put_record(
            FeatureGroupName=GROUP,
            Record=[
                {"FeatureName": "customer_id", "ValueAsString": "c-2"},
                {"FeatureName": "ts", "ValueAsString": "2024-05-01T10:00:00Z"},
            ],
        )
    )
    assert code == "ValidationError" and "Unix epoch seconds" in message
    flush(server)
    [key] = offline_objects(aws, described)
    assert "/year=2024/month=05/day=01/hour=10/20240501T100000Z_" in key
    assert offline_table(aws, described).column("ts").to_pylist() == [1714557600.25]


def test_missing_and_unready_groups_refuse_records(aws, runtime):
    first = record(1, "2024-05-01T10:00:00Z")
    code, message = error_of(lambda: runtime.put_record(FeatureGroupName="nope", Record=first))
    assert code == "ValidationError"
    assert message == "Resource Not Found: Amazon SageMaker can't find a FeatureGroup with name [nope]."
    code, _ = error_of(lambda: runtime.get_record(FeatureGroupName="nope", RecordIdentifierValueAsString="1"))
    assert code == "ResourceNotFound"
    create_group(aws, GROUP, wait=False)
    code, message = error_of(lambda: runtime.put_record(FeatureGroupName=GROUP, Record=first))
    assert code == "ValidationError" and "is Creating" in message
    wait_for_status(aws.client("sagemaker"), GROUP, "Created")
    runtime.put_record(FeatureGroupName=GROUP, Record=first)
    aws.client("sagemaker").delete_feature_group(FeatureGroupName=GROUP)
    code, message = error_of(lambda: runtime.get_record(FeatureGroupName=GROUP, RecordIdentifierValueAsString="1"))
    assert code == "ResourceNotFound" and "can't find a FeatureGroup with name [customers]" in message


def test_offline_only_group_takes_records_but_serves_no_reads(aws, server, runtime):
    described = create_group(aws, GROUP, online=False)
    runtime.put_record(FeatureGroupName=GROUP, Record=record(1, "2024-05-01T10:00:00Z"))
    code, message = error_of(lambda: get(runtime, 1))
    assert code == "ValidationError" and "has no OnlineStore" in message
    code, message = error_of(
        lambda: runtime.put_record(
            FeatureGroupName=GROUP, Record=record(2, "2024-05-01T10:00:00Z"), TargetStores=["OnlineStore"]
        )
    )
    assert code == "ValidationError" and "TargetStores names OnlineStore" in message
    batch = runtime.batch_get_record(Identifiers=[{"FeatureGroupName": GROUP, "RecordIdentifiersValueAsString": ["1"]}])
    assert batch["Errors"][0]["ErrorCode"] == "ValidationError" and batch["Records"] == []
    flush(server)
    assert offline_table(aws, described).column("customer_id").to_pylist() == [1]


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"FeatureNames": ["nope"]}, "FeatureNames ['nope'] are not defined"),
        ({"RecordIdentifierValueAsString": "one"}, "Invalid value 'one' for feature customer_id"),
        ({"ExpirationTimeResponse": "Maybe"}, "at 'expirationTimeResponse'"),
    ],
)
def test_invalid_reads_are_validation_errors(clients, probe, kwargs, fragment):
    request = {"FeatureGroupName": PROBE, "RecordIdentifierValueAsString": "1", **kwargs}
    code, message = error_of(lambda: clients.client("sagemaker-featurestore-runtime").get_record(**request))
    assert code == "ValidationError" and fragment in message


# --- deletes -------------------------------------------------------------------------------------


def test_soft_delete_hides_the_record_and_writes_a_marker(aws, server, runtime, group):
    runtime.put_record(FeatureGroupName=GROUP, Record=record(1, "2024-05-01T10:00:00Z", segment="gold"))
    runtime.put_record(FeatureGroupName=GROUP, Record=record(2, "2024-05-01T10:00:00Z", segment="gold"))
    runtime.delete_record(FeatureGroupName=GROUP, RecordIdentifierValueAsString="1", EventTime="2024-05-02T00:00:00Z")
    assert get(runtime, 1) == {} and "Record" in get(runtime, 2)
    listed = runtime.list_records(FeatureGroupName=GROUP)["RecordIdentifiers"]
    assert listed == ["2"]
    with_deleted = runtime.list_records(FeatureGroupName=GROUP, IncludeSoftDeletedRecords=True)
    assert with_deleted["RecordIdentifiers"] == ["1", "2"]
    # a write older than the delete stays out of the online store; a newer one brings the record back
    runtime.put_record(FeatureGroupName=GROUP, Record=record(1, "2024-05-01T12:00:00Z", segment="late"))
    assert get(runtime, 1) == {}
    runtime.put_record(FeatureGroupName=GROUP, Record=record(1, "2024-05-03T00:00:00Z", segment="back"))
    assert get(runtime, 1)["Record"][2]["ValueAsString"] == "back"
    flush(server)
    rows = offline_table(aws, group).to_pylist()
    markers = [row for row in rows if row["is_deleted"]]
    assert len(rows) == 5 and len(markers) == 1
    assert markers[0]["customer_id"] == 1 and markers[0]["event_time"] == "2024-05-02T00:00:00Z"
    assert markers[0]["segment"] is None and markers[0]["age"] is None


def test_stale_deletes(aws, server, runtime, group):
    runtime.put_record(FeatureGroupName=GROUP, Record=record(1, "2024-05-01T10:00:00Z"))
    runtime.delete_record(FeatureGroupName=GROUP, RecordIdentifierValueAsString="1", EventTime="2024-04-01T00:00:00Z")
    assert "Record" in get(runtime, 1)  # a stale soft delete leaves the record but still writes the marker
    code, message = error_of(
        lambda: runtime.delete_record(
            FeatureGroupName=GROUP,
            RecordIdentifierValueAsString="1",
            EventTime="2024-05-01T10:00:00Z",
            DeletionMode="HardDelete",
        )
    )
    assert code == "ValidationError" and "not later than" in message  # and no marker
    flush(server)
    assert sorted(offline_table(aws, group).column("is_deleted").to_pylist()) == [False, True]


def test_hard_delete_removes_the_record(aws, server, runtime, group):
    runtime.put_record(FeatureGroupName=GROUP, Record=record(1, "2024-05-01T10:00:00Z"))
    runtime.delete_record(
        FeatureGroupName=GROUP,
        RecordIdentifierValueAsString="1",
        EventTime="2024-05-02T00:00:00Z",
        DeletionMode="HardDelete",
    )
    assert get(runtime, 1) == {}
    assert runtime.list_records(FeatureGroupName=GROUP, IncludeSoftDeletedRecords=True)["RecordIdentifiers"] == []
    runtime.put_record(FeatureGroupName=GROUP, Record=record(1, "2024-04-01T00:00:00Z"))  # nothing to be newer than
    assert "Record" in get(runtime, 1)
    flush(server)
    assert sorted(offline_table(aws, group).column("is_deleted").to_pylist()) == [False, False, True]


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"EventTime": "yesterday"}, "Invalid EventTime 'yesterday'"),
        ({"DeletionMode": "Purge"}, "at 'deletionMode'"),
        ({"RecordIdentifierValueAsString": "abc"}, "Invalid value 'abc' for feature customer_id"),
        ({"TargetStores": ["Cache"]}, "at 'targetStores.1.member'"),
    ],
)
def test_invalid_deletes_are_validation_errors(clients, probe, kwargs, fragment):
    request = {
        "FeatureGroupName": PROBE,
        "RecordIdentifierValueAsString": "1",
        "EventTime": "2024-05-01T10:00:00Z",
        **kwargs,
    }
    code, message = error_of(lambda: clients.client("sagemaker-featurestore-runtime").delete_record(**request))
    assert code == "ValidationError" and fragment in message


def test_list_records_pages(runtime, aws):
    create_group(aws, GROUP, offline=False)
    for customer_id in (3, 1, 2):
        runtime.put_record(FeatureGroupName=GROUP, Record=record(customer_id, "2024-05-01T10:00:00Z"))
    first = runtime.list_records(FeatureGroupName=GROUP, MaxResults=2)
    assert first["RecordIdentifiers"] == ["1", "2"]
    second = runtime.list_records(FeatureGroupName=GROUP, MaxResults=2, NextToken=first["NextToken"])
    assert second["RecordIdentifiers"] == ["3"] and "NextToken" not in second
    code, message = error_of(lambda: runtime.list_records(FeatureGroupName=GROUP, NextToken="garbage"))
    assert code == "ValidationError" and "Invalid NextToken" in message


def test_a_recreated_group_starts_with_an_empty_online_store(runtime, aws):
    create_group(aws, GROUP, offline=False)
    runtime.put_record(FeatureGroupName=GROUP, Record=record(1, "2024-05-01T10:00:00Z"))
    sm = aws.client("sagemaker")
    sm.delete_feature_group(FeatureGroupName=GROUP)
    wait_until_gone(sm, GROUP)
    create_group(aws, GROUP, offline=False)
    assert get(runtime, 1) == {}
    assert runtime.list_records(FeatureGroupName=GROUP, IncludeSoftDeletedRecords=True)["RecordIdentifiers"] == []


# --- batches -------------------------------------------------------------------------------------


def test_batch_get_record(runtime, aws, group):
    create_group(
        aws,
        "orders",
        types={"order_id": "String", "event_time": "String", "total": "Fractional"},
        record_id="order_id",
        offline=False,
    )
    runtime.put_record(FeatureGroupName=GROUP, Record=record(1, "2024-05-01T10:00:00Z", age="30"))
    order = [
        {"FeatureName": "order_id", "ValueAsString": "o-1"},
        {"FeatureName": "event_time", "ValueAsString": "2024-05-01T10:00:00Z"},
        {"FeatureName": "total", "ValueAsString": "9.5"},
    ]
    runtime.put_record(FeatureGroupName="orders", Record=order)
    result = runtime.batch_get_record(
        Identifiers=[
            {"FeatureGroupName": GROUP, "RecordIdentifiersValueAsString": ["1", "2"], "FeatureNames": ["age"]},
            {"FeatureGroupName": "orders", "RecordIdentifiersValueAsString": ["o-1"]},
            {"FeatureGroupName": "missing", "RecordIdentifiersValueAsString": ["z"]},
        ]
    )
    assert [(r["FeatureGroupName"], r["RecordIdentifierValueAsString"], r["Record"]) for r in result["Records"]] == [
        (GROUP, "1", [{"FeatureName": "age", "ValueAsString": "30"}]),
        ("orders", "o-1", order),
    ]
    assert [(e["FeatureGroupName"], e["RecordIdentifierValueAsString"], e["ErrorCode"]) for e in result["Errors"]] == [
        ("missing", "z", "ResourceNotFound")
    ]
    assert result["UnprocessedIdentifiers"] == []


def test_batch_write_record_reports_each_failed_entry(runtime, group):
    result = runtime.batch_write_record(
        Entries=[
            {"FeatureGroupName": GROUP, "Record": record(1, "2024-05-01T10:00:00Z")},
            {"FeatureGroupName": GROUP, "Record": record("bad", "2024-05-01T10:00:00Z")},
        ]
    )
    assert [(e["Entry"]["Record"][0]["ValueAsString"], e["ErrorCode"]) for e in result["Errors"]] == [
        ("bad", "ValidationError")
    ]
    assert result["UnprocessedEntries"] == [] and "Record" in get(runtime, 1)


# --- the offline store ---------------------------------------------------------------------------

FILE_NAME = re.compile(r"/year=(\d{4})/month=(\d{2})/day=(\d{2})/hour=(\d{2})/(\d{8}T\d{6}Z)_[0-9a-f]{16}\.parquet$")


def test_offline_parquet_follows_the_contract(aws, server, runtime, group):
    before = dt.datetime.now(dt.UTC)
    runtime.put_record(FeatureGroupName=GROUP, Record=record(1, "2024-05-01T10:15:00Z", age="41", balance="1.5"))
    runtime.put_record(FeatureGroupName=GROUP, Record=record(2, "2024-05-01T10:45:30.250Z", segment="gold"))
    runtime.put_record(FeatureGroupName=GROUP, Record=record(3, "2024-05-01T23:59:59Z", balance="-2e3"))
    assert flush(server)["pending"] == 0
    assert flush(server) == {"rows": 0, "files": 0, "pending": 0}  # nothing is written twice
    s3 = aws.client("s3")
    resolved_prefix = group["OfflineStoreConfig"]["S3StorageConfig"]["ResolvedOutputS3Uri"].split("/", 3)[3]
    partitions = set()
    for key in offline_objects(aws, group):  # the background flush may have split the rows over more files
        assert key.startswith(resolved_prefix + "/year=")
        year, month, day, hour, latest = FILE_NAME.search(key).groups()
        partitions.add((year, month, day, hour))
        table = pq.read_table(io.BytesIO(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()))
        event_times = table.column("event_time").to_pylist()
        assert {t[:13] for t in event_times} == {f"{year}-{month}-{day}T{hour}"}
        assert latest == max(event_times)[:19].replace("-", "").replace(":", "") + "Z"
    assert partitions == {("2024", "05", "01", "10"), ("2024", "05", "01", "23")}
    table = offline_table(aws, group)
    assert table.schema.names == [*TYPES, "write_time", "api_invocation_time", "is_deleted"]
    stamp = pa.timestamp("us", tz="UTC")
    assert [table.schema.field(name).type for name in table.schema.names] == [
        pa.int64(),
        pa.string(),
        pa.int64(),
        pa.float64(),
        pa.string(),
        stamp,
        stamp,
        pa.bool_(),
    ]
    rows = sorted(table.to_pylist(), key=lambda row: row["customer_id"])
    assert [(r["customer_id"], r["age"], r["balance"], r["segment"]) for r in rows] == [
        (1, 41, 1.5, None),
        (2, None, None, "gold"),
        (3, None, -2000.0, None),
    ]
    after = dt.datetime.now(dt.UTC)
    for row in rows:
        assert before <= row["api_invocation_time"] <= row["write_time"] <= after
        assert row["is_deleted"] is False


def test_added_features_appear_in_later_files(aws, server, runtime, group):
    runtime.put_record(FeatureGroupName=GROUP, Record=record(1, "2024-05-01T10:00:00Z"))
    flush(server)
    aws.client("sagemaker").update_feature_group(
        FeatureGroupName=GROUP, FeatureAdditions=[{"FeatureName": "city", "FeatureType": "String"}]
    )
    runtime.put_record(FeatureGroupName=GROUP, Record=record(2, "2024-05-01T11:00:00Z", city="Lyon"))
    flush(server)
    rows = sorted(offline_table(aws, group).to_pylist(), key=lambda row: row["customer_id"])
    assert [(r["customer_id"], r["city"]) for r in rows] == [(1, None), (2, "Lyon")]


def test_background_flush_within_the_documented_delay(aws, runtime, group):
    runtime.put_record(FeatureGroupName=GROUP, Record=record(1, "2024-05-01T10:00:00Z"))
    # the offline store is written with each save of the state: LOCAL_AWS_SAVE_SECONDS, 0.5 by default
    wait_until(lambda: offline_objects(aws, group), timeout=3.0, interval=0.1, what="the background flush")


def test_missing_bucket_blocks_the_offline_store_and_nothing_is_lost(aws, server, runtime, group):
    s3 = aws.client("s3")
    s3.delete_bucket(Bucket=BUCKET)
    runtime.put_record(FeatureGroupName=GROUP, Record=record(1, "2024-05-01T10:00:00Z"))
    assert flush(server)["pending"] == 1
    status = aws.client("sagemaker").describe_feature_group(FeatureGroupName=GROUP)["OfflineStoreStatus"]
    assert status["Status"] == "Blocked" and BUCKET in status["BlockedReason"]
    s3.create_bucket(Bucket=BUCKET)
    assert flush(server)["pending"] == 0
    assert aws.client("sagemaker").describe_feature_group(FeatureGroupName=GROUP)["OfflineStoreStatus"] == {
        "Status": "Active"
    }
    assert offline_table(aws, group).column("customer_id").to_pylist() == [1]


def test_flush_on_demand_and_on_shutdown(tmp_path, monkeypatch):
    monkeypatch.setenv("LOCAL_AWS_SAVE_SECONDS", "3600")  # no background flush (nor save) in this test
    monkeypatch.setenv("LOCAL_AWS_HOME", str(tmp_path))
    port = local_aws.free_port()
    log = Path(local_aws.ensure_running(port)["log"])
    try:
        keys = local_aws.client_environment(port)  # the key pair this server issued
        own = Clients(
            endpoint_url=local_aws.endpoint_url(port),
            aws_access_key_id=keys["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=keys["AWS_SECRET_ACCESS_KEY"],
        )
        runtime = own.client("sagemaker-featurestore-runtime")
        create_test_roles(own)  # the group's role: Feature Store writes the offline store as it
        described = create_group(own, GROUP)
        for customer_id in range(3):
            runtime.put_record(FeatureGroupName=GROUP, Record=record(customer_id, "2024-05-01T10:00:00Z"))
        time.sleep(1.2)
        assert offline_objects(own, described) == []
        assert local_aws.flush(port)["offline_store"] == {"rows": 3, "files": 1, "pending": 0}
        assert len(offline_objects(own, described)) == 1
        for customer_id in range(3, 5):
            runtime.put_record(FeatureGroupName=GROUP, Record=record(customer_id, "2024-05-01T10:00:00Z"))
    finally:
        local_aws.stop(port)
    assert "offline store flushed before exit: {'rows': 2, 'files': 1, 'pending': 0}" in log.read_text()


# --- UpdateRecord --------------------------------------------------------------------------------


def test_update_record_merges_features_into_the_record(aws, server, runtime):
    described = create_group(aws, GROUP, OnlineStoreConfig={"EnableOnlineStore": True, "StorageType": "Standard_V2"})
    runtime.put_record(FeatureGroupName=GROUP, Record=record(1, "2024-05-01T10:00:00Z", age="41", segment="gold"))
    runtime.update_record(
        FeatureGroupName=GROUP,
        RecordIdentifierValueAsString="1",
        Features=[
            {"FeatureName": "segment", "ValueAsString": "platinum"},
            {"FeatureName": "balance", "ValueAsString": "9.5"},
        ],
    )
    assert {v["FeatureName"]: v["ValueAsString"] for v in get(runtime, 1)["Record"]} == {
        "customer_id": "1",
        "event_time": "2024-05-01T10:00:00Z",
        "age": "41",
        "segment": "platinum",
        "balance": "9.5",
    }
    code, _ = error_of(
        lambda: runtime.update_record(
            FeatureGroupName=GROUP,
            RecordIdentifierValueAsString="1",
            Features=[{"FeatureName": "event_time", "ValueAsString": "2024-04-01T00:00:00Z"}],
        )
    )
    assert code == "ConflictException"
    code, _ = error_of(
        lambda: runtime.update_record(
            FeatureGroupName=GROUP,
            RecordIdentifierValueAsString="2",
            Features=[{"FeatureName": "age", "ValueAsString": "3"}],
        )
    )
    assert code == "ResourceNotFound"
    code, message = error_of(
        lambda: runtime.update_record(
            FeatureGroupName=GROUP,
            RecordIdentifierValueAsString="1",
            Features=[{"FeatureName": "age", "ValueAsString": "3"}],
            TtlDuration={"Unit": "Days", "Value": 1},
        )
    )
    assert code == "ValidationError" and "include event_time" in message
    flush(server)
    rows = offline_table(aws, described).to_pylist()
    assert sorted((r["segment"], r["balance"] or 0, r["age"]) for r in rows) == [("gold", 0, 41), ("platinum", 9.5, 41)]


def test_update_record_needs_a_standard_v2_or_in_memory_online_store(runtime, group):
    runtime.put_record(FeatureGroupName=GROUP, Record=record(1, "2024-05-01T10:00:00Z"))
    code, message = error_of(
        lambda: runtime.update_record(
            FeatureGroupName=GROUP,
            RecordIdentifierValueAsString="1",
            Features=[{"FeatureName": "age", "ValueAsString": "3"}],
        )
    )
    assert code == "ValidationError" and "Standard_V2 or InMemory" in message
