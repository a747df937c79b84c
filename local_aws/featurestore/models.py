"""The Feature Store's state: features, feature groups and the registry that holds them.

As on AWS, creation is asynchronous (Creating -> Created after
LOCAL_AWS_FEATURE_GROUP_TRANSITION_SECONDS, default 0.5 s), so is deletion (Deleting -> gone) and so
is an update (LastUpdateStatus InProgress -> Successful). Transitions are applied lazily when a group
is next looked at, so no timers run. A group's record holds what the control plane describes; the
runtime keeps its online store apart (online_store.py) and is told when a group is gone. Tags live
on the group; moto's AddTags/ListTags/DeleteTags reach them through a tag target. The registry
tells its listeners when a group changes outside the handlers (a transition, a tag), so the saved
state (durable.py) follows; `saved()` and `from_saved()` turn a group into plain data and back.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local_aws import settings
from local_aws.core.gateway.context import RequestContext
from local_aws.core.gateway.errors import ResourceInUse, ResourceNotFound
from local_aws.core.moto import state as moto_state
from local_aws.featurestore.offline_store import Column, Destination, Row

GroupKey = tuple[str, str, str]  # (account, region, lowercased name): names are unique case-insensitively


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


@dataclass(eq=False)  # compared and hashed by identity: the online store is keyed by the group itself
class FeatureGroup:
    name: str
    arn: str
    account_id: str
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

    def __post_init__(self) -> None:
        self.modified = self.modified or self.created
        self.by_name = {feature.name: feature for feature in self.features}

    @property
    def online_enabled(self) -> bool:
        return self.online_config is not None

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
        out = {
            "FeatureGroupName": self.name,
            "FeatureGroupArn": self.arn,
            "CreationTime": self.created,
            "FeatureGroupStatus": self.status,
        }
        if self.offline_config is not None:
            out["OfflineStoreStatus"] = self.offline_status()
        return out

    def start_transition(self) -> None:
        self.transition_at = time.time() + settings.FEATURE_GROUP_TRANSITION_SECONDS()

    @property
    def is_iceberg(self) -> bool:
        return (self.offline_config or {}).get("TableFormat") == "Iceberg"

    def offline_destination_at(self, bucket: str, prefix: str) -> Destination:
        """Where the offline store's rows go; its columns are read at each write, so added features appear."""
        return Destination(
            account_id=self.account_id,
            role_arn=self.role_arn or "",
            bucket=bucket,
            prefix=prefix,
            columns=self.offline_columns,
            report=self.report_offline_write,
            append_snapshot=self._append_snapshot if self.is_iceberg else None,
        )

    def _append_snapshot(self, rows: list[Row], write_time: float) -> int:
        from local_aws.featurestore import iceberg_store  # pyiceberg takes most of a second to import

        return iceberg_store.append(self, rows, write_time)

    def saved(self) -> dict:
        """The group as plain data to save, taken under the registry's lock: copies of what changes in place
        (features' metadata, tags), the offline destination as its bucket and prefix (not its callbacks)."""
        state = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        state["features"] = [dataclasses.replace(f, parameters=dict(f.parameters)) for f in self.features]
        state["tags"] = [dict(tag) for tag in self.tags]
        destination = state.pop("offline_destination")
        state["offline_target"] = None if destination is None else (destination.bucket, destination.prefix)
        return state

    @classmethod
    def from_saved(cls, state: dict) -> FeatureGroup:
        """The group `saved()` described, with its offline destination connected again."""
        state = dict(state)
        target = state.pop("offline_target")
        group = cls(**state)
        if target is not None:
            group.offline_destination = group.offline_destination_at(*target)
        return group


def group_name(name_or_arn: str) -> str:
    """The name part of a feature group name or ARN (ARNs carry it lowercased)."""
    if name_or_arn.startswith("arn:"):
        return name_or_arn.rpartition(":feature-group/")[2]
    return name_or_arn


def not_found_message(name_or_arn: str) -> str:
    return f"Resource Not Found: Amazon SageMaker can't find a FeatureGroup with name {name_or_arn}"


