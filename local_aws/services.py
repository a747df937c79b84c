"""The services a local_aws server serves, in order: moto's state loads first, and each later service's
reset hooks run once moto's state is empty (so the Studio identity can put its role back)."""

from local_aws import (
    athena,
    featurestore,
    iam,
    jobs,
    lakeformation,
    model_registry,
    pipelines,
    sagemaker_models,
    tuning,
)
from local_aws.core.moto import service as moto
from local_aws.core.service import Service

SERVICES: tuple[Service, ...] = (
    moto.SERVICE,
    iam.SERVICE,
    model_registry.SERVICE,
    sagemaker_models.SERVICE,
    lakeformation.SERVICE,
    featurestore.SERVICE,
    athena.SERVICE,
    jobs.SERVICE,
    tuning.SERVICE,
    pipelines.SERVICE,
)
