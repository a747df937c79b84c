"""The Feature Store and Athena together, as the tutorial uses them: the 4,177 abalones are ingested
with the SDK, read back online, overwritten with an older write and partly deleted, and Athena over
the offline store then sees every row written and, with a latest-record query, exactly the live ones.
"""

from __future__ import annotations

from pathlib import Path

import boto3
import pandas as pd
import pytest
from support.iam import reset_with_test_roles

import local_aws
from local_aws import ACCOUNT_ID

REPO = Path(__file__).resolve().parents[3]
BUCKET = "abalone-e2e"
GROUP = "abalone-e2e-features"
REGION = "us-east-1"
EVENT_TIME = "2024-05-01T12:00:00Z"
DELETED = ["abalone-00002", "abalone-00100", "abalone-04177"]
OVERWRITTEN = "abalone-00001"  # also gets an older write, which only the offline store keeps


def abalone_frame() -> pd.DataFrame:
    """data/abalone.csv with a string record identifier and an event time, as the ingestion step makes it."""
    frame = pd.read_csv(REPO / "data" / "abalone.csv")
    frame.insert(0, "abalone_id", [f"abalone-{i:05d}" for i in range(1, len(frame) + 1)])
    frame.insert(1, "event_time", EVENT_TIME)
    return frame


def test_offline_store_through_athena_sees_every_write_and_the_live_records(server) -> None:
    from sagemaker.core.helper.session_helper import Session
    from sagemaker.mlops.feature_store import (
        FeatureGroup,
        FractionalFeatureDefinition,
        IntegralFeatureDefinition,
        OfflineStoreConfig,
        OnlineStoreConfig,
        S3StorageConfig,
        StringFeatureDefinition,
        create_athena_query,
        ingest_dataframe,
    )

    reset_with_test_roles(server.port)
    boto_session = boto3.Session(region_name=REGION)
    boto_session.client("s3").create_bucket(Bucket=BUCKET)
    frame = abalone_frame()
    assert len(frame) == 4177
    group = FeatureGroup.create(
        feature_group_name=GROUP,
        record_identifier_feature_name="abalone_id",
        event_time_feature_name="event_time",
        feature_definitions=[
            StringFeatureDefinition("abalone_id"),
            StringFeatureDefinition("event_time"),
            StringFeatureDefinition("sex"),
            *[FractionalFeatureDefinition(name) for name in frame.columns[3:-1]],
            IntegralFeatureDefinition("rings"),
        ],
        online_store_config=OnlineStoreConfig(enable_online_store=True),
        offline_store_config=OfflineStoreConfig(s3_storage_config=S3StorageConfig(s3_uri=f"s3://{BUCKET}/store")),
        role_arn=f"arn:aws:iam::{ACCOUNT_ID}:role/FeatureStoreRole",
        session=boto_session,
        region=REGION,
    )
    group.wait_for_status("Created", poll=1, timeout=60)

    # BatchWriteRecord (25 records a call) instead of one PutRecord per row: the same records, 3x faster.
    manager = ingest_dataframe(GROUP, frame, max_workers=4, region=REGION, use_batch_write_record=True)
    assert not manager.failed_rows

    runtime = boto_session.client("sagemaker-featurestore-runtime")
    online = {
        f["FeatureName"]: f["ValueAsString"]
        for f in runtime.get_record(FeatureGroupName=GROUP, RecordIdentifierValueAsString=OVERWRITTEN)["Record"]
    }
    assert online == {
        "abalone_id": OVERWRITTEN,
        "event_time": EVENT_TIME,
        "sex": "M",
        "length": "0.455",
        "diameter": "0.365",
        "height": "0.095",
        "whole_weight": "0.514",
        "shucked_weight": "0.2245",
        "viscera_weight": "0.101",
        "shell_weight": "0.15",
        "rings": "15",
    }

    older = {**online, "event_time": "2024-04-01T00:00:00Z", "rings": "3"}
    runtime.put_record(
        FeatureGroupName=GROUP, Record=[{"FeatureName": k, "ValueAsString": v} for k, v in older.items()]
    )
    unchanged = runtime.get_record(FeatureGroupName=GROUP, RecordIdentifierValueAsString=OVERWRITTEN)["Record"]
    assert {f["FeatureName"]: f["ValueAsString"] for f in unchanged} == online  # an older write loses online

    for record_id in DELETED:
        runtime.delete_record(
            FeatureGroupName=GROUP, RecordIdentifierValueAsString=record_id, EventTime="2024-05-02T00:00:00Z"
        )
        assert "Record" not in runtime.get_record(FeatureGroupName=GROUP, RecordIdentifierValueAsString=record_id)

    local_aws.flush(server.port)

    query = create_athena_query(GROUP, Session(boto_session=boto_session))
    table = f'"{query.database}"."{query.table_name}"'
    results = f"s3://{BUCKET}/athena-results/"

    query.run(
        f"SELECT COUNT(*) AS row_count, SUM(CASE WHEN is_deleted THEN 1 ELSE 0 END) AS deletes FROM {table}",
        output_location=results,
    )
    query.wait()
    counts = query.as_dataframe()
    assert counts.to_dict("records") == [{"row_count": 4177 + 1 + len(DELETED), "deletes": len(DELETED)}]

    query.run(
        f"""
        SELECT * FROM (
            SELECT *, row_number() OVER (PARTITION BY abalone_id
                                         ORDER BY event_time DESC, write_time DESC) AS row_num
            FROM {table})
        WHERE row_num = 1 AND is_deleted = false""",
        output_location=results,
    )
    query.wait()
    latest = query.as_dataframe()
    assert len(latest) == 4177 - len(DELETED)
    assert set(latest.abalone_id) == set(frame.abalone_id) - set(DELETED)
    assert latest.set_index("abalone_id").loc[OVERWRITTEN, "rings"] == 15
    expected = frame[~frame.abalone_id.isin(DELETED)].set_index("abalone_id").sort_index()
    got = latest.set_index("abalone_id").sort_index()[expected.columns]
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)


@pytest.fixture(autouse=True)
def _no_leftovers(server):
    """The group is large: leave a clean server for the next module."""
    yield
    reset_with_test_roles(server.port)
