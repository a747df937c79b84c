"""What each service's calls need from IAM: actions, resources and condition keys, as AWS documents them.

Each module declares, with local_aws.core.iam.authorization.rules, the IAM actions a call of its service
needs and the ARNs of the resources it acts on, from the Service Authorization Reference. Services
without rules need `<prefix>:<Operation>` on `*`.
"""

from local_aws.core.iam.rules import athena, glue, iam_sts, logs, s3, sagemaker

__all__ = ["athena", "glue", "iam_sts", "logs", "s3", "sagemaker"]
