"""moto's in-process state, for the services local_aws adds: the one module that knows moto's internals.

Feature Store writes its offline store into moto's S3 and its tables into moto's Glue; Athena reads
them back; jobs stage S3 objects and write CloudWatch Logs; models and the Model Registry complete
moto's records; pipelines and feature groups are made visible to moto's tagging calls; Lake Formation
registers locations. Nothing outside this module and its IAM counterpart (local_aws.core.moto.iam)
imports moto (bar the server's app), so upgrades are checked here.

moto's state is durable (local_aws.core.runtime.persistence): the backends of the services the tutorial
uses are pickled whole, except S3's object bodies, which are kept once each as files named by their
ETag and size, so saving after a change costs a pass over the keys, not a copy of every body.
"""

from __future__ import annotations

import functools
import io
import os
import pickle
from collections.abc import Callable, Iterator
from typing import Any

from moto.athena.models import athena_backends
from moto.glue.models import glue_backends
from moto.iam.models import iam_backends
from moto.lakeformation.models import lakeformation_backends
from moto.logs.models import logs_backends
from moto.moto_api._internal.models import moto_api_backend
from moto.s3.models import FakeKey, s3_backends
from moto.sagemaker.exceptions import ValidationError as MotoValidationError
from moto.sagemaker.models import FakePipeline, ModelPackage, SageMakerModelBackend, sagemaker_backends

from local_aws.core.runtime import persistence
from local_aws.core.runtime.config import ACCOUNT_ID
from local_aws.core.runtime.store import FunctionStore

# The moto services whose state is saved: what the tutorial and its notebooks leave behind.
_DURABLE = {
    "s3": s3_backends,
    "iam": iam_backends,
    "glue": glue_backends,
    "logs": logs_backends,
    "sagemaker": sagemaker_backends,
    "athena": athena_backends,
    "lakeformation": lakeformation_backends,
}


def reset() -> None:
    """Forget everything moto holds (buckets, roles, tables, model packages...)."""
    moto_api_backend.reset()
    _on_disk.clear()  # a reset deletes the saved state, object bodies included


_on_disk: set[str] = set()  # the object bodies written beside the snapshot (listed at load, then tracked)
_named: set[str] = set()  # those the newest snapshot names


class _ObjectBodiesApart(pickle.Pickler):
    """Pickles moto's backends with each S3 object's body written once to a file of its own."""

    def __init__(self, file: io.BytesIO, referenced: set[str]):
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.folder, self.referenced = persistence.files("moto"), referenced

    def persistent_id(self, obj: Any) -> Any:
        if not isinstance(obj, FakeKey):
            return None
        state = {k: v for k, v in obj.__dict__.items() if k not in ("_value_buffer", "lock")}
        if obj.disposed:  # a part of a completed multipart upload: moto closed its body, the object holds the bytes
            return "s3-disposed", None, state
        name = f"{obj.etag.strip(chr(34))}-{obj.size}"
        if name not in _on_disk:  # a set lookup, not a stat: a save touches the disk for new bodies only
            partial = self.folder / f"{name}.partial"
            try:
                partial.write_bytes(obj.value)
                os.replace(partial, self.folder / name)
            except OSError:  # a full disk: the save fails, and leaves no half-written body taking room
                partial.unlink(missing_ok=True)
                raise
            _on_disk.add(name)
        self.referenced.add(name)
        return "s3-object", name, state


class _ObjectBodiesBack(pickle.Unpickler):
    def __init__(self, file: io.BytesIO, referenced: set[str]):
        super().__init__(file)
        self.folder, self.referenced = persistence.files("moto"), referenced

    def persistent_load(self, pid: Any) -> FakeKey:
        kind, name, state = pid
        key = FakeKey.__new__(FakeKey)
        if kind == "s3-disposed":
            key.__setstate__({**state, "value": b""})
            key.contentsize = state.get("contentsize", 0)  # the part's size, as moto still answers it
            key.dispose()
            return key
        self.referenced.add(name)
        key.__setstate__({**state, "value": (self.folder / name).read_bytes()})
        return key


def _dump() -> bytes:
    for attempt in (1, 2, 3):
        buffer, referenced = io.BytesIO(), set()
        try:
            _ObjectBodiesApart(buffer, referenced).dump(
                {
                    service: {account: dict(regions) for account, regions in list(backends.items())}
                    for service, backends in _DURABLE.items()
                }
            )
            break
        except RuntimeError:  # "changed size during iteration": a request changed moto meanwhile
            if attempt == 3:
                raise
    _named.clear()
    _named.update(referenced)
    return buffer.getvalue()


def _load(snapshot: bytes) -> None:
    referenced: set[str] = set()
    for service, accounts in _ObjectBodiesBack(io.BytesIO(snapshot), referenced).load().items():
        for account, regions in accounts.items():
            for region, backend in regions.items():
                _DURABLE[service][account][region] = backend
    _named.update(referenced)
    _on_disk.update(name for name in os.listdir(persistence.files("moto")) if not name.endswith(".partial"))
    _drop_unreferenced_bodies()


