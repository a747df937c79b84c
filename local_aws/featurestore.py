"""SageMaker Feature Store control plane: feature groups, their lifecycle, Glue tables, feature metadata.

moto 5.2.5 sketches CreateFeatureGroup/DescribeFeatureGroup only, so local_aws answers every
FeatureGroup call itself. As on AWS, creation is asynchronous (Creating -> Created after
LOCAL_AWS_FEATURE_GROUP_TRANSITION_SECONDS, default 0.5 s), so is deletion (Deleting -> gone) and
so is an update (LastUpdateStatus InProgress -> Successful). Transitions are applied lazily when a
group is next looked at, so no timers run. A group with an offline store gets a Glue table in
moto's Glue and a `Destination` in the offline store; deleting the group leaves both the S3 data
and the Glue table in place, as AWS does. Tags live on the group; moto's AddTags/ListTags/DeleteTags
reach them through `moto_state.add_sagemaker_tag_target`.
"""
from __future__ import annotations

import datetime as dt
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from local_aws import moto_state
from local_aws.offline_store import Column, Destination, seconds_from_env
from local_aws.protocol import AwsError, RequestContext, json_action, now, on_reset


class ValidationException(AwsError):
    code = "ValidationException"


class ResourceNotFound(AwsError):
    code = "ResourceNotFound"


class ResourceInUse(AwsError):
    code = "ResourceInUse"


class ResourceLimitExceeded(AwsError):
    code = "ResourceLimitExceeded"


TRANSITION_SECONDS_ENV = "LOCAL_AWS_FEATURE_GROUP_TRANSITION_SECONDS"
GROUP_NAME_PATTERN = "[a-zA-Z0-9]([_-]*[a-zA-Z0-9]){0,63}"
FEATURE_NAME_PATTERN = "[a-zA-Z0-9]([-_]*[a-zA-Z0-9]){0,63}"
ROLE_ARN_PATTERN = r"arn:aws[a-z\-]*:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+"
S3_URI_PATTERN = "(https|s3)://([^/]+)/?(.*)"
FEATURE_TYPES = ("Integral", "Fractional", "String")
COLLECTION_TYPES = ("List", "Set", "Vector")
RESERVED_FEATURE_NAMES = ("is_deleted", "write_time", "api_invocation_time")
GLUE_TYPES = {"Integral": "bigint", "Fractional": "double", "String": "string"}
DEFAULT_CATALOG, DEFAULT_DATABASE = "AwsDataCatalog", "sagemaker_featurestore"
MAX_FEATURES, MAX_FEATURE_ADDITIONS = 2500, 100

TRANSITION_SECONDS = seconds_from_env(TRANSITION_SECONDS_ENV, "0.5")  # Creating/Deleting/update durations

_GROUP_NAME = re.compile(GROUP_NAME_PATTERN).fullmatch
_FEATURE_NAME = re.compile(FEATURE_NAME_PATTERN).fullmatch
_ROLE_ARN = re.compile(ROLE_ARN_PATTERN).fullmatch
_S3_URI = re.compile(S3_URI_PATTERN).fullmatch


def _constraint(value: Any, path: str, constraint: str) -> ValidationException:
    """AWS's wording for a request field that breaks the API model's constraints."""
    return ValidationException(
        f"1 validation error detected: Value '{value}' at '{path}' failed to satisfy constraint: {constraint}")


def _check_name(value: Any, path: str, pattern: str, matches: Any) -> str:
    if not isinstance(value, str) or not value:
        raise _constraint(value, path, "Member must not be null")
    if len(value) > 64:
        raise _constraint(value, path, "Member must have length less than or equal to 64")
    if not matches(value):
        raise _constraint(value, path, f"Member must satisfy regular expression pattern: {pattern}")
    return value


