"""Athena's calls for one query, made as the query's caller via athena.amazonaws.com.

Athena reads the Glue Data Catalog and the tables' S3 objects, and writes the results, with the
permissions of the caller who started the query (the Athena user guide, "Identity and access
management in Athena"), each call carrying aws:CalledVia athena.amazonaws.com. These are real calls
through the gateway, so IAM decides them as it decides every call; a refusal FAILS the query with the
reason Athena gives at that step. StartQueryExecution itself needs athena:StartQueryExecution only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from local_aws.athena.failures import QueryError
from local_aws.core import gateway
from local_aws.core.gateway.clients import S3, Glue, parse_s3_uri
from local_aws.core.gateway.context import Caller
from local_aws.core.gateway.errors import AwsError

ATHENA = "athena.amazonaws.com"
_REFUSALS = ("AccessDenied", "AccessDeniedException")
_MISSING = ("NoSuchKey", "NoSuchBucket", "404")


@contextmanager
def _refused_as(failure: Callable[[AwsError], QueryError]) -> Iterator[None]:
    """A call the caller may not make fails the query with `failure(error)`; other errors pass."""
    try:
        yield
    except AwsError as error:
        if error.code not in _REFUSALS:
            raise
        raise failure(error) from None


def _glue_refusal(error: AwsError) -> QueryError:
    """Glue's own AccessDeniedException, as Athena quotes it."""
    return QueryError(
        "",
        f"Insufficient permissions to execute the query. {error.message} (Service: AWSGlue; Status Code: 400; "
        f"Error Code: {error.code})",
        error_type=1000,
    )


def split_refusal(connector: str, uri: str) -> QueryError:
    """A data file the caller may not read: `connector` is Hive or Iceberg."""
    return QueryError(
        f"{connector.upper()}_CANNOT_OPEN_SPLIT",
        f"Error opening {connector} split {uri}: Access Denied (Service: Amazon S3; Status Code: 403; "
        "Error Code: AccessDenied)",
        error_type=1000,
    )


class QueryAccess:
    """The Glue and S3 calls of one query, as its caller (a Caller that passed through athena.amazonaws.com)."""

    def __init__(self, caller: Caller):
        self.caller = caller
        self.glue = Glue(caller)
        self.s3 = S3(caller)

    def database_exists(self, name: str) -> bool:
        """GetDatabase, as Athena looks the query's schema up."""
        with _refused_as(_glue_refusal):
            return self.glue.database_exists(name)

    def table(self, database: str, name: str) -> dict | None:
        """GetTable's Table; None when Glue has no such table."""
        with _refused_as(_glue_refusal):
            return self.glue.table(database, name)

    def objects(self, bucket: str, prefix: str) -> list[tuple[str, str, int]]:
        """(key, ETag, size) of the objects under a table's location (ListObjectsV2); a bucket that is gone
        holds none."""
        refused = f"Permission denied on S3 path: s3://{bucket}/{prefix}"
        with _refused_as(lambda _: QueryError("", refused, error_type=1000)):
            try:
                return list(self.s3.keys(bucket, prefix))
            except AwsError as error:
                if error.code != "NoSuchBucket":
                    raise
                return []

    def read(self, uri: str, connector: str) -> bytes | None:
        """GetObject of a data file the query reads; None when it is gone."""
        with _refused_as(lambda _: split_refusal(connector, uri)):
            return self.s3.get(*parse_s3_uri(uri))

    def may_read(self, uri: str, connector: str) -> None:
        """A data file the engine holds already, from an earlier query: the caller must still be allowed to read
        it, as on AWS, where every query reads every file (HeadObject needs what GetObject needs). The account's
        administrator may read everything: no call needed."""
        if self.caller.principal is None:
            return
        bucket, key = parse_s3_uri(uri)
        with _refused_as(lambda _: split_refusal(connector, uri)):
            try:
                gateway.call("s3", "HeadObject", {"Bucket": bucket, "Key": key}, self.caller)
            except AwsError as error:
                if error.code not in _MISSING:  # gone since the listing: the next query sees it
                    raise

    def check_output_bucket(self, bucket: str) -> None:
        """GetBucketLocation on the results bucket, as Athena checks it before it runs the query."""
        refused = f"Unable to verify/create output bucket {bucket}"
        with _refused_as(lambda _: QueryError("", refused, error_type=1000)):
            try:
                gateway.call("s3", "GetBucketLocation", {"Bucket": bucket}, self.caller)
            except AwsError as error:
                if error.code != "NoSuchBucket":
                    raise
                raise QueryError("GENERIC_USER_ERROR", refused, error_type=1000) from None

    def write_result(self, bucket: str, key: str, body: bytes) -> None:
        """PutObject of a result object."""
        refused = (
            f"Access denied when writing output to url: s3://{bucket}/{key} . Please ensure you are allowed to "
            "access the S3 bucket. If you are encrypting query results with KMS key, please ensure you are "
            "allowed to access your KMS key"
        )
        with _refused_as(lambda _: QueryError("", refused, error_type=1000)):
            self.s3.put(bucket, key, body)
