"""Who sends a request: the principal its credentials belong to.

Today the access key a request is signed with names its principal (local_aws.core.iam.authorization
.principal_of); the key local_aws hands out, or any key moto did not issue, is the account's administrator.
"""

from __future__ import annotations

from local_aws.core.gateway import wire
from local_aws.core.iam.authorization import Principal
from local_aws.core.iam.authorization import principal_of as principal_of_key


def principal_of(environ: dict) -> Principal | None:
    """The principal whose policies decide for this request; None for the account's administrator."""
    return principal_of_key(wire.access_key(environ))
