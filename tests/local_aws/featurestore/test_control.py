"""Feature Store control plane through boto3: lifecycle, validation, listing, updates, Glue tables."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from support import ACCOUNT, error_of, wait_until
from support.featurestore import (
    BUCKET,
    ROLE,
    TYPES,
    create_group,
    definitions,
    offline_table,
    wait_for_status,
    wait_until_gone,
)

import local_aws

# --- create and describe -------------------------------------------------------------------------


def test_create_is_asynchronous_and_describe_answers_in_full(aws):
    sm = aws.client("sagemaker")
    before = dt.datetime.now(dt.UTC)
    creating = create_group(aws, wait=False, Description="customer features", Tags=[{"Key": "team", "Value": "ml"}])
    assert creating["FeatureGroupStatus"] == "Creating"
    described = wait_for_status(sm, "customers", "Created")
    created = described["CreationTime"]
    assert before - dt.timedelta(seconds=1) <= created <= dt.datetime.now(dt.UTC)
    epoch = int(created.timestamp())
    assert described["FeatureGroupArn"] == f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:feature-group/customers"
    assert described["FeatureGroupName"] == "customers"
    assert described["RecordIdentifierFeatureName"] == "customer_id"
    assert described["EventTimeFeatureName"] == "event_time"
    assert described["FeatureDefinitions"] == definitions(TYPES)
    assert described["LastModifiedTime"] == created
    assert described["OnlineStoreConfig"] == {"EnableOnlineStore": True, "StorageType": "Standard"}
    assert described["OfflineStoreConfig"] == {
        "S3StorageConfig": {
            "S3Uri": f"s3://{BUCKET}/feature-store",
            "ResolvedOutputS3Uri": f"s3://{BUCKET}/feature-store/{ACCOUNT}/sagemaker/us-east-1/offline-store/"
            f"customers-{epoch}/data",
        },
        "DisableGlueTableCreation": False,
        "DataCatalogConfig": {
            "TableName": f"customers_{epoch}",
            "Catalog": "AwsDataCatalog",
            "Database": "sagemaker_featurestore",
        },
        "TableFormat": "Glue",
    }
    assert described["OfflineStoreStatus"] == {"Status": "Active"}
    assert described["RoleArn"] == ROLE
    assert described["Description"] == "customer features"
    assert described["ThroughputConfig"] == {"ThroughputMode": "OnDemand"}
    assert described["NextToken"] == ""
    assert sm.describe_feature_group(FeatureGroupName=described["FeatureGroupArn"])["FeatureGroupName"] == "customers"


def test_glue_table_follows_the_offline_store_contract(aws):
    described = create_group(aws, "customer-profiles")
    epoch = int(described["CreationTime"].timestamp())
    glue = aws.client("glue")
    assert glue.get_database(Name="sagemaker_featurestore")["Database"]["Name"] == "sagemaker_featurestore"
    table = glue.get_table(DatabaseName="sagemaker_featurestore", Name=f"customer_profiles_{epoch}")["Table"]
    storage = table["StorageDescriptor"]
    assert storage["Location"] == described["OfflineStoreConfig"]["S3StorageConfig"]["ResolvedOutputS3Uri"]
    assert storage["SerdeInfo"]["SerializationLibrary"] == "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
    assert storage["InputFormat"] == "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
    assert [(c["Name"], c["Type"]) for c in storage["Columns"]] == [
        ("customer_id", "bigint"),
        ("event_time", "string"),
        ("age", "bigint"),
        ("balance", "double"),
        ("segment", "string"),
        ("write_time", "timestamp"),
        ("api_invocation_time", "timestamp"),
        ("is_deleted", "boolean"),
    ]


def test_glue_table_creation_can_be_disabled_or_named(aws):
    aws.client("s3").create_bucket(Bucket=BUCKET)
    disabled = create_group(
        aws,
        "no-table",
        OfflineStoreConfig={"S3StorageConfig": {"S3Uri": f"s3://{BUCKET}/x"}, "DisableGlueTableCreation": True},
    )
    assert "DataCatalogConfig" not in disabled["OfflineStoreConfig"]
    named = create_group(
        aws,
        "named-table",
        OfflineStoreConfig={
            "S3StorageConfig": {"S3Uri": f"s3://{BUCKET}/y"},
            "DataCatalogConfig": {"Catalog": "AwsDataCatalog", "Database": "my_features", "TableName": "customers"},
        },
    )
    assert named["OfflineStoreConfig"]["DataCatalogConfig"]["Database"] == "my_features"
    glue = aws.client("glue")
    assert [t["Name"] for t in glue.get_tables(DatabaseName="my_features")["TableList"]] == ["customers"]
    assert [d["Name"] for d in glue.get_databases()["DatabaseList"]] == ["my_features"]


def test_online_only_group_has_no_offline_store(aws):
    described = create_group(aws, "online-only", offline=False)
    assert "OfflineStoreConfig" not in described and "OfflineStoreStatus" not in described


def test_missing_bucket_makes_creation_fail(aws):
    sm = aws.client("sagemaker")
    sm.create_feature_group(
        FeatureGroupName="no-bucket",
        RecordIdentifierFeatureName="customer_id",
        EventTimeFeatureName="event_time",
        FeatureDefinitions=definitions(TYPES),
        OfflineStoreConfig={"S3StorageConfig": {"S3Uri": "s3://missing-bucket/fs"}},
        RoleArn=ROLE,
    )
    failed = wait_for_status(sm, "no-bucket", "CreateFailed")
    assert "missing-bucket" in failed["FailureReason"]
    sm.delete_feature_group(FeatureGroupName="no-bucket")
    assert wait_until_gone(sm, "no-bucket").response["Error"]["Code"] == "ResourceNotFound"


def test_duplicate_name_is_resource_in_use_ignoring_case(aws):
    create_group(aws, wait=False)
    code, message = error_of(lambda: create_group(aws, "Customers", wait=False))
    assert code == "ResourceInUse"
    assert message == (
        "Resource Already Exists: FeatureGroup with name Customers already exists. Choose a different name."
    )


@pytest.mark.parametrize("call", ["describe_feature_group", "delete_feature_group", "update_feature_group"])
def test_missing_group_is_resource_not_found(sm, call):
    code, message = error_of(lambda: getattr(sm, call)(FeatureGroupName="nope"))
    assert (code, message) == (
        "ResourceNotFound",
        "Resource Not Found: Amazon SageMaker can't find a FeatureGroup with name nope",
    )


def _bad(name="g", types=None, **overrides):
    request = {
        "FeatureGroupName": name,
        "RecordIdentifierFeatureName": "customer_id",
        "EventTimeFeatureName": "event_time",
        "FeatureDefinitions": definitions(types or TYPES),
        "OnlineStoreConfig": {"EnableOnlineStore": True},
    }
    request.update(overrides)
    return {k: v for k, v in request.items() if v is not None}


@pytest.mark.parametrize(
    "request_, fragment",
    [
        (
            _bad(name="-starts-with-dash"),
            "at 'featureGroupName' failed to satisfy constraint: Member must satisfy regular expression pattern",
        ),
        (_bad(name="has space"), "regular expression pattern: [a-zA-Z0-9]([_-]*[a-zA-Z0-9]){0,63}"),
        (_bad(name="a" * 65), "Member must have length less than or equal to 64"),
        (_bad(types={**TYPES, "bad.name": "String"}), "at 'featureDefinitions.6.member.featureName'"),
        (_bad(types={**TYPES, "f" * 65: "String"}), "Member must have length less than or equal to 64"),
        (_bad(types={**TYPES, "is_deleted": "String"}), "Feature name is_deleted is reserved"),
        (_bad(types={**TYPES, "write_time": "String"}), "Feature name write_time is reserved"),
        (_bad(types={**TYPES, "API_Invocation_Time": "String"}), "Feature name API_Invocation_Time is reserved"),
        (_bad(types={**TYPES, "Age": "Integral"}), "Feature name Age is defined more than once"),
        (_bad(types={**TYPES, "x": "Boolean"}), "Member must satisfy enum value set: [Integral, Fractional, String]"),
        (
            _bad(RecordIdentifierFeatureName="id"),
            "The RecordIdentifierFeatureName id is not one of the FeatureDefinitions",
        ),
        (_bad(EventTimeFeatureName="ts"), "The EventTimeFeatureName ts is not one of the FeatureDefinitions"),
        (_bad(RecordIdentifierFeatureName="balance"), "it must be a scalar of type Integral or String"),
        (_bad(EventTimeFeatureName="age"), "it must be a scalar of type Fractional or String"),
        (_bad(OnlineStoreConfig=None), "You must include at least one of OnlineStoreConfig"),
        (_bad(OnlineStoreConfig={"EnableOnlineStore": False}), "You must include at least one of OnlineStoreConfig"),
        (_bad(OfflineStoreConfig={"S3StorageConfig": {"S3Uri": f"s3://{BUCKET}/x"}}), "RoleArn is required"),
        (
            _bad(
                OfflineStoreConfig={
                    "S3StorageConfig": {"S3Uri": f"s3://{BUCKET}/x"},
                    "TableFormat": "Iceberg",
                    "DisableGlueTableCreation": True,
                },
                RoleArn=ROLE,
            ),
            "DisableGlueTableCreation cannot be true when OfflineStoreConfig.TableFormat is Iceberg",
        ),
        (_bad(OfflineStoreConfig={"S3StorageConfig": {"S3Uri": "not-a-uri"}}, RoleArn=ROLE), "at 'offlineStoreConfig"),
        (_bad(RoleArn="arn:aws:iam::123:role/short-account"), "at 'roleArn'"),
        (_bad(Description="d" * 129), "Member must have length less than or equal to 128"),
        (
            _bad(
                FeatureDefinitions=[
                    *definitions(TYPES),
                    {"FeatureName": "tags", "FeatureType": "String", "CollectionType": "List"},
                ]
            ),
            "StorageType is InMemory",
        ),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_invalid_create_requests_are_validation_exceptions(sm, request_, fragment):
    code, message = error_of(lambda: sm.create_feature_group(**request_))
    assert code == "ValidationException"
    assert fragment in message
    code, _ = error_of(lambda: sm.describe_feature_group(FeatureGroupName=request_["FeatureGroupName"]))
    # nothing was created (a name the model refuses is refused by DescribeFeatureGroup too)
    assert code == ("ValidationException" if "at 'featureGroupName'" in message else "ResourceNotFound")


# --- list ----------------------------------------------------------------------------------------


def test_list_filters_sorts_and_pages(aws):
    sm = aws.client("sagemaker")
    create_group(aws, "orders-b", offline=False)
    create_group(aws, "customers-a")
    create_group(aws, "orders-c", wait=False)
    described = {s["FeatureGroupName"]: s for s in sm.list_feature_groups()["FeatureGroupSummaries"]}

    def names(**kwargs) -> list[str]:
        return [s["FeatureGroupName"] for s in sm.list_feature_groups(**kwargs)["FeatureGroupSummaries"]]

    assert names() == ["orders-c", "customers-a", "orders-b"]  # default: CreationTime, Descending
    assert names(SortBy="Name", SortOrder="Ascending") == ["customers-a", "orders-b", "orders-c"]
    assert names(SortBy="CreationTime", SortOrder="Ascending") == ["orders-b", "customers-a", "orders-c"]
    assert names(NameContains="ORDERS", SortBy="Name", SortOrder="Ascending") == ["orders-b", "orders-c"]
    assert names(FeatureGroupStatusEquals="Creating") == ["orders-c"]
    assert names(OfflineStoreStatusEquals="Active", SortBy="Name") == ["orders-c", "customers-a"]
    middle = described["customers-a"]["CreationTime"]
    assert names(CreationTimeAfter=middle) == ["orders-c"]
    assert names(CreationTimeBefore=middle) == ["orders-b"]
    assert names(SortBy="FeatureGroupStatus", SortOrder="Ascending") == ["customers-a", "orders-b", "orders-c"]
    assert names(SortBy="OfflineStoreStatus", SortOrder="Ascending") == ["orders-b", "customers-a", "orders-c"]
    assert described["orders-b"]["FeatureGroupArn"].endswith(":feature-group/orders-b")
    assert "OfflineStoreStatus" not in described["orders-b"]
    assert described["customers-a"]["OfflineStoreStatus"] == {"Status": "Active"}

    first = sm.list_feature_groups(SortBy="Name", SortOrder="Ascending", MaxResults=2)
    assert [s["FeatureGroupName"] for s in first["FeatureGroupSummaries"]] == ["customers-a", "orders-b"]
    second = sm.list_feature_groups(SortBy="Name", SortOrder="Ascending", MaxResults=2, NextToken=first["NextToken"])
    assert [s["FeatureGroupName"] for s in second["FeatureGroupSummaries"]] == ["orders-c"]
    assert "NextToken" not in second
    paged = [
        s["FeatureGroupName"]
        for page in sm.get_paginator("list_feature_groups").paginate(
            SortBy="Name", SortOrder="Ascending", PaginationConfig={"PageSize": 1}
        )
        for s in page["FeatureGroupSummaries"]
    ]
    assert paged == ["customers-a", "orders-b", "orders-c"]


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"SortBy": "Size"}, "at 'sortBy'"),
        ({"SortOrder": "Up"}, "at 'sortOrder'"),
        ({"MaxResults": 101}, "at 'maxResults'"),
        ({"NextToken": "garbage"}, "Invalid NextToken"),
        ({"FeatureGroupStatusEquals": "Ready"}, "at 'featureGroupStatusEquals'"),
    ],
)
def test_list_rejects_bad_arguments(sm, kwargs, fragment):
    code, message = error_of(lambda: sm.list_feature_groups(**kwargs))
    assert code == "ValidationException" and fragment in message


# --- update --------------------------------------------------------------------------------------


def test_update_adds_features_to_the_group_and_its_glue_table(aws):
    sm = aws.client("sagemaker")
    described = create_group(aws)
    sm.update_feature_group(
        FeatureGroupName="customers",
        FeatureAdditions=[
            {"FeatureName": "city", "FeatureType": "String"},
            {"FeatureName": "score", "FeatureType": "Fractional"},
        ],
    )
    updating = sm.describe_feature_group(FeatureGroupName="customers")
    assert updating["LastUpdateStatus"] == {"Status": "InProgress"}
    assert updating["LastModifiedTime"] > described["LastModifiedTime"]
    assert [f["FeatureName"] for f in updating["FeatureDefinitions"]][-2:] == ["city", "score"]
    code, message = error_of(
        lambda: sm.update_feature_group(
            FeatureGroupName="customers", FeatureAdditions=[{"FeatureName": "more", "FeatureType": "String"}]
        )
    )
    assert code == "ValidationException" and "update in progress" in message
    wait_until(
        lambda: sm.describe_feature_group(FeatureGroupName="customers")["LastUpdateStatus"]["Status"],
        lambda status: status == "Successful",
        timeout=10,
        what="the update completing",
    )
    table_name = described["OfflineStoreConfig"]["DataCatalogConfig"]["TableName"]
    columns = aws.client("glue").get_table(DatabaseName="sagemaker_featurestore", Name=table_name)["Table"][
        "StorageDescriptor"
    ]["Columns"]
    assert [(c["Name"], c["Type"]) for c in columns][-5:] == [
        ("city", "string"),
        ("score", "double"),
        ("write_time", "timestamp"),
        ("api_invocation_time", "timestamp"),
        ("is_deleted", "boolean"),
    ]


@pytest.mark.parametrize(
    "addition, fragment",
    [
        ({"FeatureName": "AGE", "FeatureType": "Integral"}, "Feature name AGE is defined more than once"),
        ({"FeatureName": "is_deleted", "FeatureType": "String"}, "is reserved"),
        ({"FeatureName": "ok", "FeatureType": "Text"}, "at 'featureAdditions.1.member.featureType'"),
    ],
)
def test_update_rejects_bad_additions(aws, addition, fragment):
    create_group(aws, offline=False)
    code, message = error_of(
        lambda: aws.client("sagemaker").update_feature_group(FeatureGroupName="customers", FeatureAdditions=[addition])
    )
    assert code == "ValidationException" and fragment in message


def test_update_online_store_ttl_and_throughput(aws):
    sm = aws.client("sagemaker")
    create_group(aws, offline=False)
    sm.update_feature_group(
        FeatureGroupName="customers",
        OnlineStoreConfig={"TtlDuration": {"Unit": "Days", "Value": 3}},
        ThroughputConfig={
            "ThroughputMode": "Provisioned",
            "ProvisionedReadCapacityUnits": 5,
            "ProvisionedWriteCapacityUnits": 5,
        },
    )
    described = sm.describe_feature_group(FeatureGroupName="customers")
    assert described["OnlineStoreConfig"]["TtlDuration"] == {"Unit": "Days", "Value": 3}
    assert described["ThroughputConfig"] == {
        "ThroughputMode": "Provisioned",
        "ProvisionedReadCapacityUnits": 5,
        "ProvisionedWriteCapacityUnits": 5,
    }
    create_group(aws, "offline-only", online=False)
    code, message = error_of(
        lambda: sm.update_feature_group(
            FeatureGroupName="offline-only", OnlineStoreConfig={"TtlDuration": {"Unit": "Days", "Value": 3}}
        )
    )
    assert code == "ValidationException" and "has no OnlineStore" in message


def test_update_before_created_is_refused(aws):
    create_group(aws, offline=False, wait=False)
    code, message = error_of(
        lambda: aws.client("sagemaker").update_feature_group(
            FeatureGroupName="customers", FeatureAdditions=[{"FeatureName": "x", "FeatureType": "String"}]
        )
    )
    assert code == "ValidationException" and "is Creating" in message


# --- delete --------------------------------------------------------------------------------------


def test_delete_is_asynchronous_and_leaves_offline_data_and_glue_table(aws, server):
    sm = aws.client("sagemaker")
    described = create_group(aws)
    aws.client("sagemaker-featurestore-runtime").put_record(
        FeatureGroupName="customers",
        Record=[
            {"FeatureName": "customer_id", "ValueAsString": "1"},
            {"FeatureName": "event_time", "ValueAsString": "2024-05-01T10:00:00Z"},
        ],
    )
    sm.delete_feature_group(FeatureGroupName="customers")
    assert sm.describe_feature_group(FeatureGroupName="customers")["FeatureGroupStatus"] == "Deleting"
    err = wait_until_gone(sm, "customers")
    assert err.response["Error"]["Code"] == "ResourceNotFound"
    assert sm.list_feature_groups()["FeatureGroupSummaries"] == []
    local_aws.flush(server.port)  # the record written before the delete still reaches the offline store
    assert offline_table(aws, described).num_rows == 1
    table_name = described["OfflineStoreConfig"]["DataCatalogConfig"]["TableName"]
    assert aws.client("glue").get_table(DatabaseName="sagemaker_featurestore", Name=table_name)
    time.sleep(1.0)  # a new creation second, so the recreated group gets its own offline location
    again = create_group(aws)
    assert again["CreationTime"] > described["CreationTime"]
    assert (
        again["OfflineStoreConfig"]["S3StorageConfig"]["ResolvedOutputS3Uri"]
        != described["OfflineStoreConfig"]["S3StorageConfig"]["ResolvedOutputS3Uri"]
    )


def test_delete_while_creating_is_resource_in_use(aws):
    create_group(aws, offline=False, wait=False)
    code, message = error_of(lambda: aws.client("sagemaker").delete_feature_group(FeatureGroupName="customers"))
    assert code == "ResourceInUse" and "still Creating" in message


# --- feature metadata ----------------------------------------------------------------------------


def test_feature_metadata_round_trip(aws):
    sm = aws.client("sagemaker")
    create_group(aws, offline=False)
    sm.update_feature_metadata(
        FeatureGroupName="customers",
        FeatureName="balance",
        Description="account balance",
        ParameterAdditions=[{"Key": "unit", "Value": "EUR"}, {"Key": "pii", "Value": "no"}],
    )
    sm.update_feature_metadata(FeatureGroupName="customers", FeatureName="balance", ParameterRemovals=["pii"])
    meta = sm.describe_feature_metadata(FeatureGroupName="customers", FeatureName="balance")
    assert (meta["FeatureName"], meta["FeatureType"], meta["Description"]) == (
        "balance",
        "Fractional",
        "account balance",
    )
    assert meta["Parameters"] == [{"Key": "unit", "Value": "EUR"}]
    assert meta["LastModifiedTime"] >= meta["CreationTime"]
    code, message = error_of(lambda: sm.describe_feature_metadata(FeatureGroupName="customers", FeatureName="nope"))
    assert code == "ResourceNotFound" and "nope" in message


def test_tags_through_add_list_and_delete_tags(aws):
    sm = aws.client("sagemaker")
    arn = create_group(aws, offline=False, wait=False, Tags=[{"Key": "team", "Value": "ml"}])["FeatureGroupArn"]
    assert sm.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "ml"}]
    sm.add_tags(ResourceArn=arn, Tags=[{"Key": "stage", "Value": "dev"}])
    sm.delete_tags(ResourceArn=arn, TagKeys=["team"])
    assert sm.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "stage", "Value": "dev"}]
    code, message = error_of(lambda: sm.list_tags(ResourceArn=arn.replace("customers", "nope")))
    assert code == "ValidationException" and "nope" in message
