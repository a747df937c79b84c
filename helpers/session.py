"""One call that points boto3 and the SageMaker SDK at AWS or at local_aws, then gets out of the way.

    setup = helpers.configure(backend="local", region="us-east-1", project="abalone")

After it, every notebook cell is plain boto3 / SageMaker SDK v3 code, the same for both backends.
For `backend="local"` it starts local_aws if needed, exports its endpoint and the key pair it issued
you into this process's environment (boto3 and the SDK read them; so do kernels and jobs started
from here), switches the SDK's telemetry off and refuses every connection outside loopback.
For `backend="aws"` it uses your credentials and the SDK's default bucket; the execution role is your
Studio execution role inside SageMaker Studio, else the project's role that notebook 00 creates.
When local_aws plays a Studio domain (started with LOCAL_AWS_IDENTITY=studio), the kernel gets that
domain's execution role and its credentials, as a Studio kernel does.
"""

from __future__ import annotations

import os
import re
import warnings
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import boto3

from helpers import sdk
from helpers.names import Names
from helpers.paths import REPO

BACKENDS = ("local", "aws")
ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")


@dataclass
class Setup:
    """What every notebook needs: sessions, identity, role, bucket and the project's names."""

    backend: str
    region: str
    account: str
    role_arn: str
    bucket: str
    names: Names
    boto_session: boto3.Session = field(repr=False)
    endpoint_url: str | None = None  # None on AWS: each client uses its regional AWS endpoint

    @property
    def poll_seconds(self) -> int:
        """How often to ask for a job's or execution's status: AWS takes minutes, local_aws seconds."""
        return 1 if self.backend == "local" else 15

    @cached_property
    def sagemaker_session(self):
        """The SDK v3 Session (sagemaker.core.helper.session_helper.Session) on the same boto3 session.

        Made on first use: importing the SDK takes seconds, and some notebooks need boto3 only.
        Its default bucket is `bucket` and its default prefix the project's, so whatever the SDK
        uploads (code, outputs) lands under s3://<bucket>/<project>/ as well.
        """
        from sagemaker.core.helper.session_helper import Session

        return Session(
            boto_session=self.boto_session, default_bucket=self.bucket, default_bucket_prefix=self.names.prefix
        )

    def s3_uri(self, *parts: str) -> str:
        """s3://<bucket>/<project>/<parts...>"""
        return self.names.s3_uri(self.bucket, *parts)

    def describe(self) -> str:
        where = f"local_aws at {self.endpoint_url}" if self.backend == "local" else "AWS"
        return "\n".join(
            [
                f"backend      {self.backend} ({where})",
                f"region       {self.region}",
                f"account      {self.account}",
                f"role         {self.role_arn}",
                f"bucket       s3://{self.bucket}/{self.names.prefix}/",
                f"project      {self.names.project}",
            ]
        )

    def _repr_pretty_(self, printer, cycle) -> None:  # IPython display
        printer.text(self.describe())


def short_path_warning(
    message: Warning | str, category: type[Warning], filename: str, lineno: int, line: str | None = None
) -> str:
    """A warning as Python shows it, with the file named as a reader can find it anywhere: relative to
    the installed packages (sagemaker/core/...) or to the project, not as a path of this machine."""
    path = filename.replace(os.sep, "/")
    if "/site-packages/" in path:
        filename = path.split("/site-packages/", 1)[1]
    elif path.startswith(str(REPO) + "/"):
        filename = path[len(str(REPO)) + 1 :]
    return _FORMAT_WARNING(message, category, filename, lineno, line)


_FORMAT_WARNING = warnings.formatwarning


def configure(
    backend: str = "local",
    region: str | None = None,
    project: str = "abalone",
    role_arn: str | None = None,
    bucket: str | None = None,
) -> Setup:
    """Configure this process for `backend` ("local" or "aws") and return the sessions to use.

    region: default on AWS: the session's (AWS_REGION, AWS_DEFAULT_REGION or your AWS config; Studio sets
      it to the domain's), locally: us-east-1.
    role_arn: the SageMaker execution role; default: inside SageMaker Studio (or local_aws playing it)
      the Studio execution role, elsewhere the project's role `<project>-sagemaker-execution`, which
      notebook 00 creates.
    bucket: default `sagemaker-<region>-<account>`, the SDK's default bucket.
    """
    names = Names(project)
    if role_arn and not ROLE_ARN.match(role_arn):
        raise ValueError(
            f"role_arn={role_arn!r} is not an IAM role ARN: use the form "
            "arn:aws:iam::<12-digit account>:role/<name>, or None for the default role"
        )
    sdk.quiet()
    sdk.check_each_schema_once()
    warnings.formatwarning = short_path_warning
    if backend == "local":
        return _configure_local(region, names, role_arn, bucket)
    if backend == "aws":
        return _configure_aws(region, names, role_arn, bucket)
    raise ValueError(
        f"backend={backend!r} is not one of {BACKENDS}: use 'local' (offline, the default) or 'aws' (your AWS account)"
    )


