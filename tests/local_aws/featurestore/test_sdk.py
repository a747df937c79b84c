"""Feature Store through the SageMaker Python SDK v3 (sagemaker.core / sagemaker.mlops), as the notebooks use it."""

from __future__ import annotations

import re
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from support.featurestore import BUCKET, ROLE, offline_objects, offline_table

import local_aws

NAME = "abalone-features"


def abalone(rows: int) -> pd.DataFrame:
    generator = np.random.default_rng(7)
    return pd.DataFrame(
        {
            "abalone_id": [f"abalone-{i:05d}" for i in range(rows)],
            "rings": generator.integers(1, 30, rows),
            "length": generator.random(rows).round(3),
            "sex": generator.choice(["M", "F", "I"], rows),
            "event_time": [f"2024-05-0{1 + i % 2}T0{i % 3}:00:00Z" for i in range(rows)],
        }
    )


@pytest.fixture(scope="module")
def sdk(server) -> SimpleNamespace:
    """The SDK, imported once the server's environment is set (importing it creates AWS clients)."""
    from sagemaker.core.resources import FeatureGroup
    from sagemaker.core.shapes import OfflineStoreConfig, OnlineStoreConfig, S3StorageConfig
    from sagemaker.mlops.feature_store import IngestionError, ingest_dataframe, load_feature_definitions_from_dataframe

    return SimpleNamespace(
        FeatureGroup=FeatureGroup,
        OfflineStoreConfig=OfflineStoreConfig,
        OnlineStoreConfig=OnlineStoreConfig,
        S3StorageConfig=S3StorageConfig,
        IngestionError=IngestionError,
        ingest_dataframe=ingest_dataframe,
        load_feature_definitions_from_dataframe=load_feature_definitions_from_dataframe,
    )


@pytest.fixture()
def feature_group(aws, sdk):
    aws.client("s3").create_bucket(Bucket=BUCKET)
    group = sdk.FeatureGroup.create(
        feature_group_name=NAME,
        record_identifier_feature_name="abalone_id",
        event_time_feature_name="event_time",
        feature_definitions=sdk.load_feature_definitions_from_dataframe(abalone(1)),
        online_store_config=sdk.OnlineStoreConfig(enable_online_store=True),
        offline_store_config=sdk.OfflineStoreConfig(s3_storage_config=sdk.S3StorageConfig(s3_uri=f"s3://{BUCKET}/fs")),
        role_arn=ROLE,
        description="abalone measurements",
    )
    assert group.feature_group_status == "Creating"
    group.wait_for_status("Created", poll=1, timeout=30)
    return group


def test_create_get_and_describe_through_the_sdk(sdk, feature_group):
    got = sdk.FeatureGroup.get(feature_group_name=NAME)
    assert got.feature_group_status == "Created"
    assert got.offline_store_status.status == "Active"
    assert [(d.feature_name, d.feature_type) for d in got.feature_definitions] == [
        ("abalone_id", "String"),
        ("rings", "Integral"),
        ("length", "Fractional"),
        ("sex", "String"),
        ("event_time", "String"),
    ]
    resolved = got.offline_store_config.s3_storage_config.resolved_output_s3_uri
    assert re.fullmatch(rf"s3://{BUCKET}/fs/123456789012/sagemaker/us-east-1/offline-store/{NAME}-\d+/data", resolved)
    assert got.offline_store_config.data_catalog_config.database == "sagemaker_featurestore"
    assert got.description == "abalone measurements"


def test_ingest_dataframe_writes_online_and_offline(aws, server, sdk, feature_group):
    frame = abalone(60)
    frame.loc[3, "length"] = np.nan  # a missing value is left out of the record, so null offline
    manager = sdk.ingest_dataframe(NAME, frame, max_workers=4)
    assert manager.failed_rows == []
    record = feature_group.get_record(record_identifier_value_as_string="abalone-00010").record
    assert {v.feature_name: v.value_as_string for v in record} == {
        "abalone_id": "abalone-00010",
        "rings": str(frame.rings[10]),
        "length": str(frame.length[10]),
        "sex": frame.sex[10],
        "event_time": frame.event_time[10],
    }
    partial = feature_group.get_record(record_identifier_value_as_string="abalone-00003").record
    assert "length" not in {v.feature_name for v in partial}

    assert local_aws.flush(server.port)["offline_store"]["pending"] == 0
    described = aws.client("sagemaker").describe_feature_group(FeatureGroupName=NAME)
    partitions = {
        re.search(r"/(year=\d+/month=\d+/day=\d+/hour=\d+)/", key).group(1) for key in offline_objects(aws, described)
    }
    assert partitions == {f"year=2024/month=05/day=0{d}/hour=0{h}" for d in (1, 2) for h in (0, 1, 2)}
    table = offline_table(aws, described).to_pandas().sort_values("abalone_id").reset_index(drop=True)
    assert list(table.columns) == [*frame.columns, "write_time", "api_invocation_time", "is_deleted"]
    pd.testing.assert_frame_equal(table[list(frame.columns)], frame, check_dtype=False)
    assert not table.is_deleted.any()


def test_ingest_reports_rows_aws_would_refuse(aws, sdk, feature_group):
    frame = abalone(4)
    frame["event_time"] = frame["event_time"].astype(object)
    frame.loc[2, "event_time"] = "2024-05-01 00:00:00"  # not ISO-8601 with T and Z
    with pytest.raises(sdk.IngestionError) as err:
        sdk.ingest_dataframe(NAME, frame, max_workers=2)
    assert err.value.failed_rows == [2]
    runtime = aws.client("sagemaker-featurestore-runtime")
    found = [
        i
        for i in range(4)
        if "Record" in runtime.get_record(FeatureGroupName=NAME, RecordIdentifierValueAsString=f"abalone-{i:05d}")
    ]
    assert found == [0, 1, 3]
