"""SageMaker models: DescribeModel shaped as AWS answers it (moto keeps the models; see service)."""

from local_aws.core.iam.rules import RULES
from local_aws.core.service import Service
from local_aws.sagemaker_models import service

SERVICE = Service("sagemaker_models", apis=(service.api,), rules={"sagemaker": RULES["sagemaker"]})

__all__ = ["SERVICE"]
