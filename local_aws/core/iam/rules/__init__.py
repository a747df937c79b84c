"""What each AWS service's calls need from IAM: actions, resources and condition keys, as AWS documents them.

Each module says, from the Service Authorization Reference, the IAM actions a call of its service needs and
the ARNs of the resources it acts on; RULES names them by botocore service, and the services that answer
those calls declare them (local_aws.core.service.Service.rules). A service without rules needs
`<prefix>:<Operation>` on `*`.
"""

from local_aws.core.iam.authorization import Rules
from local_aws.core.iam.rules import athena, glue, iam_sts, logs, s3, sagemaker

RULES: dict[str, Rules] = {
    "s3": s3.s3_needs,
    "glue": glue.glue_needs,
    "iam": iam_sts.iam_needs,
    "sts": iam_sts.sts_needs,
    "logs": logs.logs_needs,
    "athena": athena.athena_needs,
    "sagemaker": sagemaker.sagemaker_needs,
    "sagemaker-featurestore-runtime": sagemaker.sagemaker_needs,
}
