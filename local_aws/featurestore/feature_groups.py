"""SageMaker Feature Store control plane: Create/Describe/List/Update/DeleteFeatureGroup and feature metadata.

moto 5.2.5 sketches CreateFeatureGroup/DescribeFeatureGroup only, so local_aws answers every
FeatureGroup call itself. The server has checked each request against the botocore model (names,
lengths, enums, the role ARN, list sizes); these handlers add what the model cannot say: reserved
and duplicate feature names, the types of the record identifier and event time, at least one
store, a role for the offline store, Glue table creation for an Iceberg offline store, and the
group's state. A group with an offline store gets its S3 destination and, unless disabled, its table: a Glue
table of Parquet files (glue_table.py) or, for TableFormat Iceberg, an Iceberg table registered in
Glue (iceberg_store.py). Every change marks the Feature Store's saved state changed (durable.py),
once made.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from local_aws.core.gateway.context import RequestContext
from local_aws.core.gateway.errors import ResourceInUse, ResourceLimitExceeded, ResourceNotFound, ValidationException
from local_aws.core.gateway.paging import page
from local_aws.core.iam import credentials
from local_aws.core.moto import state as moto_state
from local_aws.core.service import Api, now
from local_aws.featurestore.durable import STATE
from local_aws.featurestore.glue_table import write_glue_table
from local_aws.featurestore.models import GROUPS, Feature, FeatureGroup

RESERVED_FEATURE_NAMES = ("is_deleted", "write_time", "api_invocation_time")
DEFAULT_CATALOG, DEFAULT_DATABASE = "AwsDataCatalog", "sagemaker_featurestore"
MAX_FEATURES = 2500


def _parse_features(definitions: list[dict], storage_type: str | None, taken: set[str]) -> list[Feature]:
    """Feature objects from FeatureDefinitions/FeatureAdditions, checked as AWS checks them.

    `taken` holds the lowercased names already in the group; Feature Store names are case-insensitive
    (they become Glue/Athena columns), so `Price` and `price` cannot both exist.
    """
    stamp = now()
    features = []
    for definition in definitions:
        name, collection = definition["FeatureName"], definition.get("CollectionType")
        if collection is not None and storage_type != "InMemory":
            raise ValidationException(
                f"Feature {name} has CollectionType {collection}, but collection types are only supported "
                "when OnlineStoreConfig.StorageType is InMemory. Remove CollectionType or use an InMemory "
                "online store."
            )
        lowered = name.lower()
        if lowered in RESERVED_FEATURE_NAMES:
            raise ValidationException(
                f"Feature name {name} is reserved: Feature Store adds {', '.join(RESERVED_FEATURE_NAMES)} to "
                "every offline store record. Rename the feature."
            )
        if lowered in taken:
            raise ValidationException(
                f"Feature name {name} is defined more than once in FeatureGroup (feature names are "
                "case-insensitive). Give every feature a distinct name."
            )
        taken.add(lowered)
        features.append(
            Feature(name, definition["FeatureType"], collection, definition.get("CollectionConfig"), stamp, stamp)
        )
    return features


def _key_feature(features: list[Feature], name: str, role: str, allowed: tuple[str, ...]) -> None:
    """Refuse a record identifier or event time feature that is not defined or not of an allowed type."""
    feature = next((f for f in features if f.name == name), None)
    if feature is None:
        raise ValidationException(
            f"The {role} {name} is not one of the FeatureDefinitions. Name a feature that is defined, or add a "
            f"feature named {name} to FeatureDefinitions."
        )
    if feature.feature_type not in allowed or feature.collection_type:
        raise ValidationException(
            f"The {role} {name} has FeatureType {feature.feature_type}"
            f"{' with CollectionType ' + feature.collection_type if feature.collection_type else ''}; "
            f"it must be a scalar of type {' or '.join(allowed)}."
        )


def _online_config(request: dict) -> dict | None:
    """OnlineStoreConfig as Describe shows it (StorageType defaults to Standard); None without one."""
    config = request.get("OnlineStoreConfig")
    if not config or not config.get("EnableOnlineStore"):
        return None
    return {**config, "StorageType": config.get("StorageType", "Standard")}


def _throughput(config: dict | None) -> dict:
    if not config:
        return {"ThroughputMode": "OnDemand"}
    return {
        k: v
        for k, v in config.items()
        if k in ("ThroughputMode", "ProvisionedReadCapacityUnits", "ProvisionedWriteCapacityUnits")
    }


def _offline_config(request: dict, name: str, ctx: RequestContext, created: dt.datetime) -> dict | None:
    """OfflineStoreConfig as Describe shows it: the resolved S3 location and the Glue table's name."""
    config = request.get("OfflineStoreConfig")
    if config is None:
        return None
    storage = config["S3StorageConfig"]
    uri = storage["S3Uri"]
    if not uri.startswith("s3://"):
        raise ValidationException(
            f"S3Uri {uri} is not an s3:// URI. Give the offline store location as s3://bucket/prefix."
        )
    table_format = config.get("TableFormat", "Glue")
    if table_format == "Iceberg" and config.get("DisableGlueTableCreation"):
        raise ValidationException(
            "DisableGlueTableCreation cannot be true when OfflineStoreConfig.TableFormat is "
            "Iceberg: Feature Store creates and manages the Iceberg table. Omit "
            "DisableGlueTableCreation or use TableFormat Glue."
        )
    epoch = int(created.timestamp())
    resolved = f"{uri.rstrip('/')}/{ctx.account_id}/sagemaker/{ctx.region}/offline-store/{name}-{epoch}/data"
    out: dict[str, Any] = {
        "S3StorageConfig": {
            **{k: v for k, v in storage.items() if k in ("S3Uri", "KmsKeyId")},
            "ResolvedOutputS3Uri": resolved,
        },
        "DisableGlueTableCreation": bool(config.get("DisableGlueTableCreation", False)),
        "TableFormat": table_format,
    }
    catalog = config.get("DataCatalogConfig")
    if catalog:
        out["DataCatalogConfig"] = {k: catalog[k] for k in ("TableName", "Catalog", "Database")}
    elif not out["DisableGlueTableCreation"]:
        out["DataCatalogConfig"] = {
            "TableName": f"{name.lower().replace('-', '_')}_{epoch}",
            "Catalog": DEFAULT_CATALOG,
            "Database": DEFAULT_DATABASE,
        }
    return out


