"""Builders the Feature Store tests share: feature groups made and awaited, the offline store read back
(Parquet files, an Iceberg table's objects and metadata, Athena queries over its table)."""

from __future__ import annotations

import io
import json
from typing import Any, Protocol

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
from botocore.exceptions import ClientError

from support import ACCOUNT, wait_until

ROLE = f"arn:aws:iam::{ACCOUNT}:role/FeatureStoreRole"
BUCKET = "feature-store-offline"
PROBE = "customers-probe"  # the group of tests that only provoke errors (conftest's `probe`)
TYPES = {
    "customer_id": "Integral",
    "event_time": "String",
    "age": "Integral",
    "balance": "Fractional",
    "segment": "String",
}


class HasClients(Protocol):
    def client(self, name: str) -> Any: ...


class Clients:
    """boto3 clients made once and reused: a new session parses the service models again (slow)."""

    def __init__(self, endpoint_url: str | None = None, **credentials: str) -> None:
        self.session = boto3.Session(region_name="us-east-1", **credentials)
        self.endpoint_url = endpoint_url  # None: the environment's (AWS_ENDPOINT_URL)
        self.made: dict[str, Any] = {}

    def client(self, name: str) -> Any:
        if name not in self.made:
            self.made[name] = self.session.client(name, endpoint_url=self.endpoint_url)
        return self.made[name]


def definitions(types: dict[str, str]) -> list[dict]:
    return [{"FeatureName": name, "FeatureType": kind} for name, kind in types.items()]


def create_group(
    aws: HasClients,
    name: str = "customers",
    *,
    types: dict[str, str] | None = None,
    online: bool = True,
    offline: bool = True,
    record_id: str = "customer_id",
    event_time: str = "event_time",
    wait: bool = True,
    **extra: Any,
) -> dict:
    """Create a feature group (bucket included) and, unless wait=False, wait until it is Created."""
    request = {
        "FeatureGroupName": name,
        "RecordIdentifierFeatureName": record_id,
        "EventTimeFeatureName": event_time,
        "FeatureDefinitions": definitions(types or TYPES),
        **extra,
    }
    if online:
        request.setdefault("OnlineStoreConfig", {"EnableOnlineStore": True})
    if offline:
        try:
            aws.client("s3").create_bucket(Bucket=BUCKET)
        except ClientError as err:  # a group made earlier in this test may have made it
            assert err.response["Error"]["Code"] in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists")
        request.setdefault("OfflineStoreConfig", {"S3StorageConfig": {"S3Uri": f"s3://{BUCKET}/feature-store"}})
        request.setdefault("RoleArn", ROLE)
    sm = aws.client("sagemaker")
    sm.create_feature_group(**request)
    return wait_for_status(sm, name, "Created") if wait else sm.describe_feature_group(FeatureGroupName=name)


def wait_for_status(sm: Any, name: str, status: str, timeout: float = 10.0) -> dict:
    """DescribeFeatureGroup's answer once the group's FeatureGroupStatus is `status`."""
    return wait_until(
        lambda: sm.describe_feature_group(FeatureGroupName=name),
        lambda described: described["FeatureGroupStatus"] == status,
        timeout=timeout,
        what=f"FeatureGroup {name} becoming {status}",
    )


def wait_until_gone(sm: Any, name: str, timeout: float = 10.0) -> ClientError:
    """The error DescribeFeatureGroup answers once the group is gone."""

    def describe() -> ClientError | None:
        try:
            sm.describe_feature_group(FeatureGroupName=name)
        except ClientError as err:
            return err
        return None

    return wait_until(describe, lambda err: err is not None, timeout=timeout, what=f"FeatureGroup {name} disappearing")


def offline_objects(aws: HasClients, described: dict) -> list[str]:
    """The S3 keys of the group's offline store files."""
    uri = described["OfflineStoreConfig"]["S3StorageConfig"]["ResolvedOutputS3Uri"]
    bucket, _, prefix = uri[len("s3://") :].partition("/")
    pages = aws.client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix + "/")
    return [obj["Key"] for page in pages for obj in page.get("Contents", [])]


