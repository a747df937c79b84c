"""The Feature Store survives a restart: feature groups with their features, metadata and tags, the
online store's records, and the offline store Athena queries; a reset wipes them for good."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest
from support import wait_until
from support.featurestore import BUCKET, create_group
from support.restart import OwnServer

import local_aws
from local_aws.core.runtime import persistence
from local_aws.featurestore.online_journal import Journal

GROUP = "customers"


def record(customer: int, event_time: str = "2024-05-01T10:00:00Z", **extra: str) -> list[dict]:
    values = {
        "customer_id": str(customer),
        "event_time": event_time,
        "age": str(20 + customer),
        "balance": f"{customer}.5",
        "segment": "retail",
        **extra,
    }
    return [{"FeatureName": name, "ValueAsString": value} for name, value in values.items()]


def offline_count(session, described: dict) -> int:
    """The number of rows Athena counts in the group's offline store table."""
    catalog = described["OfflineStoreConfig"]["DataCatalogConfig"]
    athena = session.client("athena")
    query_id = athena.start_query_execution(
        QueryString=f'SELECT count(*) FROM "{catalog["Database"]}"."{catalog["TableName"]}"',
        ResultConfiguration={"OutputLocation": f"s3://{BUCKET}/athena/"},
    )["QueryExecutionId"]
    state = wait_until(
        lambda: athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]["Status"],
        lambda status: status["State"] not in ("QUEUED", "RUNNING"),
        what="the count query",
    )
    assert state["State"] == "SUCCEEDED", state
    rows = athena.get_query_results(QueryExecutionId=query_id)["ResultSet"]["Rows"]
    return int(rows[1]["Data"][0]["VarCharValue"])


def values(got: dict) -> dict[str, str]:
    return {f["FeatureName"]: f["ValueAsString"] for f in got.get("Record", [])}


def test_groups_records_and_offline_store_survive_a_clean_stop(own_server: OwnServer):
    session = own_server.session()
    sm, runtime = session.client("sagemaker"), session.client("sagemaker-featurestore-runtime")
    arn = create_group(session, GROUP, Tags=[{"Key": "team", "Value": "ml"}])["FeatureGroupArn"]
    for customer in (1, 2, 3, 5):
        runtime.put_record(FeatureGroupName=GROUP, Record=record(customer))
    runtime.delete_record(FeatureGroupName=GROUP, RecordIdentifierValueAsString="3", EventTime="2024-05-02T00:00:00Z")
    runtime.delete_record(
        FeatureGroupName=GROUP,
        RecordIdentifierValueAsString="5",
        EventTime="2024-05-02T00:00:00Z",
        DeletionMode="HardDelete",
    )
    sm.update_feature_group(FeatureGroupName=GROUP, FeatureAdditions=[{"FeatureName": "city", "FeatureType": "String"}])
    sm.update_feature_metadata(
        FeatureGroupName=GROUP,
        FeatureName="age",
        Description="years",
        ParameterAdditions=[{"Key": "unit", "Value": "y"}],
    )
    sm.add_tags(ResourceArn=arn, Tags=[{"Key": "stage", "Value": "dev"}])
    before = sm.describe_feature_group(FeatureGroupName=GROUP)

    own_server.stop()
    session = own_server.start().session()
    sm, runtime = session.client("sagemaker"), session.client("sagemaker-featurestore-runtime")

    after = wait_until(
        lambda: sm.describe_feature_group(FeatureGroupName=GROUP),
        lambda d: d.get("LastUpdateStatus", {}).get("Status") == "Successful",
        what="the update",
    )
    for key in (
        "FeatureGroupArn",
        "CreationTime",
        "FeatureDefinitions",
        "OfflineStoreConfig",
        "OnlineStoreConfig",
        "RoleArn",
        "FeatureGroupStatus",
        "LastModifiedTime",
    ):
        assert after[key] == before[key], key
    assert after["FeatureDefinitions"][-1] == {"FeatureName": "city", "FeatureType": "String"}
    assert [s["FeatureGroupName"] for s in sm.list_feature_groups()["FeatureGroupSummaries"]] == [GROUP]
    metadata = sm.describe_feature_metadata(FeatureGroupName=GROUP, FeatureName="age")
    assert (metadata["Description"], metadata["Parameters"]) == ("years", [{"Key": "unit", "Value": "y"}])
    assert sm.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "ml"}, {"Key": "stage", "Value": "dev"}]

    assert values(runtime.get_record(FeatureGroupName=GROUP, RecordIdentifierValueAsString="2"))["age"] == "22"
    assert "Record" not in runtime.get_record(FeatureGroupName=GROUP, RecordIdentifierValueAsString="3")
    assert runtime.list_records(FeatureGroupName=GROUP, IncludeSoftDeletedRecords=True)["RecordIdentifiers"] == [
        "1",
        "2",
        "3",
    ]

    # writes go on: the online store and the offline store (four records, two delete markers, one more)
    runtime.put_record(FeatureGroupName=GROUP, Record=record(4, city="Oslo"))
    assert values(runtime.get_record(FeatureGroupName=GROUP, RecordIdentifierValueAsString="4"))["city"] == "Oslo"
    wait_until(
        lambda: offline_count(session, after),
        lambda count: count == 7,
        timeout=15,
        what="the offline store holding every row",
    )