def _check_enum(value: Any, path: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise _constraint(value, path, f"Member must satisfy enum value set: [{', '.join(allowed)}]")
    return value


@dataclass(eq=False)
class Feature:
    """One feature definition plus the metadata UpdateFeatureMetadata keeps for it."""

    name: str
    feature_type: str
    collection_type: str | None
    collection_config: dict | None
    created: dt.datetime
    modified: dt.datetime
    description: str | None = None
    parameters: dict[str, str] = field(default_factory=dict)

    def definition(self) -> dict:
        out = {"FeatureName": self.name, "FeatureType": self.feature_type}
        if self.collection_type:
            out["CollectionType"] = self.collection_type
        if self.collection_config:
            out["CollectionConfig"] = self.collection_config
        return out

    def glue_type(self) -> str:
        base = GLUE_TYPES[self.feature_type]
        return f"array<{base}>" if self.collection_type else base


@dataclass(eq=False)
class FeatureGroup:
    name: str
    arn: str
    region: str
    record_identifier_name: str
    event_time_name: str
    features: list[Feature]
    created: dt.datetime
    online_config: dict | None  # as Describe shows it; None when the group has no online store
    offline_config: dict | None  # as Describe shows it (with ResolvedOutputS3Uri); None without offline store
    role_arn: str | None
    description: str | None
    throughput: dict
    tags: list[dict]
    status: str = "Creating"
    failure_reason: str | None = None
    offline_blocked_reason: str | None = None
    last_update_status: str | None = None
    transition_at: float = 0.0  # when the pending Creating/Deleting/update transition completes; 0: none
    offline_destination: Destination | None = None
    glue_table: tuple[str, str] | None = None  # (database, table) local_aws created and keeps in step
    modified: dt.datetime = None  # type: ignore[assignment]
    # The online store's records, kept by featurestore_runtime: identifier key -> OnlineEntry. They
    # live and die with the group.
    online_records: dict = field(default_factory=dict)
    records_lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.modified = self.modified or self.created
        self.by_name = {feature.name: feature for feature in self.features}

    @property
    def online_enabled(self) -> bool:
        return self.online_config is not None

    @property
    def creation_epoch(self) -> int:
        return int(self.created.timestamp())

    def offline_columns(self) -> list[Column]:
        return [Column(f.name, f.feature_type, f.collection_type is not None) for f in self.features]

    def report_offline_write(self, reason: str | None) -> None:
        self.offline_blocked_reason = reason

    def add_features(self, features: list[Feature]) -> None:
        self.features = self.features + features
        self.by_name = {feature.name: feature for feature in self.features}

    def offline_status(self) -> dict | None:
        if self.offline_config is None:
            return None
        if self.offline_blocked_reason:
            return {"Status": "Blocked", "BlockedReason": self.offline_blocked_reason}
        return {"Status": "Active"}

    def describe(self) -> dict:
        out: dict[str, Any] = {
            "FeatureGroupArn": self.arn,
            "FeatureGroupName": self.name,
            "RecordIdentifierFeatureName": self.record_identifier_name,
            "EventTimeFeatureName": self.event_time_name,
            "FeatureDefinitions": [feature.definition() for feature in self.features],
            "CreationTime": self.created,
            "LastModifiedTime": self.modified,
            "ThroughputConfig": self.throughput,
            "FeatureGroupStatus": self.status,
            "NextToken": "",
        }
        optional = {
            "OnlineStoreConfig": self.online_config,
            "OfflineStoreConfig": self.offline_config,
            "OfflineStoreStatus": self.offline_status(),
            "RoleArn": self.role_arn,
            "Description": self.description,
            "FailureReason": self.failure_reason,
            "LastUpdateStatus": {"Status": self.last_update_status} if self.last_update_status else None,
        }
        out.update({key: value for key, value in optional.items() if value is not None})
        return out

    def summary(self) -> dict:
        out = {"FeatureGroupName": self.name, "FeatureGroupArn": self.arn, "CreationTime": self.created,
               "FeatureGroupStatus": self.status}
        if self.offline_config is not None:
            out["OfflineStoreStatus"] = self.offline_status()
        return out


_lock = threading.RLock()
_groups: dict[tuple[str, str, str], FeatureGroup] = {}  # (account, region, lowercased name) -> group


@on_reset
def _forget() -> None:
    with _lock:
        _groups.clear()


def group_name(name_or_arn: str) -> str:
    """The name part of a feature group name or ARN (ARNs carry it lowercased)."""
    if name_or_arn.startswith("arn:"):
        return name_or_arn.rpartition(":feature-group/")[2]
    return name_or_arn


def _key(ctx: RequestContext, name_or_arn: str) -> tuple[str, str, str]:
    return ctx.account_id, ctx.region, group_name(name_or_arn).lower()


def _settle(key: tuple[str, str, str], group: FeatureGroup) -> FeatureGroup | None:
    """Apply a transition that is due; None when the group is gone (deleted)."""
    if not group.transition_at or time.time() < group.transition_at:
        return group
    with _lock:
        if group.transition_at and time.time() >= group.transition_at:
            group.transition_at = 0.0
            if group.status == "Creating":
                group.status = "CreateFailed" if group.failure_reason else "Created"
            elif group.status == "Deleting":
                if _groups.get(key) is group:
                    del _groups[key]
                group.online_records.clear()
                return None
            if group.last_update_status == "InProgress":
                group.last_update_status = "Successful"
    return group


def find_group(ctx: RequestContext, name_or_arn: str) -> FeatureGroup | None:
    """The feature group as it is now, or None. Used by the runtime on every request: keep it cheap."""
    key = _key(ctx, name_or_arn)
    group = _groups.get(key)
    if group is None or not group.transition_at:
        return group
    return _settle(key, group)


def _group_by_arn(arn: str) -> FeatureGroup | None:
    """The group an ARN names, for moto's AddTags/ListTags/DeleteTags (which keep `group.tags`)."""
    parts = arn.split(":")
    if len(parts) < 6:
        return None
    return find_group(RequestContext(region=parts[3], account_id=parts[4]), arn)


moto_state.add_sagemaker_tag_target("feature-group", _group_by_arn)


def not_found_message(name_or_arn: str) -> str:
    return f"Resource Not Found: Amazon SageMaker can't find a FeatureGroup with name {name_or_arn}"


def _require_group(ctx: RequestContext, name_or_arn: str) -> FeatureGroup:
    group = find_group(ctx, name_or_arn or "")
    if group is None:
        raise ResourceNotFound(not_found_message(name_or_arn))
    return group


# --- CreateFeatureGroup --------------------------------------------------------------------------


def _parse_features(definitions: Any, path: str, storage_type: str | None, taken: set[str]) -> list[Feature]:
    """Feature objects from FeatureDefinitions/FeatureAdditions, checked as AWS checks them.

    `taken` holds the lowercased names already in the group; Feature Store names are case-insensitive
    (they become Glue/Athena columns), so `Price` and `price` cannot both exist.
    """
    if not isinstance(definitions, list) or not definitions:
        raise _constraint(definitions, path, "Member must have length greater than or equal to 1")
    stamp = now()
    features = []
    for index, definition in enumerate(definitions, start=1):
        where = f"{path}.{index}.member"
        definition = definition if isinstance(definition, dict) else {}
        name = _check_name(definition.get("FeatureName"), f"{where}.featureName", FEATURE_NAME_PATTERN,
                           _FEATURE_NAME)
        feature_type = _check_enum(definition.get("FeatureType"), f"{where}.featureType", FEATURE_TYPES)
        collection = definition.get("CollectionType")
        if collection is not None:
            _check_enum(collection, f"{where}.collectionType", COLLECTION_TYPES)
            if storage_type != "InMemory":
                raise ValidationException(
                    f"Feature {name} has CollectionType {collection}, but collection types are only supported "
                    "when OnlineStoreConfig.StorageType is InMemory. Remove CollectionType or use an InMemory "
                    "online store.")
        lowered = name.lower()
        if lowered in RESERVED_FEATURE_NAMES:
            raise ValidationException(
                f"Feature name {name} is reserved: Feature Store adds {', '.join(RESERVED_FEATURE_NAMES)} to "
                "every offline store record. Rename the feature.")
        if lowered in taken:
            raise ValidationException(
                f"Feature name {name} is defined more than once in FeatureGroup (feature names are "
                "case-insensitive). Give every feature a distinct name.")
        taken.add(lowered)
        features.append(Feature(name, feature_type, collection, definition.get("CollectionConfig"), stamp, stamp))
    return features


def _key_feature(features: list[Feature], name: str, role: str, allowed: tuple[str, ...]) -> Feature:
    feature = next((f for f in features if f.name == name), None)
    if feature is None:
        raise ValidationException(
            f"The {role} {name} is not one of the FeatureDefinitions. Name a feature that is defined, or add a "
            f"feature named {name} to FeatureDefinitions.")
    if feature.feature_type not in allowed or feature.collection_type:
        raise ValidationException(
            f"The {role} {name} has FeatureType {feature.feature_type}"
            f"{' with CollectionType ' + feature.collection_type if feature.collection_type else ''}; "
            f"it must be a scalar of type {' or '.join(allowed)}.")
    return feature


def _online_config(request: dict) -> dict | None:
    config = request.get("OnlineStoreConfig")
    if not isinstance(config, dict) or not config.get("EnableOnlineStore"):
        return None
    config = dict(config)
    config["StorageType"] = _check_enum(config.get("StorageType", "Standard"), "onlineStoreConfig.storageType",
                                        ("Standard", "Standard_V2", "InMemory"))
    if "TtlDuration" in config:
        _check_ttl(config["TtlDuration"], "onlineStoreConfig.ttlDuration")
    return config


def _check_ttl(ttl: Any, path: str) -> None:
    ttl = ttl if isinstance(ttl, dict) else {}
    _check_enum(ttl.get("Unit"), f"{path}.unit", ("Seconds", "Minutes", "Hours", "Days", "Weeks"))
    if not isinstance(ttl.get("Value"), int) or ttl["Value"] < 1:
        raise _constraint(ttl.get("Value"), f"{path}.value", "Member must have value greater than or equal to 1")


def _throughput(config: Any) -> dict:
    if not isinstance(config, dict):
        return {"ThroughputMode": "OnDemand"}
    _check_enum(config.get("ThroughputMode"), "throughputConfig.throughputMode", ("OnDemand", "Provisioned"))
    return {k: v for k, v in config.items() if k in ("ThroughputMode", "ProvisionedReadCapacityUnits",
                                                     "ProvisionedWriteCapacityUnits")}


def _offline_config(request: dict, name: str, region: str, account_id: str, created: dt.datetime) -> dict | None:
    config = request.get("OfflineStoreConfig")
    if config is None:
        return None
    storage = config.get("S3StorageConfig") or {}
    uri = storage.get("S3Uri")
    if not isinstance(uri, str) or not _S3_URI(uri):
        raise _constraint(uri, "offlineStoreConfig.s3StorageConfig.s3Uri",
                          f"Member must satisfy regular expression pattern: {S3_URI_PATTERN}")
    if not uri.startswith("s3://"):
        raise ValidationException(f"S3Uri {uri} is not an s3:// URI. Give the offline store location as "
                                  "s3://bucket/prefix.")
    table_format = config.get("TableFormat", "Glue")
    _check_enum(table_format, "offlineStoreConfig.tableFormat", ("Default", "Glue", "Iceberg"))
    if table_format == "Iceberg":
        raise ValidationException("OfflineStoreConfig.TableFormat Iceberg is not supported by local_aws, which "
                                  "writes the Glue (Parquet) table format. Omit TableFormat or set it to Glue.")
    epoch = int(created.timestamp())
    resolved = f"{uri.rstrip('/')}/{account_id}/sagemaker/{region}/offline-store/{name}-{epoch}/data"
    out: dict[str, Any] = {
        "S3StorageConfig": {**{k: v for k, v in storage.items() if k in ("S3Uri", "KmsKeyId")},
                            "ResolvedOutputS3Uri": resolved},
        "DisableGlueTableCreation": bool(config.get("DisableGlueTableCreation", False)),
        "TableFormat": "Glue",
    }
    catalog = config.get("DataCatalogConfig")
    if catalog:
        for member in ("TableName", "Catalog", "Database"):
            if not catalog.get(member):
                raise _constraint(catalog.get(member), f"offlineStoreConfig.dataCatalogConfig.{member[0].lower()}"
                                  f"{member[1:]}", "Member must not be null")
        out["DataCatalogConfig"] = {k: catalog[k] for k in ("TableName", "Catalog", "Database")}
    elif not out["DisableGlueTableCreation"]:
        out["DataCatalogConfig"] = {"TableName": f"{name.lower().replace('-', '_')}_{epoch}",
                                    "Catalog": DEFAULT_CATALOG, "Database": DEFAULT_DATABASE}
    return out


def _glue_table_input(group: FeatureGroup) -> dict:
    catalog = group.offline_config["DataCatalogConfig"]
    columns = [{"Name": f.name, "Type": f.glue_type()} for f in group.features]
    columns += [{"Name": "write_time", "Type": "timestamp"}, {"Name": "api_invocation_time", "Type": "timestamp"},
                {"Name": "is_deleted", "Type": "boolean"}]
    return {
        "Name": catalog["TableName"],
        "Description": f"Offline store of SageMaker Feature Store feature group {group.name}",
        "TableType": "EXTERNAL_TABLE",
        "Parameters": {"EXTERNAL": "TRUE", "classification": "parquet"},
        "PartitionKeys": [],
        "StorageDescriptor": {
            "Columns": columns,
            "Location": group.offline_config["S3StorageConfig"]["ResolvedOutputS3Uri"],
            "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
            "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
            "Compressed": False,
            "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
                          "Parameters": {"serialization.format": "1"}},
            "StoredAsSubDirectories": False,
        },
    }


