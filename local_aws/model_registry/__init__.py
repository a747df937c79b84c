"""The Model Registry calls moto lacks or gets wrong: deletes, group policies, batch describe, version numbers
that never repeat (moto keeps the model packages and groups themselves; what the registry adds is its own
store, per account and region; see service)."""

from local_aws.core.iam.rules import RULES
from local_aws.core.service import Service
from local_aws.model_registry import service

SERVICE = Service(
    "model_registry",
    apis=(service.api,),
    rules={"sagemaker": RULES["sagemaker"]},
    stores=(service.STORE,),
)

__all__ = ["SERVICE"]
