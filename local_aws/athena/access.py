"""What a query needs of the caller who started it: Athena reads the Glue Data Catalog, the tables' S3
objects and writes the results location with the caller's own permissions (the Athena user guide,
"Identity and access management in Athena"), each of those calls carrying aws:CalledVia
athena.amazonaws.com. A query its caller may not run FAILS with Athena's reason, at the step that needs
the missing permission; StartQueryExecution itself succeeds (it needs athena:StartQueryExecution only).

The account's administrator (principal None) may do everything, so the checks cost nothing for the
tutorial's notebooks outside Studio.
"""

from __future__ import annotations

from local_aws.athena.failures import QueryError
from local_aws.core.iam.authorization import Call, Need, Principal, allowed, denied, needs
from local_aws.core.iam.rules import RULES

CALLED_VIA = (("aws:calledvia", ("athena.amazonaws.com",)),)


def _via_athena(need: Need) -> Need:
    return Need(need.action, need.resource, tuple(sorted(need.context + CALLED_VIA)))


class CallerAccess:
    """The permission checks of one query, as its caller."""

    def __init__(self, principal: Principal, region: str, account_id: str):
        self.principal, self.region, self.account_id = principal, region, account_id

    def _decision(self, need: Need) -> str:
        return allowed(self.principal.identity_arn, _via_athena(need))

    def _glue(self, operation: str, request: dict) -> None:
        for need in needs(Call("glue", operation, request, self.region, self.account_id), RULES["glue"]):
            decision = self._decision(need)
            if decision != "allowed":  # Glue's own AccessDeniedException, as Athena quotes it
                refused = denied(self.principal.arn, need, decision, "glue")
                raise QueryError(
                    "",
                    f"Insufficient permissions to execute the query. {refused.message} (Service: "
                    f"AWSGlue; Status Code: 400; Error Code: {refused.code})",
                    error_type=1000,
                )

    def database(self, name: str) -> None:
        """glue:GetDatabase on the catalog and the database, as Athena looks the schema up."""
        self._glue("GetDatabase", {"Name": name})

    def table(self, database: str, name: str) -> None:
        """glue:GetTable on the catalog, the database and the table."""
        self._glue("GetTable", {"DatabaseName": database, "Name": name})

    def objects(self, bucket: str, prefix: str, keys: list[str]) -> None:
        """s3:ListBucket on the table's location, then s3:GetObject on each object the query reads."""
        if self._decision(Need.of("s3:ListBucket", f"arn:aws:s3:::{bucket}", **{"s3:prefix": prefix})) != "allowed":
            raise QueryError("", f"Permission denied on S3 path: s3://{bucket}/{prefix}", error_type=1000)
        for key in keys:
            if self._decision(Need("s3:GetObject", f"arn:aws:s3:::{bucket}/{key}")) != "allowed":
                raise QueryError(
                    "HIVE_CANNOT_OPEN_SPLIT",
                    f"Error opening Hive split s3://{bucket}/{key}: Access "
                    "Denied (Service: Amazon S3; Status Code: 403; Error Code: AccessDenied)",
                    category=2,
                    error_type=1000,
                )

    def output(self, bucket: str, key: str) -> None:
        """s3:GetBucketLocation on the results bucket and s3:PutObject on the result's key."""
        if self._decision(Need("s3:GetBucketLocation", f"arn:aws:s3:::{bucket}")) != "allowed":
            raise QueryError("", f"Unable to verify/create output bucket {bucket}", error_type=1000)
        if self._decision(Need("s3:PutObject", f"arn:aws:s3:::{bucket}/{key}")) != "allowed":
            raise QueryError(
                "",
                f"Access denied when writing output to url: s3://{bucket}/{key} . Please ensure you "
                "are allowed to access the S3 bucket. If you are encrypting query results with KMS key, "
                "please ensure you are allowed to access your KMS key",
                error_type=1000,
            )