def _write_glue_table(group: FeatureGroup) -> None:
    """Create (or bring up to date) the group's Glue table; its database is created when missing."""
    database, table = group.glue_table
    glue = moto_state.glue(group.region)
    if database not in glue.databases:
        glue.create_database(database, {"Name": database})
    table_input = _glue_table_input(group)
    if table in glue.databases[database].tables:
        glue.update_table(database, table, table_input)
    else:
        glue.create_table(database, table, table_input)


@json_action("SageMaker", "CreateFeatureGroup")
def create_feature_group(request: dict, ctx: RequestContext) -> dict:
    name = _check_name(request.get("FeatureGroupName"), "featureGroupName", GROUP_NAME_PATTERN, _GROUP_NAME)
    description = request.get("Description")
    if description is not None and len(description) > 128:
        raise _constraint(description, "description", "Member must have length less than or equal to 128")
    online = _online_config(request)
    definitions = request.get("FeatureDefinitions")
    if isinstance(definitions, list) and len(definitions) > MAX_FEATURES:
        raise _constraint(f"list of {len(definitions)} features", "featureDefinitions",
                          f"Member must have length less than or equal to {MAX_FEATURES}")
    features = _parse_features(definitions, "featureDefinitions", (online or {}).get("StorageType"), set())
    record_id = _check_name(request.get("RecordIdentifierFeatureName"), "recordIdentifierFeatureName",
                            FEATURE_NAME_PATTERN, _FEATURE_NAME)
    event_time = _check_name(request.get("EventTimeFeatureName"), "eventTimeFeatureName", FEATURE_NAME_PATTERN,
                             _FEATURE_NAME)
    _key_feature(features, record_id, "RecordIdentifierFeatureName", ("Integral", "String"))
    _key_feature(features, event_time, "EventTimeFeatureName", ("Fractional", "String"))
    if online is None and request.get("OfflineStoreConfig") is None:
        raise ValidationException("You must include at least one of OnlineStoreConfig (with EnableOnlineStore set "
                                  "to true) and OfflineStoreConfig to create a FeatureGroup.")
    role_arn = request.get("RoleArn")
    if role_arn is not None and not _ROLE_ARN(role_arn):
        raise _constraint(role_arn, "roleArn", f"Member must satisfy regular expression pattern: {ROLE_ARN_PATTERN}")
    if request.get("OfflineStoreConfig") is not None and not role_arn:
        raise ValidationException("RoleArn is required when OfflineStoreConfig is specified: Feature Store uses "
                                  "this role to write the offline store to S3. Pass an IAM role ARN.")
    tags = request.get("Tags") or []
    if len(tags) > 50:
        raise _constraint(f"list of {len(tags)} tags", "tags", "Member must have length less than or equal to 50")
    throughput = _throughput(request.get("ThroughputConfig"))
    with _lock:
        key = _key(ctx, name)
        existing = _groups.get(key)
        if existing is not None and _settle(key, existing) is not None:
            raise ResourceInUse(f"Resource Already Exists: FeatureGroup with name {name} already exists. "
                                "Choose a different name.")
        created = now()
        group = FeatureGroup(
            name=name, arn=f"arn:aws:sagemaker:{ctx.region}:{ctx.account_id}:feature-group/{name.lower()}",
            region=ctx.region, record_identifier_name=record_id, event_time_name=event_time, features=features,
            created=created, online_config=online,
            offline_config=_offline_config(request, name, ctx.region, ctx.account_id, created),
            role_arn=role_arn, description=description, throughput=throughput, tags=list(tags),
            transition_at=time.time() + TRANSITION_SECONDS,
        )
        if group.offline_config is not None:
            _connect_offline_store(group, ctx)
        _groups[key] = group
    return {"FeatureGroupArn": group.arn}


