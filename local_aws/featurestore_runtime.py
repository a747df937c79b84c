"""SageMaker Feature Store runtime (REST-JSON): Put/Get/Delete/UpdateRecord, batch calls, ListRecords.

Records are checked against the feature group's definitions as AWS checks them (known feature
names, each value parses as its FeatureType, record identifier and event time present). The
online store keeps, per record identifier, the record with the latest event time (an equal event
time overwrites); every write also goes to the offline store, older ones included. DeleteRecord
soft-deletes by default (the record stays as a tombstone no read returns) or hard-deletes; both
append an is_deleted marker row to the offline store. UpdateRecord merges features into an
existing record (Standard_V2 and InMemory online stores only). Request errors are
`ValidationError`, the runtime's error code, except reads of a missing group or record
(`ResourceNotFound`, 404) and an UpdateRecord older than the record (`ConflictException`, 409).

PutRecord is the hot path of `ingest_dataframe`: one dict lookup for the group, one pass over the
record, one append to the offline store's in-memory buffer.
"""
from __future__ import annotations

import datetime as dt
import math
import re
import time
from typing import Any, Callable, NamedTuple

from local_aws import featurestore
from local_aws.featurestore import Feature, FeatureGroup
from local_aws.offline_store import STORE, Row
from local_aws.protocol import AwsError, RequestContext, rest_action


class ValidationError(AwsError):
    code = "ValidationError"


class ResourceNotFound(AwsError):
    code = "ResourceNotFound"
    status = 404


class ConflictException(AwsError):
    code = "ConflictException"
    status = 409


MAX_VALUE_LENGTH = 358400
MAX_EPOCH_SECONDS = 253402300800  # 10000-01-01T00:00:00Z: event times must fall in years 1970-9999
TARGET_STORES = ("OnlineStore", "OfflineStore")
_TTL_SECONDS = {"Seconds": 1, "Minutes": 60, "Hours": 3600, "Days": 86400, "Weeks": 604800}

_INTEGRAL = re.compile(r"[+-]?[0-9]{1,19}").fullmatch
_FRACTIONAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|NaN|[+-]?Infinity").fullmatch
_ISO_8601 = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,9}))?Z").fullmatch
_UTC = dt.timezone.utc


class Parsed(NamedTuple):
    """A checked record: parsed values for the offline store, the raw texts for the online store."""

    values: dict  # feature name -> int, float, str or list (what the offline store writes)
    event_time: float  # epoch seconds
    names: tuple  # feature names in record order (shared between records of the same layout)
    texts: tuple  # ValueAsString (or ValueAsStringList) per name, as the client sent it


class OnlineEntry(NamedTuple):
    """One record identifier's state in the online store (compact: ~0.7 KB for 10 features)."""

    event_time: float
    names: tuple
    texts: tuple
    deleted: bool  # a soft-delete tombstone: no read returns it
    expires_at: float | None


_LAYOUTS: dict[tuple, tuple] = {}  # one shared names tuple per record layout seen


# --- values --------------------------------------------------------------------------------------


def _integral(text: str) -> int:
    if _INTEGRAL(text):
        value = int(text)
        if -(1 << 63) <= value < (1 << 63):
            return value
    raise ValueError("expected a whole number that fits in 64 bits, such as 42")


def _fractional(text: str) -> float:
    if _FRACTIONAL(text):
        return float(text)
    raise ValueError("expected a number such as 3.14 or 1e-3")


def _string(text: str) -> str:
    if len(text) > MAX_VALUE_LENGTH:
        raise ValueError(f"a value can be at most {MAX_VALUE_LENGTH} characters long")
    return text


_PARSERS: dict[str, Callable[[str], Any]] = {"Integral": _integral, "Fractional": _fractional, "String": _string}


def _iso_epoch(text: str) -> float:
    match = _ISO_8601(text)
    if match:
        year, month, day, hour, minute, second, fraction = match.groups()
        try:
            moment = dt.datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), tzinfo=_UTC)
        except ValueError:
            pass
        else:
            epoch = moment.timestamp() + (int(fraction) / 10 ** len(fraction) if fraction else 0.0)
            if 0 <= epoch < MAX_EPOCH_SECONDS:
                return epoch
    raise ValueError("expected an ISO-8601 UTC time yyyy-MM-dd'T'HH:mm:ssZ or yyyy-MM-dd'T'HH:mm:ss.SSSZ, "
                     "such as 2024-01-31T12:00:00Z or 2024-01-31T12:00:00.250Z")


