"""moto, declared as the service that answers every call no other service of local_aws declares: the IAM rules
of those calls, moto's durable state, and what a reset forgets."""

from local_aws.core.iam import authorization
from local_aws.core.iam.rules import RULES
from local_aws.core.moto import state
from local_aws.core.service import Service

SERVICE = Service(
    "moto",
    rules=RULES,
    stores=(state.STATE,),
    on_reset=(state.reset, authorization.forget_decisions),
)
