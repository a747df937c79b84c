"""IAM: policy simulation, AWS-managed policies on demand, and the Studio identity local_aws can play."""

from local_aws.iam import simulation, studio

__all__ = ["simulation", "studio"]
