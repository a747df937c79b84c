"""SageMaker Feature Store runtime (REST-JSON): Put/Get/Delete/UpdateRecord, batch calls, ListRecords.

The server routes each call by the runtime's botocore model, merges the path and query-string
members into the request and validates it; these handlers check records against the feature group
(records.py), keep the online store (online_store.py) and append every write to the offline store,
older ones included. DeleteRecord soft-deletes by default or hard-deletes; both append an is_deleted
marker row to the offline store. UpdateRecord merges features into an existing record (Standard_V2
and InMemory online stores only). Request errors are `ValidationError`, the runtime's error code,
except reads of a missing group or record (`ResourceNotFound`, 404) and an UpdateRecord older than
the record (`ConflictException`, 409).

PutRecord is the hot path of `ingest_dataframe`: one lookup for the group, one pass over the record,
one lookup for its online store, one append to the offline store's in-memory buffer, and a flag
telling the saver thread that the online store changed (durable.py: nothing is written here).
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from local_aws.core.gateway.context import RequestContext
from local_aws.core.gateway.errors import AwsError, ConflictException, ResourceNotFound, ValidationError
from local_aws.core.gateway.paging import page
from local_aws.core.service import Api
from local_aws.featurestore.durable import STATE
from local_aws.featurestore.models import GROUPS, FeatureGroup
from local_aws.featurestore.offline_store import STORE, Row
from local_aws.featurestore.online_store import OnlineEntry, store_of
from local_aws.featurestore.records import event_time, identifier, identifier_key, parse_record, shared_layout

SERVICE = "sagemaker-featurestore-runtime"
_TTL_SECONDS = {"Seconds": 1, "Minutes": 60, "Hours": 3600, "Days": 86400, "Weeks": 604800}


def _group(ctx: RequestContext, name: str, missing: type[AwsError] = ValidationError) -> FeatureGroup:
    """A Created feature group, else the error AWS answers (missing, being deleted, not yet created)."""
    group = GROUPS.find(ctx, name)
    if group is None or group.status == "Deleting":
        raise missing(f"Resource Not Found: Amazon SageMaker can't find a FeatureGroup with name [{name}].")
    if group.status != "Created":
        raise ValidationError(
            f"FeatureGroup {group.name} is {group.status}; records can be written and read only "
            "when its FeatureGroupStatus is Created."
        )
    return group


def _online_group(ctx: RequestContext, name: str, missing: type[AwsError]) -> FeatureGroup:
    group = _group(ctx, name, missing)
    if not group.online_enabled:
        raise ValidationError(
            f"FeatureGroup {group.name} has no OnlineStore (OnlineStoreConfig.EnableOnlineStore "
            "is not true), so records cannot be read from it. Query its offline store instead."
        )
    return group


def _targets(group: FeatureGroup, stores: list[str] | None) -> tuple[bool, bool]:
    """(write online, write offline): all of the group's stores unless TargetStores narrows them."""
    has_offline = group.offline_destination is not None
    if stores is None:
        return group.online_enabled, has_offline
    if len(set(stores)) != len(stores):
        raise ValidationError(f"TargetStores {stores} must list OnlineStore and/or OfflineStore, each at most once.")
    for store in stores:
        if (store == "OnlineStore" and not group.online_enabled) or (store == "OfflineStore" and not has_offline):
            raise ValidationError(f"TargetStores names {store}, but FeatureGroup {group.name} has no {store}.")
    return "OnlineStore" in stores, "OfflineStore" in stores


def _ttl_seconds(ttl: dict | None) -> int | None:
    return None if ttl is None else ttl["Value"] * _TTL_SECONDS[ttl["Unit"]]


def _put(group: FeatureGroup, record: list[dict], stores: list[str] | None, ttl: dict | None, invoked: float) -> None:
    parsed = parse_record(group, record)
    when = parsed.event_time
    online, offline = _targets(group, stores)
    if online:
        key = identifier_key(group, parsed.values[group.record_identifier_name])
        seconds = _ttl_seconds(ttl if ttl is not None else group.online_config.get("TtlDuration"))
        store_of(group).put(
            key, OnlineEntry(when, parsed.names, parsed.texts, False, when + seconds if seconds else None)
        )
        STATE.changed()
    if offline:
        STORE.append(group.offline_destination, Row(parsed.values, when, invoked, False))


