"""The jobs service called from inside local_aws: a pipeline's step starts and watches its job here.

The same functions answer the HTTP calls (see service), so a job started here is the job the API
lists and describes. A request made in-process is validated against botocore's model and authorized
for the caller in `ctx` (a pipeline's role) as the server does the API's requests, and refused with
the same AwsError.
"""

from __future__ import annotations

from dataclasses import replace

from local_aws.core.gateway import validation
from local_aws.core.gateway.context import RequestContext
from local_aws.core.iam import authorization
from local_aws.core.iam.authorization import Call
from local_aws.core.iam.rules import RULES
from local_aws.jobs import models, runner, service
from local_aws.jobs.models import JobKind


def start_job(kind: JobKind, request: dict, ctx: RequestContext, tuning_job_arn: str | None = None) -> str:
    """Create<Kind>Job from within local_aws: validates the request as the API does, creates and starts
    the job (for a tuning job, naming it), and returns its ARN. Raises the AwsError the API would answer."""
    operation = f"Create{kind.value}Job"
    validation.validate("sagemaker", operation, request)
    call = Call("sagemaker", operation, request, ctx.region, ctx.account_id)
    authorization.authorize(ctx.principal, call, RULES["sagemaker"])
    return runner.start(kind, request, replace(ctx, service="sagemaker", operation=operation), tuning_job_arn).arn


def describe_job(kind: JobKind, name: str, ctx: RequestContext) -> dict:
    """Describe<Kind>Job's answer."""
    return service.describe(kind, name, ctx)


def stop_job(kind: JobKind, name: str, ctx: RequestContext) -> None:
    """Stop<Kind>Job."""
    runner.stop(kind, name, ctx)


def wait_for_job(kind: JobKind, name: str, ctx: RequestContext, timeout: float) -> str:
    """Block until the job is Completed, Failed or Stopped, or `timeout` seconds pass (an Event, not
    polling); return its status then."""
    job = models.find(kind, name, ctx)
    job.finished.wait(timeout)
    return job.status
