"""What services inside local_aws ask of S3, Glue and CloudWatch Logs, as calls through the gateway.

Each client makes its calls as one caller (local_aws.core.gateway.context.Caller), so they are validated
and authorized exactly as the same calls over HTTP: the Feature Store writes its offline store as the
feature group's role, a job reads its inputs as its execution role, Athena reads a table as the user who
started the query, via athena.amazonaws.com. A refusal raises the service's AwsError (AccessDenied, say).
"""

from __future__ import annotations

from collections.abc import Iterator

from local_aws.core import gateway
from local_aws.core.gateway.context import Caller
from local_aws.core.gateway.errors import AwsError

_MISSING_OBJECT = ("NoSuchKey", "NoSuchBucket", "404")


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """'s3://bucket/a/b' -> ('bucket', 'a/b')."""
    if not uri.startswith("s3://"):
        raise ValueError(f"{uri!r} is not an S3 URI (s3://bucket/key)")
    bucket, _, key = uri[len("s3://") :].partition("/")
    return bucket, key


class S3:
    """S3 as one caller."""

    def __init__(self, caller: Caller):
        self.caller = caller

    def get(self, bucket: str, key: str) -> bytes | None:
        """The object's body; None when the bucket or key does not exist (any other refusal is raised)."""
        try:
            return gateway.call("s3", "GetObject", {"Bucket": bucket, "Key": key}, self.caller)["Body"]
        except AwsError as error:
            if error.code in _MISSING_OBJECT:
                return None
            raise

    def put(self, bucket: str, key: str, body: bytes) -> None:
        gateway.call("s3", "PutObject", {"Bucket": bucket, "Key": key, "Body": body}, self.caller)

    def bucket_exists(self, bucket: str) -> bool:
        try:
            gateway.call("s3", "HeadBucket", {"Bucket": bucket}, self.caller)
        except AwsError as error:
            if error.code in _MISSING_OBJECT:
                return False
            raise
        return True

    def keys(self, bucket: str, prefix: str = "") -> Iterator[tuple[str, str, int]]:
        """(key, ETag, size) of every object under the prefix, in key order (ListObjectsV2, page by page)."""
        request = {"Bucket": bucket, "Prefix": prefix}
        while True:
            page = gateway.call("s3", "ListObjectsV2", request, self.caller)
            for item in page.get("Contents", []):
                yield item["Key"], item["ETag"], item["Size"]
            if not page.get("IsTruncated"):
                return
            request["ContinuationToken"] = page["NextContinuationToken"]


class Glue:
    """The Glue Data Catalog as one caller."""

    def __init__(self, caller: Caller):
        self.caller = caller

    def table(self, database: str, name: str) -> dict | None:
        """GetTable's Table; None when the database or table does not exist."""
        try:
            return gateway.call("glue", "GetTable", {"DatabaseName": database, "Name": name}, self.caller)["Table"]
        except AwsError as error:
            if error.code == "EntityNotFoundException":
                return None
            raise

    def database_exists(self, name: str) -> bool:
        try:
            gateway.call("glue", "GetDatabase", {"Name": name}, self.caller)
        except AwsError as error:
            if error.code == "EntityNotFoundException":
                return False
            raise
        return True

    def write_table(self, database: str, table_input: dict) -> None:
        """Create the table (and its database when missing), or bring it up to date."""
        if not self.database_exists(database):
            gateway.call("glue", "CreateDatabase", {"DatabaseInput": {"Name": database}}, self.caller)
        request = {"DatabaseName": database, "TableInput": table_input}
        if self.table(database, table_input["Name"]) is None:
            gateway.call("glue", "CreateTable", request, self.caller)
        else:
            gateway.call("glue", "UpdateTable", request, self.caller)
