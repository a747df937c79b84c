"""An Iceberg feature group through the SageMaker SDK v3, as the tutorial uses the Feature Store: created
with `table_format="Iceberg"`, filled twice with `ingest_dataframe`, queried with `create_athena_query`
and `DatasetBuilder`."""

from __future__ import annotations

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

BUCKET = "iceberg-sdk-test"
GROUP = "iceberg-sdk-customers"
RESULTS = f"s3://{BUCKET}/athena-results"
REGION = "us-east-1"
LATEST = (
    "SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY customer_id ORDER BY event_time DESC, "
    "write_time DESC, api_invocation_time DESC) AS row_num FROM {table}) WHERE row_num = 1 AND NOT is_deleted"
)


def customers(first: int, last: int, event_time: str, age_offset: int) -> pd.DataFrame:
    ids = range(first, last + 1)
    return pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in ids],
            "event_time": [event_time] * len(ids),
            "age": [age_offset + i for i in ids],
            "balance": [i * 1.5 for i in ids],
        }
    )


@pytest.fixture(scope="module")
def session(server) -> Session:
    """Customers c1..c10 ingested, then c6..c12 again a day later (c6..c10 updated), then c3 deleted."""
    from sagemaker.core.helper.session_helper import Session
    from sagemaker.mlops.feature_store import ingest_dataframe

    reset_with_test_roles(server.port)
    boto_session = boto3.Session(region_name=REGION)
    create_customer_group_with_the_sdk(boto_session, GROUP, BUCKET, table_format="Iceberg", region=REGION)
    assert not ingest_dataframe(
        GROUP, customers(1, 10, "2024-05-01T00:00:00Z", 20), max_workers=2, region=REGION
    ).failed_rows
    local_aws.flush(server.port)
    assert not ingest_dataframe(
        GROUP, customers(6, 12, "2024-05-02T00:00:00Z", 40), max_workers=2, region=REGION
    ).failed_rows
    boto_session.client("sagemaker-featurestore-runtime").delete_record(
        FeatureGroupName=GROUP, RecordIdentifierValueAsString="c3", EventTime="2024-05-03T00:00:00Z"
    )
    local_aws.flush(server.port)
    return Session(boto_session=boto_session)


def test_describe_shows_the_iceberg_table_format(session: Session) -> None:
    from sagemaker.core.resources import FeatureGroup

    group = FeatureGroup.get(feature_group_name=GROUP, region=REGION)
    assert group.offline_store_config.table_format == "Iceberg"
    assert group.offline_store_config.s3_storage_config.resolved_output_s3_uri.endswith("/data")


def test_athena_query_reads_every_snapshot_and_the_latest_records(session: Session) -> None:
    from sagemaker.mlops.feature_store import create_athena_query

    query = create_athena_query(GROUP, session)
    table = f'"{query.database}"."{query.table_name}"'
    query.run(f"SELECT count(*) AS row_count, count_if(is_deleted) AS deletes FROM {table}", output_location=RESULTS)
    query.wait()
    assert query.as_dataframe().to_dict("records") == [{"row_count": 10 + 7 + 1, "deletes": 1}]

    query.run(LATEST.format(table=table), output_location=RESULTS)
    query.wait()
    latest = query.as_dataframe().set_index("customer_id").sort_index()
    assert sorted(latest.index) == sorted(f"c{i}" for i in range(1, 13) if i != 3)
    assert latest.loc["c5", "age"] == 25 and latest.loc["c6", "age"] == 46 and latest.loc["c12", "age"] == 52


def test_dataset_builder_returns_the_latest_live_records(session: Session) -> None:
    from sagemaker.mlops.feature_store import FeatureGroup
    from sagemaker.mlops.feature_store.dataset_builder import DatasetBuilder

    group = FeatureGroup.get(feature_group_name=GROUP, region=REGION)
    latest, _ = (
        DatasetBuilder.create(base=group, output_path=f"{RESULTS}/dataset", session=session)
        .with_number_of_recent_records_by_record_identifier(1)
        .to_dataframe()
    )
    assert sorted(latest.customer_id) == sorted(f"c{i}" for i in range(1, 13) if i != 3)
    assert latest.set_index("customer_id").loc["c10", "age"] == 50