class GroupRegistry:
    """Every feature group by account, region and name, with its transitions applied as it is read.

    `lock` serialises changes to groups (handlers that update a group hold it); reads go without it.
    """

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._groups: dict[GroupKey, FeatureGroup] = {}
        self._deleted_listeners: list[Callable[[FeatureGroup], None]] = []
        self._changed_listeners: list[Callable[[], None]] = []

    def when_deleted(self, listener: Callable[[FeatureGroup], None]) -> None:
        """Call `listener(group)` once a group's deletion completes (the runtime drops its online store)."""
        self._deleted_listeners.append(listener)

    def when_changed(self, listener: Callable[[], None]) -> None:
        """Call `listener()` after a group changes by itself (a transition) or through moto (its tags)."""
        self._changed_listeners.append(listener)

    def changed(self) -> None:
        for listener in self._changed_listeners:
            listener()

    def find(self, ctx: RequestContext, name_or_arn: str) -> FeatureGroup | None:
        """The feature group as it is now, or None. The runtime calls it on every request: keep it cheap."""
        key = (ctx.account_id, ctx.region, group_name(name_or_arn).lower())
        group = self._groups.get(key)
        if group is None or not group.transition_at:
            return group
        return self._settle(key, group)

    def require(self, ctx: RequestContext, name_or_arn: str) -> FeatureGroup:
        group = self.find(ctx, name_or_arn)
        if group is None:
            raise ResourceNotFound(not_found_message(name_or_arn))
        return group

    def ensure_free(self, ctx: RequestContext, name: str) -> None:
        """Refuse a name a live group holds, in any case (ResourceInUse). Hold `lock` until `add`."""
        if self.find(ctx, name) is not None:
            raise ResourceInUse(
                f"Resource Already Exists: FeatureGroup with name {name} already exists. Choose a different name."
            )

    def add(self, ctx: RequestContext, group: FeatureGroup) -> None:
        with self.lock:
            self._groups[(ctx.account_id, ctx.region, group.name.lower())] = group

    def in_region(self, ctx: RequestContext) -> list[FeatureGroup]:
        """The groups of the caller's account and region that exist now."""
        with self.lock:
            return [
                group
                for key, group in list(self._groups.items())
                if key[:2] == (ctx.account_id, ctx.region) and self._settle(key, group) is not None
            ]

    def forget(self) -> None:
        with self.lock:
            self._groups.clear()

    def entries(self) -> list[tuple[GroupKey, FeatureGroup]]:
        """Every group held, Deleting ones included, as they are (the caller holds `lock` to copy them)."""
        with self.lock:
            return list(self._groups.items())

    def restore(self, groups: list[tuple[GroupKey, FeatureGroup]]) -> None:
        """Hold exactly these groups (saved state loaded at start); pending transitions complete as they are read."""
        with self.lock:
            self._groups = dict(groups)

    def _settle(self, key: GroupKey, group: FeatureGroup) -> FeatureGroup | None:
        """Apply a transition that is due; None when the group is gone (deleted)."""
        if not group.transition_at or time.time() < group.transition_at:
            return group
        with self.lock:
            if group.transition_at and time.time() >= group.transition_at:
                group.transition_at = 0.0
                if group.status == "Creating":
                    group.status = "CreateFailed" if group.failure_reason else "Created"
                elif group.status == "Deleting":
                    if self._groups.get(key) is group:
                        del self._groups[key]
                    for listener in self._deleted_listeners:
                        listener(group)
                    self.changed()
                    return None
                if group.last_update_status == "InProgress":
                    group.last_update_status = "Successful"
                self.changed()
        return group


GROUPS = GroupRegistry()


class _Tagging:
    """What moto's AddTags/ListTags/DeleteTags see of a feature group: its tags, each change written to the
    group and marked changed once made (moto extends the list it reads, or assigns a new one)."""

    def __init__(self, group: FeatureGroup) -> None:
        self.group = group

    @property
    def tags(self) -> list[dict]:
        return _TagList(self)

    @tags.setter
    def tags(self, tags: list[dict]) -> None:
        with GROUPS.lock:
            self.group.tags = list(tags)
        GROUPS.changed()


class _TagList(list):
    """A copy of a group's tags whose `extend` (moto's AddTags) writes through to the group."""

    def __init__(self, owner: _Tagging) -> None:
        super().__init__(owner.group.tags)
        self.owner = owner

    def extend(self, tags: Any) -> None:
        super().extend(tags)
        self.owner.tags = list(self)


def _group_by_arn(arn: str) -> _Tagging | None:
    """The group an ARN names, for moto's AddTags/ListTags/DeleteTags (which keep `group.tags`)."""
    parts = arn.split(":")
    if len(parts) < 6:
        return None
    group = GROUPS.find(RequestContext(region=parts[3], account_id=parts[4]), arn)
    return None if group is None else _Tagging(group)


def reach_tags(home: Path) -> None:
    """At the server's start: let moto's AddTags/ListTags/DeleteTags reach the feature groups."""
    moto_state.add_sagemaker_tag_target("feature-group", _group_by_arn)