def _connect_offline_store(group: FeatureGroup) -> None:
    """The offline store's S3 destination and Glue table; a missing bucket makes creation fail, as on AWS."""
    bucket, key = moto_state.parse_s3_uri(group.offline_config["S3StorageConfig"]["ResolvedOutputS3Uri"])
    if not moto_state.bucket_exists(bucket, group.account_id):
        group.failure_reason = (
            f"Failed to create the OfflineStore: the S3 bucket {bucket} does not exist. Create "
            "the bucket, delete this FeatureGroup and create it again."
        )
        return
    if not group.offline_config["DisableGlueTableCreation"]:
        catalog = group.offline_config["DataCatalogConfig"]
        group.glue_table = (catalog["Database"], catalog["TableName"])
        if group.is_iceberg:
            from local_aws.featurestore import iceberg_store  # pyiceberg takes most of a second to import

            group.failure_reason = iceberg_store.create(group)
            if group.failure_reason:
                group.glue_table = None  # the table is someone else's
                return
        else:
            write_glue_table(group)
    group.offline_destination = group.offline_destination_at(bucket, key.rstrip("/"))


api = Api("sagemaker")


@api.operation("CreateFeatureGroup")
def create_feature_group(request: dict, ctx: RequestContext) -> dict:
    name = request["FeatureGroupName"]
    online = _online_config(request)
    features = _parse_features(request["FeatureDefinitions"], (online or {}).get("StorageType"), set())
    record_id, event_time = request["RecordIdentifierFeatureName"], request["EventTimeFeatureName"]
    _key_feature(features, record_id, "RecordIdentifierFeatureName", ("Integral", "String"))
    _key_feature(features, event_time, "EventTimeFeatureName", ("Fractional", "String"))
    if online is None and request.get("OfflineStoreConfig") is None:
        raise ValidationException(
            "You must include at least one of OnlineStoreConfig (with EnableOnlineStore set "
            "to true) and OfflineStoreConfig to create a FeatureGroup."
        )
    role_arn = request.get("RoleArn")
    if request.get("OfflineStoreConfig") is not None and not role_arn:
        raise ValidationException(
            "RoleArn is required when OfflineStoreConfig is specified: Feature Store uses "
            "this role to write the offline store to S3. Pass an IAM role ARN."
        )
    created = now()
    group = FeatureGroup(
        name=name,
        arn=f"arn:aws:sagemaker:{ctx.region}:{ctx.account_id}:feature-group/{name.lower()}",
        account_id=ctx.account_id,
        region=ctx.region,
        record_identifier_name=record_id,
        event_time_name=event_time,
        features=features,
        created=created,
        online_config=online,
        offline_config=_offline_config(request, name, ctx, created),
        role_arn=role_arn,
        description=request.get("Description"),
        throughput=_throughput(request.get("ThroughputConfig")),
        tags=list(request.get("Tags") or []),
    )
    if role_arn:
        credentials.require_trust(role_arn)  # Feature Store assumes it to write the offline store
    group.start_transition()
    with GROUPS.lock:
        GROUPS.ensure_free(ctx, name)
        if group.offline_config is not None:
            _connect_offline_store(group)
        GROUPS.add(ctx, group)
    STATE.changed()
    return {"FeatureGroupArn": group.arn}