def _drop_unreferenced_bodies() -> None:
    """Once a snapshot is on disk, the bodies it does not name (overwritten or deleted objects) go."""
    for name in _on_disk - _named:
        (persistence.files("moto") / name).unlink(missing_ok=True)
    _on_disk.intersection_update(_named)


STATE = FunctionStore("moto", _dump, _load, saved=_drop_unreferenced_bodies)
STATE.files_rewritten = False  # each object body is written once, named by its content


def changes(fn: Callable) -> Callable:
    """Marks moto's state changed (to be saved) whenever a function of this module writes to it."""

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        finally:  # after the write: a save that starts before it sees the flag set again
            STATE.changed()

    return call


# --- S3 -------------------------------------------------------------------------------------------
def parse_s3_uri(uri: str) -> tuple[str, str]:
    """'s3://bucket/a/b' -> ('bucket', 'a/b')."""
    if not uri.startswith("s3://"):
        raise ValueError(f"{uri!r} is not an S3 URI (s3://bucket/key)")
    bucket, _, key = uri[len("s3://") :].partition("/")
    return bucket, key


def _s3(account_id: str = ACCOUNT_ID) -> Any:
    return s3_backends[account_id]["aws"]


def bucket_exists(bucket: str, account_id: str = ACCOUNT_ID) -> bool:
    return bucket in _s3(account_id).buckets


@changes
def put_object(bucket: str, key: str, data: bytes, account_id: str = ACCOUNT_ID) -> None:
    _s3(account_id).put_object(bucket, key, data)


def get_object(bucket: str, key: str, account_id: str = ACCOUNT_ID) -> bytes | None:
    try:
        obj = _s3(account_id).get_object(bucket, key)
    except Exception:  # moto raises MissingBucket / MissingKey
        return None
    return None if obj is None else obj.value


def list_keys(bucket: str, prefix: str = "", account_id: str = ACCOUNT_ID) -> Iterator[tuple[str, str, int]]:
    """(key, etag, size) of every current object under the prefix, in key order."""
    found = _s3(account_id).buckets.get(bucket)
    if found is None:
        return
    for key in sorted(k for k in list(found.keys.keys()) if k.startswith(prefix)):
        obj = found.keys.get(key)
        if obj is not None and not getattr(obj, "is_delete_marker", False):
            yield key, obj.etag, obj.size


# --- Glue, Athena workgroups, CloudWatch Logs -----------------------------------------------------
def _glue(region: str, account_id: str = ACCOUNT_ID) -> Any:
    return glue_backends[account_id][region]


def glue_database_exists(region: str, database: str, account_id: str = ACCOUNT_ID) -> bool:
    """Whether the Glue database exists; names compare case-insensitively, as Glue lowercases them."""
    return any(name.lower() == database.lower() for name in list(_glue(region, account_id).databases))


def glue_table(region: str, database: str, table: str, account_id: str = ACCOUNT_ID) -> dict | None:
    """The Glue table's current definition (GetTable's Table), names compared case-insensitively."""
    databases = _glue(region, account_id).databases
    found = next((db for name, db in list(databases.items()) if name.lower() == database.lower()), None)
    if found is None:
        return None
    fake = next((t for name, t in list(found.tables.items()) if name.lower() == table.lower()), None)
    return None if fake is None else fake.as_dict()


@changes
def write_glue_table(region: str, database: str, table: str, table_input: dict, account_id: str = ACCOUNT_ID) -> None:
    """Create the table (and its database when missing), or bring it up to date."""
    glue = _glue(region, account_id)
    if database not in glue.databases:
        glue.create_database(database, {"Name": database})
    if table in glue.databases[database].tables:
        glue.update_table(database, table, table_input)
    else:
        glue.create_table(database, table, table_input)


def athena_workgroup(region: str, name: str, account_id: str = ACCOUNT_ID) -> dict | None:
    """moto's Athena workgroup (Name, State, Configuration), or None if there is none by that name."""
    return athena_backends[account_id][region].get_work_group(name)


@changes
def ensure_log_stream(region: str, group: str, stream: str, account_id: str = ACCOUNT_ID) -> None:
    """Create the CloudWatch Logs group (if missing) and stream, as a job's container does on start."""
    backend = logs_backends[account_id][region]
    if group not in backend.groups:
        backend.create_log_group(group, tags={})
    backend.ensure_log_stream(group, stream)


@changes
def put_log_events(
    region: str, group: str, stream: str, events: list[tuple[int, str]], account_id: str = ACCOUNT_ID
) -> None:
    """Append (timestamp ms, message) events, oldest first, to an existing stream."""
    if events:
        logs_backends[account_id][region].put_log_events(
            group, stream, [{"timestamp": t, "message": m} for t, m in events]
        )


# --- Lake Formation -------------------------------------------------------------------------------
@changes
def register_lake_formation_resource(region: str, account_id: str, resource_arn: str, role_arn: str) -> bool:
    """RegisterResource in moto's Lake Formation; False when the resource is registered already."""
    backend = lakeformation_backends[account_id][region]
    if resource_arn in backend.resources:
        return False
    backend.register_resource(resource_arn, role_arn)
    return True


