"""Who calls: the caller of a call, and the context a handler receives.

Every call has a caller, whether it arrived over HTTP (its access key names it) or is made inside local_aws
(a pipeline's step acts as the pipeline's role, a job as its execution role, Athena as the user who started
the query): the principal whose policies decide (None for the account's administrator, who may do
everything), the account and region it is made in, and the services it passed through on the principal's
behalf (IAM's aws:CalledVia, e.g. athena.amazonaws.com for the S3 reads of a query).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from local_aws.core.runtime.config import ACCOUNT_ID, DEFAULT_REGION

if TYPE_CHECKING:
    from local_aws.core.iam.authorization import Principal

SAGEMAKER_SESSION = "SageMaker"  # the session name SageMaker acts under with a role it was given


@dataclass(frozen=True)
class Caller:
    """Who makes a call: the principal whose policies decide, where, and through which services."""

    principal: Principal | None = None  # None: the account's administrator
    account_id: str = ACCOUNT_ID
    region: str = DEFAULT_REGION
    called_via: tuple[str, ...] = ()  # aws:CalledVia, first service first
    source_arn: str = ""  # aws:SourceArn: the resource on whose behalf a service calls (a tuning job, say)

    @classmethod
    def role(cls, role_arn: str, region: str, session_name: str = SAGEMAKER_SESSION) -> Caller:
        """A session of `role_arn`, as a service acts with a role it was handed (a pipeline's steps, a job)."""
        from local_aws.core.iam.authorization import acting_as

        return cls(acting_as(role_arn, session_name), role_arn.split(":")[4] or ACCOUNT_ID, region)

    def via(self, service_principal: str) -> Caller:
        """The same caller, its call made on its behalf by a service (aws:CalledVia gains that service)."""
        return replace(self, called_via=(*self.called_via, service_principal))

    def for_resource(self, arn: str) -> Caller:
        """The same caller acting for a resource of a service (aws:SourceArn), e.g. a tuning job's training jobs."""
        return replace(self, source_arn=arn)


@dataclass(frozen=True)
class RequestContext:
    """What a handler knows of the call it answers: who calls, which operation, and how the server is reached."""

    region: str = DEFAULT_REGION
    account_id: str = ACCOUNT_ID
    endpoint_url: str = ""  # how processes started by the server reach it
    service: str = ""  # botocore's name of the service called
    operation: str = ""
    principal: Principal | None = None  # None: the account's administrator
    called_via: tuple[str, ...] = ()
    source_arn: str = ""

    @classmethod
    def of(cls, caller: Caller, endpoint_url: str, service: str = "", operation: str = "") -> RequestContext:
        return cls(
            caller.region,
            caller.account_id,
            endpoint_url,
            service,
            operation,
            caller.principal,
            caller.called_via,
            caller.source_arn,
        )

    @property
    def caller(self) -> Caller:
        return Caller(self.principal, self.account_id, self.region, self.called_via, self.source_arn)
