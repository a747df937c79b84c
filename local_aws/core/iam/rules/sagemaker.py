"""SageMaker and the Feature Store runtime: sagemaker:<Operation> on the resource the request names,
plus iam:PassRole on every role it hands to SageMaker (with iam:PassedToService, as AWS checks it).

ARNs follow the Service Authorization Reference: arn:aws:sagemaker:<region>:<account>:<type>/<name>,
the name in lower case as SageMaker writes its ARNs.
"""

from __future__ import annotations

from local_aws.core.iam.authorization import Call, Need
from local_aws.core.iam.credentials import SAGEMAKER_SERVICE

# request member naming the resource -> its ARN's resource type
_RESOURCE_MEMBERS = {
    "FeatureGroupName": "feature-group",
    "PipelineName": "pipeline",
    "ProcessingJobName": "processing-job",
    "TrainingJobName": "training-job",
    "HyperParameterTuningJobName": "hyper-parameter-tuning-job",
    "ModelPackageGroupName": "model-package-group",
    "ModelName": "model",
    "ExperimentName": "experiment",
    "TrialName": "experiment-trial",
    "TrialComponentName": "experiment-trial-component",
    "EndpointName": "endpoint",
    "EndpointConfigName": "endpoint-config",
}
_ARN_MEMBERS = ("PipelineExecutionArn", "ModelPackageArn", "ResourceArn")


def sagemaker_needs(call: Call) -> list[Need]:
    action = f"sagemaker:{call.operation}"
    needs = [Need(action, _resource(call))]
    for role_arn in roles_passed(call.request):
        needs.append(Need.of("iam:PassRole", role_arn, **{"iam:PassedToService": SAGEMAKER_SERVICE}))
    return needs


def _resource(call: Call) -> str:
    request = call.request
    for member in _ARN_MEMBERS:
        if str(request.get(member, "")).startswith("arn:"):
            return request[member]
    name = request.get("ModelPackageName", "")
    if name.startswith("arn:"):
        return name
    for member, kind in _RESOURCE_MEMBERS.items():
        if isinstance(request.get(member), str):
            return f"arn:aws:sagemaker:{call.region}:{call.account_id}:{kind}/{request[member].lower()}"
    return "*"


def roles_passed(request: dict) -> list[str]:
    """The roles a request hands to SageMaker: RoleArn, ExecutionRoleArn, and a tuning job's definitions'."""
    roles = [request[member] for member in ("RoleArn", "ExecutionRoleArn") if isinstance(request.get(member), str)]
    definitions = [request.get("TrainingJobDefinition") or {}, *(request.get("TrainingJobDefinitions") or [])]
    roles += [d["RoleArn"] for d in definitions if isinstance(d.get("RoleArn"), str)]
    return roles