def _configure_local(region: str | None, names: Names, role_arn: str | None, bucket: str | None) -> Setup:
    import local_aws
    from local_aws.job_side import netguard

    netguard.install()  # first: nothing below may reach the network
    region = region or local_aws.DEFAULT_REGION
    health = local_aws.ensure_running()
    _forget_every_identity()  # the identity of an earlier configure() (or AWS's) must not linger
    home = Path(health["log"]).parent  # the server's: its key pair for this user, a Studio kernel's token
    token = ""
    if health.get("identity") == "studio":  # a Studio kernel's credentials, from the credentials endpoint
        token = (home / health["credentials_token_file"]).read_text().strip()
    os.environ.update(local_aws.client_environment(health["port"], region, credentials_token=token, home=home))
    boto_session = _default_boto_session(region)
    account = boto_session.client("sts").get_caller_identity()["Account"]
    role_arn = role_arn or health.get("execution_role") or project_role_arn(account, names)
    bucket = bucket or default_bucket_name(region, account)
    return Setup("local", region, account, role_arn, bucket, names, boto_session, endpoint_url=health["endpoint"])


def _configure_aws(region: str | None, names: Names, role_arn: str | None, bucket: str | None) -> Setup:
    _forget_local_environment()
    region = region or boto3.Session().region_name
    if not region:
        raise ValueError("no AWS region: pass region='eu-west-1' (say), or set AWS_REGION or your AWS config's region")
    boto_session = _default_boto_session(region)
    if role_arn:
        account = role_arn.split(":")[4]
    else:
        account = boto_session.client("sts").get_caller_identity()["Account"]
    bucket = bucket or default_bucket_name(region, account)
    setup = Setup("aws", region, account, role_arn or project_role_arn(account, names), bucket, names, boto_session)
    if not role_arn and in_studio():
        from sagemaker.core.helper.session_helper import get_execution_role

        setup.role_arn = get_execution_role(setup.sagemaker_session)  # reads Studio's metadata file
    return setup


def in_studio() -> bool:
    """Whether this kernel runs in SageMaker Studio (or a notebook instance): the SDK's own test, its metadata file."""
    from sagemaker.core.helper.session_helper import NOTEBOOK_METADATA_FILE

    return os.path.exists(NOTEBOOK_METADATA_FILE)


def project_role_arn(account: str, names: Names) -> str:
    """The execution role notebook 00 creates outside Studio: your own identity is no role SageMaker can assume."""
    return f"arn:aws:iam::{account}:role/{names.role}"


def _default_boto_session(region: str) -> boto3.Session:
    """A session for `region`, also made boto3's default: SDK code that creates its own clients
    (some at import time, e.g. sagemaker.mlops) then uses the same region and endpoint."""
    boto3.setup_default_session(region_name=region)
    return boto3.DEFAULT_SESSION


def default_bucket_name(region: str, account: str) -> str:
    """The bucket the SageMaker SDK uses by default (named without asking STS at a fixed endpoint)."""
    return f"sagemaker-{region}-{account}"


def _forget_local_environment() -> None:
    """Drop what a local configure() (or `local_aws env`) exported, so AWS mode cannot talk to local_aws by
    mistake (local_aws's endpoint and key pair, or a Studio kernel's credentials endpoint)."""
    from local_aws.core.runtime.config import CLIENT_VARIABLES, HOST

    studio_kernel = "/_local_aws/" in os.environ.get("AWS_CONTAINER_CREDENTIALS_FULL_URI", "")
    if not studio_kernel and not os.environ.get("AWS_ENDPOINT_URL", "").startswith(f"http://{HOST}:"):
        return
    for name in CLIENT_VARIABLES:
        os.environ.pop(name, None)


def _forget_every_identity() -> None:
    """Drop every credential the environment holds (an earlier configure()'s, or AWS's with a session token that
    would go with local_aws's key pair), before a local configure() exports local_aws's."""
    from local_aws.core.runtime.config import CLIENT_VARIABLES, STALE_VARIABLES

    for name in CLIENT_VARIABLES + STALE_VARIABLES:
        os.environ.pop(name, None)