def offline_table(aws: HasClients, described: dict) -> pa.Table:
    """Every Parquet file of the group's offline store, read back with pyarrow into one table."""
    bucket = described["OfflineStoreConfig"]["S3StorageConfig"]["ResolvedOutputS3Uri"][len("s3://") :].split("/")[0]
    s3 = aws.client("s3")
    tables = [
        pq.read_table(io.BytesIO(s3.get_object(Bucket=bucket, Key=key)["Body"].read()))
        for key in offline_objects(aws, described)
    ]
    return pa.concat_tables(tables, promote_options="default") if tables else pa.table({})


def iceberg_offline_store(prefix: str = "feature-store") -> dict:
    """An OfflineStoreConfig of the Iceberg table format."""
    return {"S3StorageConfig": {"S3Uri": f"s3://{BUCKET}/{prefix}"}, "TableFormat": "Iceberg"}


def table_objects(aws: HasClients, described: dict) -> list[str]:
    """The S3 keys of an Iceberg offline store: its table's location is ResolvedOutputS3Uri without `/data`."""
    uri = described["OfflineStoreConfig"]["S3StorageConfig"]["ResolvedOutputS3Uri"].removesuffix("/data")
    bucket, _, prefix = uri[len("s3://") :].partition("/")
    pages = aws.client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix + "/")
    return [obj["Key"] for page in pages for obj in page.get("Contents", [])]


def s3_json(aws: HasClients, uri: str) -> dict:
    bucket, _, key = uri[len("s3://") :].partition("/")
    return json.loads(aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())


def offline_query(aws: HasClients, described: dict, sql: str) -> list[list[str | None]]:
    """Athena's header and rows for `sql`, whose `{table}` names the group's offline store table."""
    catalog = described["OfflineStoreConfig"]["DataCatalogConfig"]
    athena = aws.client("athena")
    query_id = athena.start_query_execution(
        QueryString=sql.format(table=f'"{catalog["Database"]}"."{catalog["TableName"]}"'),
        ResultConfiguration={"OutputLocation": f"s3://{BUCKET}/athena-results/"},
    )["QueryExecutionId"]
    status = wait_until(
        lambda: athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]["Status"],
        lambda found: found["State"] not in ("QUEUED", "RUNNING"),
        what=f"query {query_id}",
    )
    assert status["State"] == "SUCCEEDED", status
    pages = athena.get_paginator("get_query_results").paginate(QueryExecutionId=query_id)
    return [[d.get("VarCharValue") for d in row["Data"]] for page in pages for row in page["ResultSet"]["Rows"]]


def create_customer_group_with_the_sdk(
    boto_session, name: str, bucket: str, table_format: str | None = None, region: str = "us-east-1"
):
    """A customers feature group (customer_id, event_time, age, balance; online and offline store) made with
    SDK v3's FeatureGroup.create, as the tutorial makes its group, and Created; the bucket is made too."""
    from sagemaker.mlops.feature_store import (
        FeatureGroup,
        FractionalFeatureDefinition,
        IntegralFeatureDefinition,
        OfflineStoreConfig,
        OnlineStoreConfig,
        S3StorageConfig,
        StringFeatureDefinition,
    )

    boto_session.client("s3").create_bucket(Bucket=bucket)
    offline = {"table_format": table_format} if table_format else {}
    group = FeatureGroup.create(
        feature_group_name=name,
        record_identifier_feature_name="customer_id",
        event_time_feature_name="event_time",
        feature_definitions=[
            StringFeatureDefinition("customer_id"),
            StringFeatureDefinition("event_time"),
            IntegralFeatureDefinition("age"),
            FractionalFeatureDefinition("balance"),
        ],
        online_store_config=OnlineStoreConfig(enable_online_store=True),
        offline_store_config=OfflineStoreConfig(
            s3_storage_config=S3StorageConfig(s3_uri=f"s3://{bucket}/store"), **offline
        ),
        role_arn=ROLE,
        session=boto_session,
        region=region,
    )
    group.wait_for_status("Created", poll=1, timeout=60)
    return group