def _wanted(group: FeatureGroup, names: list[str] | None) -> set[str] | None:
    """The FeatureNames filter of a read (None: every feature); names not defined are an error."""
    if not names:
        return None
    unknown = [name for name in names if name not in group.by_name]
    if unknown:
        raise ValidationError(f"FeatureNames {unknown} are not defined in FeatureGroup {group.name}.")
    return set(names)


def _record(entry: OnlineEntry, wanted: set[str] | None) -> list[dict]:
    """The entry as the Record a read answers: FeatureValues in the order they were written."""
    return [
        {"FeatureName": name, ("ValueAsStringList" if isinstance(text, list) else "ValueAsString"): text}
        for name, text in zip(entry.names, entry.texts)
        if wanted is None or name in wanted
    ]


def _expires_at(entry: OnlineEntry) -> str:
    moment = dt.datetime.fromtimestamp(entry.expires_at, dt.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


api = Api(SERVICE)


@api.operation("PutRecord")
def put_record(request: dict, ctx: RequestContext) -> dict:
    group = _group(ctx, request["FeatureGroupName"])
    _put(group, request["Record"], request.get("TargetStores"), request.get("TtlDuration"), time.time())
    return {}


@api.operation("GetRecord")
def get_record(request: dict, ctx: RequestContext) -> dict:
    group = _online_group(ctx, request["FeatureGroupName"], ResourceNotFound)
    key = identifier(group, request["RecordIdentifierValueAsString"])[0]
    wanted = _wanted(group, request.get("FeatureNames"))
    entry = store_of(group).live(key)
    record = _record(entry, wanted) if entry else []
    if not record:
        return {}
    out: dict[str, Any] = {"Record": record}
    if request.get("ExpirationTimeResponse") == "Enabled" and entry.expires_at is not None:
        out["ExpiresAt"] = _expires_at(entry)
    return out


@api.operation("DeleteRecord")
def delete_record(request: dict, ctx: RequestContext) -> dict:
    group = _group(ctx, request["FeatureGroupName"])
    text = request["EventTime"]
    when = event_time(group, text)
    key, record_id = identifier(group, request["RecordIdentifierValueAsString"])
    hard = request.get("DeletionMode", "SoftDelete") == "HardDelete"
    online, offline = _targets(group, request.get("TargetStores"))
    if online:
        deleted = store_of(group).delete(key, when, hard)
        STATE.changed()
        if not deleted and hard:
            raise ValidationError(
                f"EventTime {text} of the HardDelete is not later than the EventTime of the "
                f"record {request['RecordIdentifierValueAsString']} in the OnlineStore; nothing "
                "was deleted. Pass a later EventTime."
            )
    if offline:
        event_value = text if group.by_name[group.event_time_name].feature_type == "String" else float(text)
        marker = {group.record_identifier_name: record_id, group.event_time_name: event_value}
        STORE.append(group.offline_destination, Row(marker, when, time.time(), True))
    return {}


@api.operation("UpdateRecord")
def update_record(request: dict, ctx: RequestContext) -> dict:
    group = _group(ctx, request["FeatureGroupName"])
    storage = (group.online_config or {}).get("StorageType")
    if storage not in ("Standard_V2", "InMemory"):
        raise ValidationError(
            f"UpdateRecord is available only for feature groups whose OnlineStoreConfig.StorageType "
            f"is Standard_V2 or InMemory; FeatureGroup {group.name} has "
            f"{storage or 'no OnlineStore'}. Use PutRecord with the whole record."
        )
    features = request["Features"]
    if len(features) > 100:
        raise ValidationError(f"Features lists {len(features)} features; UpdateRecord takes at most 100.")
    online, offline = _targets(group, request.get("TargetStores"))
    if not online:
        raise ValidationError("UpdateRecord cannot target the OfflineStore only; include the OnlineStore.")
    text = request["RecordIdentifierValueAsString"]
    key, record_id = identifier(group, text)
    update = parse_record(group, features, complete=False)
    if update.values.get(group.record_identifier_name, record_id) != record_id:
        raise ValidationError(
            f"Features sets {group.record_identifier_name} to a value other than "
            f"RecordIdentifierValueAsString {text}; a record's identifier cannot change."
        )
    has_event_time = group.event_time_name in update.values
    seconds = _ttl_seconds(request.get("TtlDuration"))
    if seconds and not has_event_time:
        raise ValidationError(f"A TtlDuration needs the event time: include {group.event_time_name} in Features.")
    store = store_of(group)
    with store.lock:
        current = store.live(key)
        if current is None:
            raise ResourceNotFound(
                f"Record {text} does not exist in the OnlineStore of FeatureGroup {group.name} "
                "(or was deleted). Create it with PutRecord."
            )
        if has_event_time and update.event_time < current.event_time:
            raise ConflictException(
                f"EventTime of the update is older than the EventTime of record {text}; resubmit "
                "with an EventTime equal to or newer than the record's current one."
            )
        merged = dict(zip(current.names, current.texts))
        merged.update(zip(update.names, update.texts))
        when = update.event_time if has_event_time else current.event_time
        expires = when + seconds if seconds else current.expires_at
        entry = OnlineEntry(when, shared_layout(tuple(merged)), tuple(merged.values()), False, expires)
        store.keep(key, entry)
    STATE.changed()
    if offline:  # the offline store gets the whole record as it now is
        whole = parse_record(group, _record(entry, None))
        STORE.append(group.offline_destination, Row(whole.values, when, time.time(), False))
    return {}


@api.operation("BatchGetRecord")
def batch_get_record(request: dict, ctx: RequestContext) -> dict:
    with_expiry = request.get("ExpirationTimeResponse") == "Enabled"
    records, errors = [], []
    for asked in request["Identifiers"]:
        name = asked["FeatureGroupName"]
        for record_id in asked["RecordIdentifiersValueAsString"]:
            try:
                group = _online_group(ctx, name, ResourceNotFound)
                wanted = _wanted(group, asked.get("FeatureNames"))
                entry = store_of(group).live(identifier(group, record_id)[0])
                selected = _record(entry, wanted) if entry else []
            except AwsError as err:
                errors.append(
                    {
                        "FeatureGroupName": name,
                        "RecordIdentifierValueAsString": record_id,
                        "ErrorCode": err.code,
                        "ErrorMessage": err.message,
                    }
                )
                continue
            if selected:
                found = {"FeatureGroupName": name, "RecordIdentifierValueAsString": record_id, "Record": selected}
                if with_expiry and entry.expires_at is not None:
                    found["ExpiresAt"] = _expires_at(entry)
                records.append(found)
    return {"Records": records, "Errors": errors, "UnprocessedIdentifiers": []}


@api.operation("BatchWriteRecord")
def batch_write_record(request: dict, ctx: RequestContext) -> dict:
    invoked, errors = time.time(), []
    for entry in request["Entries"]:
        try:
            group = _group(ctx, entry["FeatureGroupName"])
            ttl = entry.get("TtlDuration", request.get("TtlDuration"))
            _put(group, entry["Record"], entry.get("TargetStores"), ttl, invoked)
        except AwsError as err:
            errors.append({"Entry": entry, "ErrorCode": err.code, "ErrorMessage": err.message})
    return {"Errors": errors, "UnprocessedEntries": []}


@api.operation("ListRecords")
def list_records(request: dict, ctx: RequestContext) -> dict:
    group = _online_group(ctx, request["FeatureGroupName"], ResourceNotFound)
    keys = store_of(group).identifiers(bool(request.get("IncludeSoftDeletedRecords")))
    found = page(keys, request, ctx, default_size=100, scope=group.arn, key=str)  # records written meanwhile
    return found.answer({"RecordIdentifiers": found.items})