def _connect_offline_store(group: FeatureGroup, ctx: RequestContext) -> None:
    """The offline store's S3 destination and Glue table; a missing bucket makes creation fail, as on AWS."""
    bucket, key = moto_state.parse_s3_uri(group.offline_config["S3StorageConfig"]["ResolvedOutputS3Uri"])
    if not moto_state.bucket_exists(bucket, ctx.account_id):
        group.failure_reason = (f"Failed to create the OfflineStore: the S3 bucket {bucket} does not exist. Create "
                                "the bucket, delete this FeatureGroup and create it again.")
        return
    group.offline_destination = Destination(bucket=bucket, prefix=key.rstrip("/"), columns=group.offline_columns,
                                            report=group.report_offline_write)
    if not group.offline_config["DisableGlueTableCreation"]:
        catalog = group.offline_config["DataCatalogConfig"]
        group.glue_table = (catalog["Database"], catalog["TableName"])
        _write_glue_table(group)


# --- Describe / List / Update / Delete -----------------------------------------------------------


@json_action("SageMaker", "DescribeFeatureGroup")
def describe_feature_group(request: dict, ctx: RequestContext) -> dict:
    return _require_group(ctx, request.get("FeatureGroupName", "")).describe()


_SORT_KEYS = {
    "Name": lambda g: g.name,
    "FeatureGroupStatus": lambda g: g.status,
    "OfflineStoreStatus": lambda g: (g.offline_status() or {}).get("Status", ""),
    "CreationTime": lambda g: g.created,
}