@api.operation("DescribeFeatureGroup")
def describe_feature_group(request: dict, ctx: RequestContext) -> dict:
    return GROUPS.require(ctx, request["FeatureGroupName"]).describe()


_SORT_KEYS = {
    "Name": lambda g: g.name,
    "FeatureGroupStatus": lambda g: g.status,
    "OfflineStoreStatus": lambda g: (g.offline_status() or {}).get("Status", ""),
    "CreationTime": lambda g: g.created,
}


@api.operation("ListFeatureGroups")
def list_feature_groups(request: dict, ctx: RequestContext) -> dict:
    status, offline = request.get("FeatureGroupStatusEquals"), request.get("OfflineStoreStatusEquals")
    after, before = request.get("CreationTimeAfter"), request.get("CreationTimeBefore")
    contains = request.get("NameContains")
    groups = [
        g
        for g in GROUPS.in_region(ctx)
        if (contains is None or contains.lower() in g.name.lower())
        and (status is None or g.status == status)
        and (offline is None or (g.offline_status() or {}).get("Status") == offline)
        and (after is None or g.created.timestamp() > float(after))
        and (before is None or g.created.timestamp() < float(before))
    ]
    sort_key = _SORT_KEYS[request.get("SortBy", "CreationTime")]
    groups.sort(key=lambda g: (sort_key(g), g.name), reverse=request.get("SortOrder", "Descending") == "Descending")
    found = page(groups, request, ctx, default_size=10, key=lambda g: g.arn)
    return found.answer({"FeatureGroupSummaries": [g.summary() for g in found.items]})


def _add_columns(group: FeatureGroup, features: list[Feature]) -> None:
    """The offline store's table gets the new features as columns (an Iceberg table: a schema change)."""
    if group.is_iceberg:
        from local_aws.featurestore import iceberg_store  # pyiceberg takes most of a second to import

        iceberg_store.add_features(group, features)
    else:
        write_glue_table(group)