# --- SageMaker: tags, pipelines, models, the Model Registry ---------------------------------------
def _sagemaker(region: str, account_id: str) -> Any:
    return sagemaker_backends[account_id][region]


_TAG_TARGETS: dict[str, Callable[[str], Any]] = {}


def add_sagemaker_tag_target(resource_type: str, find: Callable[[str], Any]) -> None:
    """Let moto's SageMaker AddTags/ListTags/DeleteTags reach resources local_aws keeps itself.

    `resource_type` is the ARN's resource part (e.g. "feature-group"); `find(arn)` returns an
    object with a `tags` list of Key/Value dicts, or None, which moto answers as it answers a
    missing resource of its own.
    """
    _TAG_TARGETS[resource_type] = find
    original = SageMakerModelBackend._get_resource_from_arn
    if getattr(original, "local_aws_targets", None) is _TAG_TARGETS:
        return

    def _get_resource_from_arn(self: Any, arn: str) -> Any:
        kind, _, name = arn.split(":")[-1].partition("/")
        lookup = _TAG_TARGETS.get(kind)
        if lookup is None:
            return original(self, arn)
        resource = lookup(arn)
        if resource is None:
            raise MotoValidationError(message=f"Could not find {kind} with name {name}")
        return resource

    _get_resource_from_arn.local_aws_targets = _TAG_TARGETS  # type: ignore[attr-defined]
    SageMakerModelBackend._get_resource_from_arn = _get_resource_from_arn


@changes
def mirror_pipeline(
    region: str,
    account_id: str,
    name: str,
    definition: str,
    role_arn: str,
    tags: list[dict],
    display_name: str,
    description: str | None,
    parallelism: dict | None,
) -> None:
    """Record a pipeline in moto too, only so that its tagging calls find it (its definition stays the first)."""
    _sagemaker(region, account_id).pipelines[name.lower()] = FakePipeline(
        name, display_name, definition, description, role_arn, tags, account_id, region, parallelism
    )


@changes
def drop_pipeline_mirror(region: str, account_id: str, name: str) -> None:
    _sagemaker(region, account_id).pipelines.pop(name.lower(), None)


@changes
def create_model(
    region: str,
    account_id: str,
    name: str,
    role_arn: str,
    primary_container: dict | None,
    containers: list | None,
    vpc_config: dict | None,
    tags: list | None,
) -> dict:
    """CreateModel through moto; returns DescribeModel's answer as moto gives it (see describe_model)."""
    return (
        _sagemaker(region, account_id)
        .create_model(
            model_name=name,
            execution_role_arn=role_arn,
            primary_container=primary_container,
            vpc_config=vpc_config,
            containers=containers,
            tags=tags,
        )
        .response_object
    )


def describe_model(region: str, account_id: str, name: str) -> dict | None:
    """DescribeModel's answer as moto gives it (unset members included), or None when there is no such model."""
    return getattr(_sagemaker(region, account_id)._models.get(name), "response_object", None)


def model_package_group_arn(region: str, account_id: str, name: str) -> str | None:
    return getattr(_sagemaker(region, account_id).model_package_groups.get(name), "arn", None)


def model_package_versions(region: str, account_id: str, group: str) -> list[int]:
    """The version numbers of the group's model packages that exist now."""
    packages = list(_sagemaker(region, account_id).model_packages.values())
    return [p.model_package_version or 0 for p in packages if p.model_package_group_name == group]


@changes
def add_model_package_version(region: str, account_id: str, group: str, version: int, args: dict) -> str:
    """Store a versioned model package as moto stores one (so moto's Describe/List/Update see it)."""
    backend = _sagemaker(region, account_id)
    package = ModelPackage(
        model_package_name=group,
        model_package_group_name=group,
        model_package_version=version,
        approval_description=None,
        region_name=region,
        account_id=account_id,
        model_package_type="Versioned",
        **args,
    )
    backend.model_package_name_mapping[package.arn] = package.arn
    backend.model_packages[package.arn] = package
    return package.arn


@changes
def create_model_package(region: str, account_id: str, args: dict) -> str:
    """moto's own CreateModelPackage (unversioned packages, and its errors), returning the ARN."""
    return _sagemaker(region, account_id).create_model_package(**args)


def describe_model_package(region: str, account_id: str, name_or_arn: str) -> dict | None:
    """DescribeModelPackage's answer, or None when there is no such package."""
    backend = _sagemaker(region, account_id)
    package = backend.model_packages.get(backend.model_package_name_mapping.get(name_or_arn, name_or_arn))
    return None if package is None else package.gen_response_object()


@changes
def delete_model_package(region: str, account_id: str, name_or_arn: str) -> bool:
    backend = _sagemaker(region, account_id)
    arn = backend.model_package_name_mapping.get(name_or_arn, name_or_arn)
    if backend.model_packages.pop(arn, None) is None:
        return False
    for key in [k for k, v in backend.model_package_name_mapping.items() if v == arn]:
        del backend.model_package_name_mapping[key]
    return True


@changes
def delete_model_package_group(region: str, account_id: str, name: str) -> None:
    _sagemaker(region, account_id).model_package_groups.pop(name, None)