@json_action("SageMaker", "ListFeatureGroups")
def list_feature_groups(request: dict, ctx: RequestContext) -> dict:
    sort_by = _check_enum(request.get("SortBy", "CreationTime"), "sortBy", tuple(_SORT_KEYS))
    order = _check_enum(request.get("SortOrder", "Descending"), "sortOrder", ("Ascending", "Descending"))
    status = request.get("FeatureGroupStatusEquals")
    if status is not None:
        _check_enum(status, "featureGroupStatusEquals", ("Creating", "Created", "CreateFailed", "Deleting",
                                                         "DeleteFailed"))
    offline = request.get("OfflineStoreStatusEquals")
    if offline is not None:
        _check_enum(offline, "offlineStoreStatusEquals", ("Active", "Blocked", "Disabled"))
    max_results = request.get("MaxResults", 10)
    if not isinstance(max_results, int) or not 1 <= max_results <= 100:
        raise _constraint(max_results, "maxResults", "Member must have value less than or equal to 100")
    token = request.get("NextToken") or "0"
    if not token.isdigit():
        raise ValidationException(f"Invalid NextToken {token!r}: pass the NextToken of the previous "
                                  "ListFeatureGroups response unchanged.")
    after, before = request.get("CreationTimeAfter"), request.get("CreationTimeBefore")
    contains = request.get("NameContains")
    with _lock:
        groups = [g for key, g in list(_groups.items())
                  if key[:2] == (ctx.account_id, ctx.region) and _settle(key, g) is not None]
    groups = [g for g in groups
              if (contains is None or contains.lower() in g.name.lower())
              and (status is None or g.status == status)
              and (offline is None or (g.offline_status() or {}).get("Status") == offline)
              and (after is None or g.created.timestamp() > float(after))
              and (before is None or g.created.timestamp() < float(before))]
    groups.sort(key=lambda g: (_SORT_KEYS[sort_by](g), g.name), reverse=order == "Descending")
    start = int(token)
    page = groups[start:start + max_results]
    out: dict[str, Any] = {"FeatureGroupSummaries": [g.summary() for g in page]}
    if start + max_results < len(groups):
        out["NextToken"] = str(start + max_results)
    return out