def _epoch_seconds(text: str) -> float:
    if _FRACTIONAL(text):
        epoch = float(text)
        if math.isfinite(epoch) and 0 <= epoch < MAX_EPOCH_SECONDS:
            return epoch
    raise ValueError("expected Unix epoch seconds such as 1706702400 or 1706702400.25")


def _event_time(group: FeatureGroup, text: str) -> float:
    """Epoch seconds of an event time given as a string, checked against the event time feature's type."""
    try:
        if group.by_name[group.event_time_name].feature_type == "String":
            return _iso_epoch(text)
        return _epoch_seconds(text)
    except (ValueError, TypeError) as exc:
        raise ValidationError(f"Invalid EventTime '{text}' for FeatureGroup {group.name}: {exc}.") from None


def _bad_value(group: FeatureGroup, feature: Feature, text: Any, reason: str) -> ValidationError:
    return ValidationError(f"Invalid value '{text}' for feature {feature.name} of type {feature.feature_type} "
                           f"in FeatureGroup {group.name}: {reason}.")


def _collection(group: FeatureGroup, feature: Feature, items: Any) -> list:
    if not isinstance(items, list):
        raise _bad_value(group, feature, items, "a collection feature takes ValueAsStringList")
    parse = _PARSERS[feature.feature_type]
    try:
        values = [None if item is None else parse(item) for item in items]
    except (ValueError, TypeError) as exc:
        raise _bad_value(group, feature, items, str(exc)) from None
    if feature.collection_type == "Set" and len(set(values)) != len(values):
        raise _bad_value(group, feature, items, "a Set holds each value once")
    if feature.collection_type == "Vector":
        dimension = ((feature.collection_config or {}).get("VectorConfig") or {}).get("Dimension")
        if None in values or (dimension is not None and len(values) != dimension):
            raise _bad_value(group, feature, items, f"a Vector holds exactly {dimension} non-null values")
    return values


def _parse_record(group: FeatureGroup, record: Any, complete: bool = True) -> Parsed:
    """The record checked against the group's definitions, or the ValidationError AWS answers.

    A complete record (PutRecord) must hold the record identifier and event time; the features of an
    UpdateRecord need not.
    """
    if not isinstance(record, list) or not record:
        raise ValidationError("Record must contain at least one FeatureValue.")
    by_name = group.by_name
    event_time_name = group.event_time_name
    event_time = 0.0
    values: dict[str, Any] = {}
    texts: list = []
    for item in record:
        name = item.get("FeatureName")
        feature = by_name.get(name)
        if feature is None:
            raise ValidationError(f"The feature {name} is not defined in FeatureGroup {group.name}. Add it with "
                                  "UpdateFeatureGroup (FeatureAdditions) or leave it out of the Record.")
        name = feature.name  # the group's own string: records share it instead of holding a copy
        if name in values:
            raise ValidationError(f"The feature {name} appears more than once in the Record; give each feature "
                                  "one value.")
        text = item.get("ValueAsString")
        if feature.collection_type:
            if text is not None:
                raise _bad_value(group, feature, text, "a collection feature takes ValueAsStringList, "
                                 "not ValueAsString")
            text = item.get("ValueAsStringList")
            values[name] = _collection(group, feature, text)
        elif text is None:
            raise _bad_value(group, feature, item.get("ValueAsStringList"),
                             "a scalar feature takes ValueAsString")
        elif name == event_time_name:
            event_time = _event_time(group, text)
            values[name] = text if feature.feature_type == "String" else event_time
        else:
            try:
                values[name] = _PARSERS[feature.feature_type](text)
            except (ValueError, TypeError) as exc:
                raise _bad_value(group, feature, text, str(exc)) from None
        texts.append(text)
    for required, role in ((group.record_identifier_name, "record identifier"),
                           (group.event_time_name, "event time")):
        if complete and required not in values:
            raise ValidationError(
                f"The Record is missing the {role} feature {required}. Every Record for FeatureGroup {group.name} "
                f"must contain {group.record_identifier_name} (RecordIdentifierFeatureName) and "
                f"{group.event_time_name} (EventTimeFeatureName).")
    names = tuple(values)
    if len(_LAYOUTS) < 10_000:
        names = _LAYOUTS.setdefault(names, names)
    return Parsed(values, event_time, names, tuple(texts))


def _identifier_key(group: FeatureGroup, value: Any) -> str:
    """The online store key of a parsed record identifier value."""
    if value == "":
        raise ValidationError(f"The record identifier {group.record_identifier_name} must not be empty.")
    return value if isinstance(value, str) else str(value)


