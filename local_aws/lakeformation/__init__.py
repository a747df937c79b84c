"""Lake Formation: RegisterResource checks its role in IAM (through the gateway) before moto records the
registration; moto keeps the rest (see service)."""

from local_aws.core.service import Service
from local_aws.lakeformation import service

SERVICE = Service("lakeformation", apis=(service.api,))

__all__ = ["SERVICE"]
