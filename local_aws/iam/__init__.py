"""IAM: policy simulation, AWS-managed policies on demand, and the Studio identity local_aws can play."""

from local_aws.core.iam.rules import RULES
from local_aws.core.service import BeforeMoto, Service
from local_aws.iam import simulation, studio

SERVICE = Service(
    "iam",
    apis=(simulation.api,),
    rules={"iam": RULES["iam"], "sts": RULES["sts"]},
    before_moto=(BeforeMoto("iam", simulation.MANAGED_POLICY_CALLS, simulation.load_managed_policy),),
    on_start=(studio.play_studio,),
    on_reset=(studio.keep_the_domain,),
    health=(studio.health,),
)

__all__ = ["SERVICE", "simulation", "studio"]