@api.operation("UpdateFeatureGroup")
def update_feature_group(request: dict, ctx: RequestContext) -> dict:
    with GROUPS.lock:
        group = GROUPS.require(ctx, request["FeatureGroupName"])
        if group.status != "Created":
            raise ValidationException(
                f"FeatureGroup {group.name} is {group.status}; it can be updated only when its "
                "FeatureGroupStatus is Created."
            )
        if group.last_update_status == "InProgress":
            raise ValidationException(
                f"FeatureGroup {group.name} has an update in progress (LastUpdateStatus "
                "InProgress). Wait until DescribeFeatureGroup shows LastUpdateStatus "
                "Successful, then update again."
            )
        new_features: list[Feature] = []
        if request.get("FeatureAdditions") is not None:
            new_features = _parse_features(
                request["FeatureAdditions"],
                (group.online_config or {}).get("StorageType"),
                {f.name.lower() for f in group.features},
            )
            if len(group.features) + len(new_features) > MAX_FEATURES:
                raise ResourceLimitExceeded(
                    f"FeatureGroup {group.name} would have {len(group.features) + len(new_features)} features; "
                    f"a FeatureGroup can have at most {MAX_FEATURES}."
                )
        online_update = request.get("OnlineStoreConfig")
        if online_update and group.online_config is None:
            raise ValidationException(
                f"FeatureGroup {group.name} has no OnlineStore, so its OnlineStoreConfig cannot be updated."
            )
        if new_features:
            group.add_features(new_features)
            if group.glue_table:
                _add_columns(group, new_features)
        if online_update:
            group.online_config = {**group.online_config, **online_update}
        throughput = request.get("ThroughputConfig")
        if throughput:
            group.throughput = {**group.throughput, **throughput}
        group.modified = now()
        group.last_update_status = "InProgress"
        group.start_transition()
    STATE.changed()
    return {"FeatureGroupArn": group.arn}


@api.operation("DeleteFeatureGroup")
def delete_feature_group(request: dict, ctx: RequestContext) -> dict:
    with GROUPS.lock:
        group = GROUPS.require(ctx, request["FeatureGroupName"])
        if group.status == "Creating":
            raise ResourceInUse(
                f"FeatureGroup {group.name} is still Creating; delete it once its "
                "FeatureGroupStatus is Created or CreateFailed."
            )
        if group.status != "Deleting":
            group.status = "Deleting"
            group.last_update_status = None if group.last_update_status == "InProgress" else group.last_update_status
            group.start_transition()
    STATE.changed()
    return {}


def _require_feature(ctx: RequestContext, request: dict) -> tuple[FeatureGroup, Feature]:
    group = GROUPS.require(ctx, request["FeatureGroupName"])
    feature = group.by_name.get(request["FeatureName"])
    if feature is None:
        raise ResourceNotFound(
            f"Resource Not Found: Amazon SageMaker can't find a Feature with name "
            f"{request['FeatureName']} in FeatureGroup {group.name}"
        )
    return group, feature


@api.operation("DescribeFeatureMetadata")
def describe_feature_metadata(request: dict, ctx: RequestContext) -> dict:
    group, feature = _require_feature(ctx, request)
    out = {
        "FeatureGroupArn": group.arn,
        "FeatureGroupName": group.name,
        "FeatureName": feature.name,
        "FeatureType": feature.feature_type,
        "CreationTime": feature.created,
        "LastModifiedTime": feature.modified,
        "Parameters": [{"Key": k, "Value": v} for k, v in feature.parameters.items()],
    }
    if feature.description is not None:
        out["Description"] = feature.description
    return out


@api.operation("UpdateFeatureMetadata")
def update_feature_metadata(request: dict, ctx: RequestContext) -> dict:
    _, feature = _require_feature(ctx, request)
    with GROUPS.lock:
        if request.get("Description") is not None:
            feature.description = request["Description"]
        for parameter in request.get("ParameterAdditions") or []:
            feature.parameters[parameter["Key"]] = parameter["Value"]
        for key in request.get("ParameterRemovals") or []:
            feature.parameters.pop(key, None)
        feature.modified = now()
    STATE.changed()
    return {}