def test_records_acknowledged_a_second_before_a_kill_survive_it(own_server: OwnServer):
    session = own_server.session()
    described = create_group(session, GROUP)
    runtime = session.client("sagemaker-featurestore-runtime")
    for customer in range(1, 21):
        runtime.put_record(FeatureGroupName=GROUP, Record=record(customer))
        if customer == 10:
            time.sleep(1.5)  # the records come back from several saves
    runtime.put_record(FeatureGroupName=GROUP, Record=record(17, event_time="2024-05-02T10:00:00Z", age="99"))
    time.sleep(2.5)  # more than a save interval (LOCAL_AWS_SAVE_SECONDS, 1 s)

    own_server.stop(signal.SIGKILL)
    session = own_server.start().session()
    runtime = session.client("sagemaker-featurestore-runtime")

    assert session.client("sagemaker").describe_feature_group(FeatureGroupName=GROUP)["FeatureGroupStatus"] == "Created"
    assert len(runtime.list_records(FeatureGroupName=GROUP)["RecordIdentifiers"]) == 20
    assert values(runtime.get_record(FeatureGroupName=GROUP, RecordIdentifierValueAsString="17"))["age"] == "99"
    assert values(runtime.get_record(FeatureGroupName=GROUP, RecordIdentifierValueAsString="16"))["age"] == "36"
    assert offline_count(session, described) == 21


def test_a_group_created_just_before_a_stop_finishes_creating_after_it(own_server: OwnServer):
    session = own_server.session()
    create_group(session, GROUP, wait=False)  # Creating for LOCAL_AWS_FEATURE_GROUP_TRANSITION_SECONDS
    own_server.stop()
    sm = own_server.start().session().client("sagemaker")
    wait_until(
        lambda: sm.describe_feature_group(FeatureGroupName=GROUP)["FeatureGroupStatus"],
        lambda status: status == "Created",
        timeout=10,
        what="the group finishing its creation",
    )


def test_reset_wipes_the_saved_state_for_good(own_server: OwnServer, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("LOCAL_AWS_HOME", str(own_server.home))  # the admin calls read the server's home
    session = own_server.session()
    create_group(session, GROUP)
    session.client("sagemaker-featurestore-runtime").put_record(FeatureGroupName=GROUP, Record=record(1))
    local_aws.reset(own_server.port)
    own_server.stop()
    session = own_server.start().session()
    assert session.client("sagemaker").list_feature_groups()["FeatureGroupSummaries"] == []
    assert session.client("s3").list_buckets()["Buckets"] == []


def test_the_online_journal_replays_its_segments_and_rewrites_them_as_one(tmp_path: Path):
    persistence.Persistence(tmp_path, 1.0, [])  # the state directory the journal writes into
    journal = Journal("probe")
    journal.append({"group": {"a": 1, "b": 2}})
    journal.append({})  # nothing changed: no segment
    journal.append({"group": {"a": None}})
    assert journal.segments == ["0000000000.pickle", "0000000001.pickle"] and journal.records == 3
    assert not journal.due_for_rewrite(live_records=1)  # 3 records: far below twice the live ones plus the slack

    journal.rewrite({"group": {"b": 2}})
    assert journal.segments == ["0000000002.pickle"] and journal.records == 1
    journal.drop_unnamed()  # once the snapshot naming the rewrite is saved
    assert sorted(p.name for p in persistence.files("probe").iterdir()) == ["0000000002.pickle"]

    reloaded = Journal("probe")
    assert list(reloaded.replay(journal.segments)) == [{"group": {"b": 2}}]
    reloaded.append({"group": {"c": 3}})  # numbering goes on after the segments on disk
    assert reloaded.segments == ["0000000002.pickle", "0000000003.pickle"] and reloaded.records == 2
