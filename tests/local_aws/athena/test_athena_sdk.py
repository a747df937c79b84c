"""Athena through the SageMaker SDK v3: AthenaQuery (create_athena_query) and DatasetBuilder over a
feature group's offline store, written by local_aws's Feature Store."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import boto3
import pandas as pd
import pytest
from support.featurestore import create_customer_group_with_the_sdk
from support.iam import reset_with_test_roles

import local_aws

# The SDK makes boto3 clients when imported, so it is imported once the server's environment is set.
if TYPE_CHECKING:
    from sagemaker.core.helper.session_helper import Session

BUCKET = "athena-sdk-test"
GROUP = "athena-sdk-customers"
RESULTS = f"s3://{BUCKET}/athena-results"
REGION = "us-east-1"


@pytest.fixture(scope="module")
def session(server) -> Session:
    """A feature group of 10 customers: c1 also has an older version, c2 is deleted."""
    from sagemaker.core.helper.session_helper import Session
    from sagemaker.mlops.feature_store import ingest_dataframe

    reset_with_test_roles(server.port)
    boto_session = boto3.Session(region_name=REGION)
    create_customer_group_with_the_sdk(boto_session, GROUP, BUCKET, region=REGION)
    frame = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(1, 11)],
            "event_time": ["2024-05-02T00:00:00Z"] * 10,
            "age": list(range(21, 31)),
            "balance": [i * 1.5 for i in range(1, 11)],
        }
    )
    ingest_dataframe(GROUP, frame, max_workers=2, region=REGION)
    runtime = boto_session.client("sagemaker-featurestore-runtime")
    runtime.put_record(
        FeatureGroupName=GROUP,
        Record=[
            {"FeatureName": "customer_id", "ValueAsString": "c1"},
            {"FeatureName": "event_time", "ValueAsString": "2024-05-01T00:00:00Z"},
            {"FeatureName": "age", "ValueAsString": "99"},
            {"FeatureName": "balance", "ValueAsString": "0.5"},
        ],
    )
    runtime.delete_record(FeatureGroupName=GROUP, RecordIdentifierValueAsString="c2", EventTime="2024-05-03T00:00:00Z")
    local_aws.flush(server.port)
    return Session(boto_session=boto_session)


def _athena_query(session: Session):
    from sagemaker.mlops.feature_store import create_athena_query

    return create_athena_query(GROUP, session)


def test_athena_query_run_wait_as_dataframe_reads_every_offline_row(session: Session) -> None:
    query = _athena_query(session)
    assert query.database == "sagemaker_featurestore" and query.table_name.startswith("athena_sdk_customers_")
    started = time.monotonic()
    query.run(f'SELECT * FROM "{query.database}"."{query.table_name}"', output_location=RESULTS)
    query.wait()
    assert time.monotonic() - started < 5  # the SDK polls every 5 s: a fast query is done at its first look
    assert query.get_query_execution()["QueryExecution"]["Status"]["State"] == "SUCCEEDED"
    frame = query.as_dataframe()
    assert len(frame) == 12  # 10 ingested + an older version of c1 + the delete of c2
    assert list(frame.columns) == [
        "customer_id",
        "event_time",
        "age",
        "balance",
        "write_time",
        "api_invocation_time",
        "is_deleted",
    ]
    assert frame["is_deleted"].sum() == 1
    assert sorted(frame.loc[frame.customer_id == "c1", "age"]) == [21, 99]


def test_latest_record_query_through_athena_query(session: Session) -> None:
    query = _athena_query(session)
    query.run(
        f"""
        SELECT customer_id, age, balance FROM (
            SELECT *, row_number() OVER (PARTITION BY customer_id
                                         ORDER BY event_time DESC, api_invocation_time DESC, write_time DESC) AS rn
            FROM "{query.database}"."{query.table_name}")
        WHERE rn = 1 AND NOT is_deleted ORDER BY customer_id""",
        output_location=RESULTS,
    )
    query.wait()
    frame = query.as_dataframe()
    assert sorted(frame.customer_id) == sorted(f"c{i}" for i in range(1, 11) if i != 2)
    assert frame.set_index("customer_id").loc["c1", "age"] == 21  # the newer event time wins


def test_failed_query_is_reported_by_the_sdk(session: Session) -> None:
    query = _athena_query(session)
    query.run(f'SELECT shoe_size FROM "{query.database}"."{query.table_name}"', output_location=RESULTS)
    query.wait()
    status = query.get_query_execution()["QueryExecution"]["Status"]
    assert status["State"] == "FAILED" and status["StateChangeReason"].startswith("COLUMN_NOT_FOUND: line 1:8:")
    with pytest.raises(RuntimeError, match="failed"):
        query.as_dataframe()


def test_dataset_builder_returns_latest_live_records(session: Session) -> None:
    from sagemaker.mlops.feature_store import FeatureGroup
    from sagemaker.mlops.feature_store.dataset_builder import DatasetBuilder

    group = FeatureGroup.get(feature_group_name=GROUP, region=REGION)
    every_version, sql = DatasetBuilder.create(
        base=group, output_path=f"{RESULTS}/dataset", session=session
    ).to_dataframe()
    assert "row_number()" in sql and "deleted_base" in sql
    assert sorted(every_version.customer_id) == sorted(["c1"] + [f"c{i}" for i in range(1, 11) if i != 2])
    latest, _ = (
        DatasetBuilder.create(base=group, output_path=f"{RESULTS}/dataset", session=session)
        .with_number_of_recent_records_by_record_identifier(1)
        .to_dataframe()
    )
    assert sorted(latest.customer_id) == sorted(f"c{i}" for i in range(1, 11) if i != 2)
    assert latest.set_index("customer_id").loc["c1", "age"] == 21