@json_action("SageMaker", "UpdateFeatureGroup")
def update_feature_group(request: dict, ctx: RequestContext) -> dict:
    with _lock:
        group = _require_group(ctx, request.get("FeatureGroupName", ""))
        if group.status != "Created":
            raise ValidationException(f"FeatureGroup {group.name} is {group.status}; it can be updated only when its "
                                      "FeatureGroupStatus is Created.")
        if group.last_update_status == "InProgress":
            raise ValidationException(f"FeatureGroup {group.name} has an update in progress (LastUpdateStatus "
                                      "InProgress). Wait until DescribeFeatureGroup shows LastUpdateStatus "
                                      "Successful, then update again.")
        additions = request.get("FeatureAdditions")
        new_features: list[Feature] = []
        if additions is not None:
            if isinstance(additions, list) and len(additions) > MAX_FEATURE_ADDITIONS:
                raise _constraint(f"list of {len(additions)} features", "featureAdditions",
                                  f"Member must have length less than or equal to {MAX_FEATURE_ADDITIONS}")
            new_features = _parse_features(additions, "featureAdditions",
                                           (group.online_config or {}).get("StorageType"),
                                           {f.name.lower() for f in group.features})
            if len(group.features) + len(new_features) > MAX_FEATURES:
                raise ResourceLimitExceeded(
                    f"FeatureGroup {group.name} would have {len(group.features) + len(new_features)} features; "
                    f"a FeatureGroup can have at most {MAX_FEATURES}.")
        online_update = request.get("OnlineStoreConfig")
        if online_update:
            if group.online_config is None:
                raise ValidationException(f"FeatureGroup {group.name} has no OnlineStore, so its "
                                          "OnlineStoreConfig cannot be updated.")
            if "TtlDuration" in online_update:
                _check_ttl(online_update["TtlDuration"], "onlineStoreConfig.ttlDuration")
        throughput = request.get("ThroughputConfig")
        if throughput:
            _check_enum(throughput.get("ThroughputMode", group.throughput["ThroughputMode"]),
                        "throughputConfig.throughputMode", ("OnDemand", "Provisioned"))
        if new_features:
            group.add_features(new_features)
            if group.glue_table:
                _write_glue_table(group)
        if online_update:
            group.online_config = {**group.online_config, **online_update}
        if throughput:
            group.throughput = {**group.throughput, **throughput}
        group.modified = now()
        group.last_update_status = "InProgress"
        group.transition_at = time.time() + TRANSITION_SECONDS
    return {"FeatureGroupArn": group.arn}


