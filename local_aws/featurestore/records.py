"""Records as the Feature Store runtime checks them: values by FeatureType, event times, identifiers.

The server has already checked a record's shape against the model (feature names, value lengths);
here each value must parse as its feature's type (Integral: a 64-bit whole number, Fractional: a
number, String: any text), collections as their CollectionType says, the event time in the format
of its feature's type (ISO-8601 UTC for String, epoch seconds for Fractional) within years
1970-9999, and a complete record must hold the record identifier and the event time. Every
failure is the runtime's ValidationError naming the value, the feature and what was expected.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from typing import Any, NamedTuple

from local_aws.core.gateway.errors import ValidationError
from local_aws.featurestore.models import Feature, FeatureGroup

MAX_EPOCH_SECONDS = 253402300800  # 10000-01-01T00:00:00Z: event times must fall in years 1970-9999

_INTEGRAL = re.compile(r"[+-]?[0-9]{1,19}").fullmatch
_FRACTIONAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|NaN|[+-]?Infinity").fullmatch
_ISO_8601 = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,9}))?Z"
).fullmatch
_UTC = dt.UTC


class Parsed(NamedTuple):
    """A checked record: parsed values for the offline store, the raw texts for the online store."""

    values: dict  # feature name -> int, float, str or list (what the offline store writes)
    event_time: float  # epoch seconds
    names: tuple  # feature names in record order (shared between records of the same layout)
    texts: tuple  # ValueAsString (or ValueAsStringList) per name, as the client sent it


_LAYOUTS: dict[tuple, tuple] = {}  # one shared names tuple per record layout seen


def shared_layout(names: tuple) -> tuple:
    """The one tuple kept for this sequence of feature names, so stored records share it."""
    if len(_LAYOUTS) < 10_000:
        return _LAYOUTS.setdefault(names, names)
    return _LAYOUTS.get(names, names)


def integral(text: str) -> int:
    if _INTEGRAL(text):
        value = int(text)
        if -(1 << 63) <= value < (1 << 63):
            return value
    raise ValueError("expected a whole number that fits in 64 bits, such as 42")


def _fractional(text: str) -> float:
    if _FRACTIONAL(text):
        return float(text)
    raise ValueError("expected a number such as 3.14 or 1e-3")


_PARSERS: dict[str, Callable[[str], Any]] = {"Integral": integral, "Fractional": _fractional, "String": str}


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
    raise ValueError(
        "expected an ISO-8601 UTC time yyyy-MM-dd'T'HH:mm:ssZ or yyyy-MM-dd'T'HH:mm:ss.SSSZ, "
        "such as 2024-01-31T12:00:00Z or 2024-01-31T12:00:00.250Z"
    )


def _epoch_seconds(text: str) -> float:
    if _FRACTIONAL(text):
        epoch = float(text)
        if math.isfinite(epoch) and 0 <= epoch < MAX_EPOCH_SECONDS:
            return epoch
    raise ValueError("expected Unix epoch seconds such as 1706702400 or 1706702400.25")


def event_time(group: FeatureGroup, text: str) -> float:
    """Epoch seconds of an event time given as a string, checked against the event time feature's type."""
    try:
        if group.by_name[group.event_time_name].feature_type == "String":
            return _iso_epoch(text)
        return _epoch_seconds(text)
    except ValueError as exc:
        raise ValidationError(f"Invalid EventTime '{text}' for FeatureGroup {group.name}: {exc}.") from None


def bad_value(group: FeatureGroup, feature: Feature, text: Any, reason: str) -> ValidationError:
    return ValidationError(
        f"Invalid value '{text}' for feature {feature.name} of type {feature.feature_type} "
        f"in FeatureGroup {group.name}: {reason}."
    )


def _collection(group: FeatureGroup, feature: Feature, items: list | None) -> list:
    if items is None:
        raise bad_value(group, feature, items, "a collection feature takes ValueAsStringList")
    parse = _PARSERS[feature.feature_type]
    try:
        values = [None if item is None else parse(item) for item in items]
    except ValueError as exc:
        raise bad_value(group, feature, items, str(exc)) from None
    if feature.collection_type == "Set" and len(set(values)) != len(values):
        raise bad_value(group, feature, items, "a Set holds each value once")
    if feature.collection_type == "Vector":
        dimension = ((feature.collection_config or {}).get("VectorConfig") or {}).get("Dimension")
        if None in values or (dimension is not None and len(values) != dimension):
            raise bad_value(group, feature, items, f"a Vector holds exactly {dimension} non-null values")
    return values


def parse_record(group: FeatureGroup, record: list[dict], complete: bool = True) -> Parsed:
    """The record checked against the group's definitions, or the ValidationError AWS answers.

    A complete record (PutRecord) must hold the record identifier and event time; the features of an
    UpdateRecord need not.
    """
    by_name = group.by_name
    event_time_name = group.event_time_name
    when = 0.0
    values: dict[str, Any] = {}
    texts: list = []
    for item in record:
        feature = by_name.get(item["FeatureName"])
        if feature is None:
            raise ValidationError(
                f"The feature {item['FeatureName']} is not defined in FeatureGroup {group.name}. "
                "Add it with UpdateFeatureGroup (FeatureAdditions) or leave it out of the Record."
            )
        name = feature.name  # the group's own string: records share it instead of holding a copy
        if name in values:
            raise ValidationError(
                f"The feature {name} appears more than once in the Record; give each feature one value."
            )
        text = item.get("ValueAsString")
        if feature.collection_type:
            if text is not None:
                raise bad_value(group, feature, text, "a collection feature takes ValueAsStringList, not ValueAsString")
            text = item.get("ValueAsStringList")
            values[name] = _collection(group, feature, text)
        elif text is None:
            raise bad_value(group, feature, item.get("ValueAsStringList"), "a scalar feature takes ValueAsString")
        elif name == event_time_name:
            when = event_time(group, text)
            values[name] = text if feature.feature_type == "String" else when
        else:
            try:
                values[name] = _PARSERS[feature.feature_type](text)
            except ValueError as exc:
                raise bad_value(group, feature, text, str(exc)) from None
        texts.append(text)
    if complete:
        for required, role in ((group.record_identifier_name, "record identifier"), (event_time_name, "event time")):
            if required not in values:
                raise ValidationError(
                    f"The Record is missing the {role} feature {required}. Every Record for FeatureGroup "
                    f"{group.name} must contain {group.record_identifier_name} (RecordIdentifierFeatureName) and "
                    f"{event_time_name} (EventTimeFeatureName)."
                )
    return Parsed(values, when, shared_layout(tuple(values)), tuple(texts))


def identifier_key(group: FeatureGroup, value: Any) -> str:
    """The online store key of a parsed record identifier value."""
    if value == "":
        raise ValidationError(f"The record identifier {group.record_identifier_name} must not be empty.")
    return value if isinstance(value, str) else str(value)


def identifier(group: FeatureGroup, text: str) -> tuple[str, Any]:
    """(online store key, parsed value) of a record identifier given as a string."""
    feature = group.by_name[group.record_identifier_name]
    if not text:
        raise ValidationError(
            f"RecordIdentifierValueAsString must be a non-empty {feature.feature_type} value of feature {feature.name}."
        )
    if feature.feature_type == "Integral":
        try:
            value = integral(text)
        except ValueError as exc:
            raise bad_value(group, feature, text, str(exc)) from None
        return str(value), value
    return text, text
