"""Reading and writing moto's in-process state, so the services local_aws adds share it.

Feature Store writes its offline store into moto's S3 and its tables into moto's Glue; Athena reads
them back; jobs stage S3 objects and write CloudWatch Logs. One place knows moto's internals.
"""
from __future__ import annotations

from typing import Any, Iterator

from moto.glue.models import glue_backends
from moto.iam.models import iam_backends
from moto.logs.models import logs_backends
from moto.s3.models import s3_backends
from moto.sagemaker.models import sagemaker_backends

from local_aws.config import ACCOUNT_ID


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """'s3://bucket/a/b' -> ('bucket', 'a/b')."""
    if not uri.startswith("s3://"):
        raise ValueError(f"{uri!r} is not an S3 URI (s3://bucket/key)")
    bucket, _, key = uri[len("s3://"):].partition("/")
    return bucket, key


def _s3(account_id: str = ACCOUNT_ID) -> Any:
    return s3_backends[account_id]["aws"]


def bucket_exists(bucket: str, account_id: str = ACCOUNT_ID) -> bool:
    return bucket in _s3(account_id).buckets


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
    backend = _s3(account_id)
    found = backend.buckets.get(bucket)
    if found is None:
        return
    for key in sorted(k for k in list(found.keys.keys()) if k.startswith(prefix)):
        obj = found.keys.get(key)
        if obj is not None and not getattr(obj, "is_delete_marker", False):
            yield key, obj.etag, obj.size


def glue(region: str, account_id: str = ACCOUNT_ID) -> Any:
    return glue_backends[account_id][region]


def logs(region: str, account_id: str = ACCOUNT_ID) -> Any:
    return logs_backends[account_id][region]


def ensure_log_stream(region: str, group: str, stream: str, account_id: str = ACCOUNT_ID) -> None:
    """Create the CloudWatch Logs group (if missing) and stream, as a job's container does on start."""
    backend = logs(region, account_id)
    if group not in backend.groups:
        backend.create_log_group(group, tags={})
    backend.ensure_log_stream(group, stream)


def put_log_events(region: str, group: str, stream: str, events: list[tuple[int, str]],
                   account_id: str = ACCOUNT_ID) -> None:
    """Append (timestamp ms, message) events, oldest first, to an existing stream."""
    if events:
        logs(region, account_id).put_log_events(group, stream, [{"timestamp": t, "message": m} for t, m in events])


def iam(account_id: str = ACCOUNT_ID) -> Any:
    """moto's IAM backend (global: one per partition)."""
    return iam_backends[account_id]["aws"]


def sagemaker(region: str, account_id: str = ACCOUNT_ID) -> Any:
    """moto's SageMaker backend (models, model packages, tags of pipelines)."""
    return sagemaker_backends[account_id][region]


def glue_database_exists(region: str, database: str, account_id: str = ACCOUNT_ID) -> bool:
    """Whether the Glue database exists; names compare case-insensitively, as Glue lowercases them."""
    return any(name.lower() == database.lower() for name in list(glue(region, account_id).databases))


def glue_table(region: str, database: str, table: str, account_id: str = ACCOUNT_ID) -> dict | None:
    """The Glue table's current definition (GetTable's Table), names compared case-insensitively."""
    databases = glue(region, account_id).databases
    found = next((db for name, db in list(databases.items()) if name.lower() == database.lower()), None)
    if found is None:
        return None
    fake = next((t for name, t in list(found.tables.items()) if name.lower() == table.lower()), None)
    return None if fake is None else fake.as_dict()


def athena_workgroup(region: str, name: str, account_id: str = ACCOUNT_ID) -> dict | None:
    """moto's Athena workgroup (Name, State, Configuration), or None if there is none by that name."""
    from moto.athena.models import athena_backends

    return athena_backends[account_id][region].get_work_group(name)


_SAGEMAKER_TAG_TARGETS: dict[str, Any] = {}


def add_sagemaker_tag_target(resource_type: str, find: Any) -> None:
    """Let moto's SageMaker AddTags/ListTags/DeleteTags reach resources local_aws keeps itself.

    `resource_type` is the ARN's resource part (e.g. "feature-group"); `find(arn)` returns an
    object with a `tags` list of Key/Value dicts, or None, which moto answers as it answers a
    missing resource of its own.
    """
    from moto.sagemaker.exceptions import ValidationError
    from moto.sagemaker.models import SageMakerModelBackend

    _SAGEMAKER_TAG_TARGETS[resource_type] = find
    original = SageMakerModelBackend._get_resource_from_arn
    if getattr(original, "local_aws_targets", None) is _SAGEMAKER_TAG_TARGETS:
        return

    def _get_resource_from_arn(self: Any, arn: str) -> Any:
        kind, _, name = arn.split(":")[-1].partition("/")
        lookup = _SAGEMAKER_TAG_TARGETS.get(kind)
        if lookup is None:
            return original(self, arn)
        resource = lookup(arn)
        if resource is None:
            raise ValidationError(message=f"Could not find {kind} with name {name}")
        return resource

    _get_resource_from_arn.local_aws_targets = _SAGEMAKER_TAG_TARGETS  # type: ignore[attr-defined]
    SageMakerModelBackend._get_resource_from_arn = _get_resource_from_arn
