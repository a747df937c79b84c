"""The SageMaker Experiments entities a pipeline execution creates, as SageMaker Pipelines creates them.

An execution whose definition has a PipelineExperimentConfig (the SDK adds one by default: the
pipeline's name and the execution's id) gets that experiment, created if missing, and in it that
trial (a "run group"), created if missing. Deleting the pipeline keeps them, as on AWS. moto keeps
them and answers the Experiments API, except DescribeExperiment, answered here so that a missing
experiment is ResourceNotFound (moto fails with an internal error).
"""

from __future__ import annotations

from local_aws.core.gateway.context import RequestContext
from local_aws.core.gateway.errors import ResourceNotFound
from local_aws.core.moto import experiments as moto_experiments
from local_aws.core.service import Api
from local_aws.pipelines.execution import Execution


def record(execution: Execution) -> None:
    """Create the execution's experiment and trial (its evaluated PipelineExperimentConfig) unless they exist."""
    experiment = execution.experiment.get("ExperimentName")
    if experiment:
        trial = execution.experiment.get("TrialName")
        moto_experiments.ensure_trial(
            execution.ctx.region, execution.ctx.account_id, str(experiment), str(trial) if trial else None
        )


api = Api("sagemaker")


@api.operation("DescribeExperiment")
def describe_experiment(request: dict, ctx: RequestContext) -> dict:
    name = request["ExperimentName"]
    described = moto_experiments.describe_experiment(ctx.region, ctx.account_id, name)
    if described is None:
        raise ResourceNotFound(
            f"Experiment 'arn:aws:sagemaker:{ctx.region}:{ctx.account_id}:experiment/{name}' does not exist."
        )
    return described