def _identifier(group: FeatureGroup, text: Any) -> tuple[str, Any]:
    """(online store key, parsed value) of a record identifier given as a string."""
    feature = group.by_name[group.record_identifier_name]
    if not isinstance(text, str) or not text:
        raise ValidationError(f"RecordIdentifierValueAsString must be a non-empty {feature.feature_type} value "
                              f"of feature {feature.name}.")
    if feature.feature_type == "Integral":
        try:
            value = _integral(text)
        except ValueError as exc:
            raise _bad_value(group, feature, text, str(exc)) from None
        return str(value), value
    return text, text


# --- groups and stores ---------------------------------------------------------------------------


def _not_found_text(name: str) -> str:
    return f"Resource Not Found: Amazon SageMaker can't find a FeatureGroup with name [{name}]."


def _group(ctx: RequestContext, name: str, missing: type[AwsError] = ValidationError) -> FeatureGroup:
    """A Created feature group, else the error AWS answers (missing, being deleted, not yet created)."""
    group = featurestore.find_group(ctx, name)
    if group is None or group.status == "Deleting":
        raise missing(_not_found_text(name))
    if group.status != "Created":
        raise ValidationError(f"FeatureGroup {group.name} is {group.status}; records can be written and read only "
                              "when its FeatureGroupStatus is Created.")
    return group


def _online_group(ctx: RequestContext, name: str, missing: type[AwsError]) -> FeatureGroup:
    group = _group(ctx, name, missing)
    if not group.online_enabled:
        raise ValidationError(f"FeatureGroup {group.name} has no OnlineStore (OnlineStoreConfig.EnableOnlineStore "
                              "is not true), so records cannot be read from it. Query its offline store instead.")
    return group


def _targets(group: FeatureGroup, stores: Any) -> tuple[bool, bool]:
    """(write online, write offline): all of the group's stores unless TargetStores narrows them."""
    has_offline = group.offline_destination is not None
    if stores is None:
        return group.online_enabled, has_offline
    if not isinstance(stores, list) or not stores or len(set(stores)) != len(stores):
        raise ValidationError(f"TargetStores {stores} must list OnlineStore and/or OfflineStore, each at most once.")
    for store in stores:
        if store not in TARGET_STORES:
            raise ValidationError(f"1 validation error detected: Value '{store}' at 'targetStores' failed to "
                                  "satisfy constraint: Member must satisfy enum value set: [OnlineStore, "
                                  "OfflineStore]")
        if (store == "OnlineStore" and not group.online_enabled) or (store == "OfflineStore" and not has_offline):
            raise ValidationError(f"TargetStores names {store}, but FeatureGroup {group.name} has no {store}.")
    return "OnlineStore" in stores, "OfflineStore" in stores


def _ttl_seconds(ttl: Any) -> float | None:
    if ttl is None:
        return None
    if not isinstance(ttl, dict) or ttl.get("Unit") not in _TTL_SECONDS or not isinstance(ttl.get("Value"), int) \
            or ttl["Value"] < 1:
        raise ValidationError(f"TtlDuration {ttl} must have a Unit in [{', '.join(_TTL_SECONDS)}] and a Value of "
                              "at least 1.")
    return ttl["Value"] * _TTL_SECONDS[ttl["Unit"]]


def _put(group: FeatureGroup, record: Any, stores: Any, ttl: Any, invoked: float) -> None:
    parsed = _parse_record(group, record)
    event_time = parsed.event_time
    online, offline = _targets(group, stores)
    if online:
        key = _identifier_key(group, parsed.values[group.record_identifier_name])
        seconds = _ttl_seconds(ttl if ttl is not None else group.online_config.get("TtlDuration"))
        entry = OnlineEntry(event_time, parsed.names, parsed.texts, False, event_time + seconds if seconds else None)
        records = group.online_records
        with group.records_lock:
            current = records.get(key)
            if current is None or event_time >= current.event_time:
                records[key] = entry
    if offline:
        STORE.append(group.offline_destination, Row(parsed.values, event_time, invoked, False))


def _live(group: FeatureGroup, key: str) -> OnlineEntry | None:
    """The online entry a read may return: not soft-deleted, not expired."""
    entry = group.online_records.get(key)
    if entry is None or entry.deleted or (entry.expires_at is not None and time.time() >= entry.expires_at):
        return None
    return entry


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
    return [{"FeatureName": name, ("ValueAsStringList" if isinstance(text, list) else "ValueAsString"): text}
            for name, text in zip(entry.names, entry.texts) if wanted is None or name in wanted]


