"""The SageMaker Experiments entities a pipeline execution creates, as SageMaker Pipelines creates them.

An execution whose definition has a PipelineExperimentConfig (the SDK adds one by default: the pipeline's
name and the execution's id) gets that experiment, created if missing, and in it that trial (a "run group"),
created if missing: an existing one is kept as it is. SageMaker creates them itself, in the execution's
account and region: the pipeline's role needs no Experiments permission (AWS's "IAM Access Management" for
Pipelines lists none), so they are created as the service, through the gateway. Deleting the pipeline keeps
them, as on AWS. moto keeps them and answers the Experiments API, except DescribeExperiment, answered here
(from moto's ListExperiments) so that a missing experiment is ResourceNotFound (moto fails with an internal
error).
"""

from __future__ import annotations

from local_aws.core import gateway
from local_aws.core.gateway.context import Caller, RequestContext
from local_aws.core.gateway.errors import AwsError, ResourceNotFound
from local_aws.core.service import Api
from local_aws.pipelines.execution import Execution

_MISSING_TRIAL = ("ResourceNotFound", "ValidationException")  # AWS's code, and moto's for the same case


def record(execution: Execution) -> None:
    """Create the execution's experiment and trial (its evaluated PipelineExperimentConfig) unless they exist."""
    experiment = execution.experiment.get("ExperimentName")
    if not experiment:
        return
    service, trial = execution.as_service, execution.experiment.get("TrialName")
    if _experiment(str(experiment), service) is None:
        gateway.call("sagemaker", "CreateExperiment", {"ExperimentName": str(experiment)}, service)
    if trial and not _trial_exists(str(trial), service):
        gateway.call("sagemaker", "CreateTrial", {"TrialName": str(trial), "ExperimentName": str(experiment)}, service)


def _experiment(name: str, caller: Caller) -> dict | None:
    """The experiment's summary (ListExperiments, page by page), or None when there is none by that name."""
    request: dict = {"MaxResults": 100}
    while True:
        page = gateway.call("sagemaker", "ListExperiments", request, caller)
        found = next((e for e in page.get("ExperimentSummaries", []) if e["ExperimentName"] == name), None)
        if found is not None or not page.get("NextToken"):
            return found
        request["NextToken"] = page["NextToken"]


def _trial_exists(name: str, caller: Caller) -> bool:
    try:
        gateway.call("sagemaker", "DescribeTrial", {"TrialName": name}, caller)
    except AwsError as error:
        if error.code in _MISSING_TRIAL:
            return False
        raise
    return True


api = Api("sagemaker")


@api.operation("DescribeExperiment")
def describe_experiment(request: dict, ctx: RequestContext) -> dict:
    name = request["ExperimentName"]
    described = _experiment(name, Caller(account_id=ctx.account_id, region=ctx.region))  # read as the service
    if described is None:
        raise ResourceNotFound(
            f"Experiment 'arn:aws:sagemaker:{ctx.region}:{ctx.account_id}:experiment/{name}' does not exist."
        )
    return described