@json_action("SageMaker", "DeleteFeatureGroup")
def delete_feature_group(request: dict, ctx: RequestContext) -> dict:
    with _lock:
        group = _require_group(ctx, request.get("FeatureGroupName", ""))
        if group.status == "Creating":
            raise ResourceInUse(f"FeatureGroup {group.name} is still Creating; delete it once its "
                                "FeatureGroupStatus is Created or CreateFailed.")
        if group.status != "Deleting":
            group.status = "Deleting"
            group.last_update_status = None if group.last_update_status == "InProgress" else group.last_update_status
            group.transition_at = time.time() + TRANSITION_SECONDS
    return {}


# --- Feature metadata ----------------------------------------------------------------------------


def _require_feature(ctx: RequestContext, request: dict) -> tuple[FeatureGroup, Feature]:
    group = _require_group(ctx, request.get("FeatureGroupName", ""))
    feature = group.by_name.get(request.get("FeatureName", ""))
    if feature is None:
        raise ResourceNotFound(f"Resource Not Found: Amazon SageMaker can't find a Feature with name "
                               f"{request.get('FeatureName')} in FeatureGroup {group.name}")
    return group, feature


@json_action("SageMaker", "DescribeFeatureMetadata")
def describe_feature_metadata(request: dict, ctx: RequestContext) -> dict:
    group, feature = _require_feature(ctx, request)
    out = {"FeatureGroupArn": group.arn, "FeatureGroupName": group.name, "FeatureName": feature.name,
           "FeatureType": feature.feature_type, "CreationTime": feature.created,
           "LastModifiedTime": feature.modified,
           "Parameters": [{"Key": k, "Value": v} for k, v in feature.parameters.items()]}
    if feature.description is not None:
        out["Description"] = feature.description
    return out


@json_action("SageMaker", "UpdateFeatureMetadata")
def update_feature_metadata(request: dict, ctx: RequestContext) -> dict:
    _, feature = _require_feature(ctx, request)
    description = request.get("Description")
    if description is not None and len(description) > 255:
        raise _constraint(description, "description", "Member must have length less than or equal to 255")
    additions = request.get("ParameterAdditions") or []
    removals = request.get("ParameterRemovals") or []
    for name, values in (("parameterAdditions", additions), ("parameterRemovals", removals)):
        if len(values) > 25:
            raise _constraint(f"list of {len(values)}", name, "Member must have length less than or equal to 25")
    with _lock:
        if description is not None:
            feature.description = description
        for parameter in additions:
            feature.parameters[parameter["Key"]] = parameter["Value"]
        for key in removals:
            feature.parameters.pop(key, None)
        feature.modified = now()
    return {}