def _expires_at(entry: OnlineEntry) -> str:
    moment = dt.datetime.fromtimestamp(entry.expires_at, _UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _check_expiration_response(value: Any) -> bool:
    if value is not None and value not in ("Enabled", "Disabled"):
        raise ValidationError(f"1 validation error detected: Value '{value}' at 'expirationTimeResponse' failed to "
                              "satisfy constraint: Member must satisfy enum value set: [Enabled, Disabled]")
    return value == "Enabled"


# --- handlers ------------------------------------------------------------------------------------


@rest_action("PUT", "/FeatureGroup/<path:feature_group>")
def put_record(ctx: RequestContext, body: dict, query: Any, feature_group: str) -> dict:
    group = _group(ctx, feature_group)
    _put(group, body.get("Record"), body.get("TargetStores"), body.get("TtlDuration"), time.time())
    return {}


@rest_action("GET", "/FeatureGroup/<path:feature_group>")
def get_record(ctx: RequestContext, body: dict, query: Any, feature_group: str) -> dict:
    group = _online_group(ctx, feature_group, ResourceNotFound)
    with_expiry = _check_expiration_response(query.get("ExpirationTimeResponse"))
    key = _identifier(group, query.get("RecordIdentifierValueAsString"))[0]
    wanted = _wanted(group, query.getlist("FeatureName"))
    entry = _live(group, key)
    record = _record(entry, wanted) if entry else []
    if not record:
        return {}
    out: dict[str, Any] = {"Record": record}
    if with_expiry and entry.expires_at is not None:
        out["ExpiresAt"] = _expires_at(entry)
    return out


@rest_action("DELETE", "/FeatureGroup/<path:feature_group>")
def delete_record(ctx: RequestContext, body: dict, query: Any, feature_group: str) -> dict:
    group = _group(ctx, feature_group)
    text = query.get("EventTime")
    if not text:
        raise ValidationError("EventTime is required: the time of the deletion, in the event time feature's format.")
    event_time = _event_time(group, text)
    key, identifier = _identifier(group, query.get("RecordIdentifierValueAsString"))
    mode = query.get("DeletionMode", "SoftDelete")
    if mode not in ("SoftDelete", "HardDelete"):
        raise ValidationError(f"1 validation error detected: Value '{mode}' at 'deletionMode' failed to satisfy "
                              "constraint: Member must satisfy enum value set: [SoftDelete, HardDelete]")
    online, offline = _targets(group, query.getlist("TargetStores") or None)
    if online:
        with group.records_lock:
            current = group.online_records.get(key)
            if current is not None and event_time <= current.event_time:
                if mode == "HardDelete":
                    raise ValidationError(
                        f"EventTime {text} of the HardDelete is not later than the EventTime of the record "
                        f"{query.get('RecordIdentifierValueAsString')} in the OnlineStore; nothing was deleted. "
                        "Pass a later EventTime.")
            elif mode == "HardDelete":
                group.online_records.pop(key, None)
            else:
                group.online_records[key] = OnlineEntry(event_time, (), (), True, None)
    if offline:
        event_value = text if group.by_name[group.event_time_name].feature_type == "String" else float(text)
        marker = {group.record_identifier_name: identifier, group.event_time_name: event_value}
        STORE.append(group.offline_destination, Row(marker, event_time, time.time(), True))
    return {}


@rest_action("POST", "/FeatureGroup/<path:feature_group>/Record")
def update_record(ctx: RequestContext, body: dict, query: Any, feature_group: str) -> dict:
    group = _group(ctx, feature_group)
    storage = (group.online_config or {}).get("StorageType")
    if storage not in ("Standard_V2", "InMemory"):
        raise ValidationError(f"UpdateRecord is available only for feature groups whose OnlineStoreConfig.StorageType "
                              f"is Standard_V2 or InMemory; FeatureGroup {group.name} has "
                              f"{storage or 'no OnlineStore'}. Use PutRecord with the whole record.")
    features = body.get("Features")
    if isinstance(features, list) and len(features) > 100:
        raise ValidationError(f"Features lists {len(features)} features; UpdateRecord takes at most 100.")
    online, offline = _targets(group, body.get("TargetStores"))
    if not online:
        raise ValidationError("UpdateRecord cannot target the OfflineStore only; include the OnlineStore.")
    text = body.get("RecordIdentifierValueAsString")
    key, identifier = _identifier(group, text)
    update = _parse_record(group, features, complete=False)
    if update.values.get(group.record_identifier_name, identifier) != identifier:
        raise ValidationError(f"Features sets {group.record_identifier_name} to a value other than "
                              f"RecordIdentifierValueAsString {text}; a record's identifier cannot change.")
    has_event_time = group.event_time_name in update.values
    seconds = _ttl_seconds(body.get("TtlDuration"))
    if seconds and not has_event_time:
        raise ValidationError(f"A TtlDuration needs the event time: include {group.event_time_name} in Features.")
    with group.records_lock:
        current = _live(group, key)
        if current is None:
            raise ResourceNotFound(f"Record {text} does not exist in the OnlineStore of FeatureGroup {group.name} "
                                   "(or was deleted). Create it with PutRecord.")
        if has_event_time and update.event_time < current.event_time:
            raise ConflictException(f"EventTime of the update is older than the EventTime of record {text}; resubmit "
                                    "with an EventTime equal to or newer than the record's current one.")
        merged = dict(zip(current.names, current.texts))
        merged.update(zip(update.names, update.texts))
        event_time = update.event_time if has_event_time else current.event_time
        expires = event_time + seconds if seconds else current.expires_at
        names = tuple(merged)
        entry = OnlineEntry(event_time, _LAYOUTS.get(names, names), tuple(merged.values()), False, expires)
        group.online_records[key] = entry
    if offline:  # the offline store gets the whole record as it now is
        whole = _parse_record(group, _record(entry, None))
        STORE.append(group.offline_destination, Row(whole.values, event_time, time.time(), False))
    return {}


@rest_action("POST", "/BatchGetRecord")
def batch_get_record(ctx: RequestContext, body: dict, query: Any) -> dict:
    identifiers = body.get("Identifiers")
    if not isinstance(identifiers, list) or not 1 <= len(identifiers) <= 100:
        raise ValidationError("Identifiers must list between 1 and 100 feature groups.")
    with_expiry = _check_expiration_response(body.get("ExpirationTimeResponse"))
    records, errors = [], []
    for identifier in identifiers:
        name = identifier.get("FeatureGroupName", "")
        ids = identifier.get("RecordIdentifiersValueAsString") or []
        if len(ids) > 100:
            raise ValidationError(f"RecordIdentifiersValueAsString for {name} lists {len(ids)} identifiers; at most "
                                  "100 are allowed.")
        for record_id in ids:
            try:
                group = _online_group(ctx, name, ResourceNotFound)
                wanted = _wanted(group, identifier.get("FeatureNames"))
                entry = _live(group, _identifier(group, record_id)[0])
                selected = _record(entry, wanted) if entry else []
            except AwsError as err:
                errors.append({"FeatureGroupName": name, "RecordIdentifierValueAsString": record_id,
                               "ErrorCode": err.code, "ErrorMessage": err.message})
                continue
            if selected:
                found = {"FeatureGroupName": name, "RecordIdentifierValueAsString": record_id, "Record": selected}
                if with_expiry and entry.expires_at is not None:
                    found["ExpiresAt"] = _expires_at(entry)
                records.append(found)
    return {"Records": records, "Errors": errors, "UnprocessedIdentifiers": []}


@rest_action("POST", "/BatchWriteRecord")
def batch_write_record(ctx: RequestContext, body: dict, query: Any) -> dict:
    entries = body.get("Entries")
    if not isinstance(entries, list) or not 1 <= len(entries) <= 25:
        raise ValidationError("Entries must hold between 1 and 25 records.")
    invoked, errors = time.time(), []
    for entry in entries:
        try:
            group = _group(ctx, entry.get("FeatureGroupName", ""))
            _put(group, entry.get("Record"), entry.get("TargetStores"),
                 entry.get("TtlDuration", body.get("TtlDuration")), invoked)
        except AwsError as err:
            errors.append({"Entry": entry, "ErrorCode": err.code, "ErrorMessage": err.message})
    return {"Errors": errors, "UnprocessedEntries": []}


@rest_action("POST", "/FeatureGroup/<path:feature_group>/ListRecords")
def list_records(ctx: RequestContext, body: dict, query: Any, feature_group: str) -> dict:
    group = _online_group(ctx, feature_group, ResourceNotFound)
    max_results = body.get("MaxResults", 100)
    if not isinstance(max_results, int) or not 1 <= max_results <= 100:
        raise ValidationError(f"MaxResults {max_results} must be between 1 and 100.")
    include_deleted = bool(body.get("IncludeSoftDeletedRecords"))
    now = time.time()
    with group.records_lock:
        keys = sorted(key for key, entry in group.online_records.items()
                      if (include_deleted or not entry.deleted)
                      and (entry.expires_at is None or now < entry.expires_at))
    token = body.get("NextToken")
    if token:
        keys = [key for key in keys if key > token]
    out: dict[str, Any] = {"RecordIdentifiers": keys[:max_results]}
    if len(keys) > max_results:
        out["NextToken"] = keys[max_results - 1]
    return out
