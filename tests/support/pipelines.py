"""Builders for SageMaker Pipelines tests: definitions written by hand as the SDK would emit them,
and calls that create, start and wait for pipelines through a boto3 SageMaker client."""

from __future__ import annotations

import json
import textwrap
from typing import Any

from support import wait_until

ROLE = "arn:aws:iam::123456789012:role/PipelineRole"
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
BUCKET = "pipeline-bucket"
SDK_BUCKET = "sagemaker-us-east-1-123456789012"  # the SDK's default bucket in the SDK tests
SDK_MODEL_GROUP = "abalone-models"
SPEC = {
    "Containers": [{"Image": IMAGE, "ModelDataUrl": "s3://bucket/model.tar.gz"}],
    "SupportedContentTypes": ["text/csv"],
    "SupportedResponseMIMETypes": ["text/csv"],
}
RUNNING = ("Executing", "Stopping")


# --- definitions -----------------------------------------------------------------------------------


def definition(steps: list, parameters: list | None = None, **extra: Any) -> str:
    return json.dumps(
        {"Version": "2020-12-01", "Metadata": {}, "Parameters": parameters or [], "Steps": steps, **extra}
    )


def condition(name: str, conditions: list, if_steps: list = (), else_steps: list = (), **extra: Any) -> dict:
    return {
        "Name": name,
        "Type": "Condition",
        "Arguments": {"Conditions": conditions, "IfSteps": list(if_steps), "ElseSteps": list(else_steps)},
        **extra,
    }


def fail(name: str, message: Any, **extra: Any) -> dict:
    return {"Name": name, "Type": "Fail", "Arguments": {"ErrorMessage": message}, **extra}


def register(name: str, group: str = "models", **extra: Any) -> dict:
    return {
        "Name": name,
        "Type": "RegisterModel",
        "Arguments": {
            "ModelPackageGroupName": group,
            "InferenceSpecification": json.loads(json.dumps(SPEC)),
            "ModelApprovalStatus": "PendingManualApproval",
            "ModelMetrics": {
                "ModelQuality": {
                    "Statistics": {"ContentType": "application/json", "S3Uri": "s3://bucket/evaluation.json"}
                }
            },
        },
        **extra,
    }


def processing(name: str, code: str, *, args: Any = (), inputs: Any = (), outputs: Any = (), **extra: Any) -> dict:
    """A Processing step running `python3 -c code`; inputs and outputs are (name, S3 URI) pairs.
    ContainerArguments are left out when there are none, as the API refuses an empty list."""
    application = {"ImageUri": IMAGE, "ContainerEntrypoint": ["python3", "-c", textwrap.dedent(code)]}
    if args:
        application["ContainerArguments"] = list(args)
    arguments = {
        "ProcessingResources": {
            "ClusterConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1}
        },
        "AppSpecification": application,
        "RoleArn": ROLE,
        "ProcessingInputs": [
            {
                "InputName": n,
                "S3Input": {
                    "S3Uri": uri,
                    "LocalPath": f"/opt/ml/processing/{n}",
                    "S3DataType": "S3Prefix",
                    "S3InputMode": "File",
                },
            }
            for n, uri in inputs
        ],
        "ProcessingOutputConfig": {
            "Outputs": [
                {
                    "OutputName": n,
                    "S3Output": {"S3Uri": uri, "LocalPath": f"/opt/ml/processing/{n}", "S3UploadMode": "EndOfJob"},
                }
                for n, uri in outputs
            ]
        },
    }
    return {"Name": name, "Type": "Processing", "Arguments": arguments, **extra}


def training(name: str, code_uri: Any, data_uri: Any, output_path: str, **extra: Any) -> dict:
    """A Training step running code/train.py from the `code` channel on the `train` channel."""
    return {
        "Name": name,
        "Type": "Training",
        "Arguments": {
            "AlgorithmSpecification": {
                "TrainingImage": IMAGE,
                "TrainingInputMode": "File",
                "ContainerEntrypoint": ["python3", "/opt/ml/input/data/code/train.py"],
            },
            "RoleArn": ROLE,
            "HyperParameters": {"alpha": "0.5"},
            "InputDataConfig": [
                {
                    "ChannelName": n,
                    "DataSource": {
                        "S3DataSource": {
                            "S3DataType": "S3Prefix",
                            "S3Uri": uri,
                            "S3DataDistributionType": "FullyReplicated",
                        }
                    },
                }
                for n, uri in (("code", code_uri), ("train", data_uri))
            ],
            "OutputDataConfig": {"S3OutputPath": output_path},
            "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
            "StoppingCondition": {"MaxRuntimeInSeconds": 600},
        },
        **extra,
    }


# --- calls -----------------------------------------------------------------------------------------


def create(sm: Any, name: str, text: str, **kwargs: Any) -> str:
    return sm.create_pipeline(PipelineName=name, RoleArn=ROLE, PipelineDefinition=text, **kwargs)["PipelineArn"]


def start(sm: Any, name: str, parameters: list | None = None) -> str:
    return sm.start_pipeline_execution(PipelineName=name, PipelineParameters=parameters or [])["PipelineExecutionArn"]


def wait(sm: Any, arn: str, timeout: float = 30) -> dict:
    """DescribePipelineExecution's answer once the execution has ended."""
    return wait_until(
        lambda: sm.describe_pipeline_execution(PipelineExecutionArn=arn),
        lambda described: described["PipelineExecutionStatus"] not in RUNNING,
        timeout=timeout,
        what=f"the end of execution {arn}",
    )


def steps_of(sm: Any, arn: str) -> dict[str, dict]:
    steps = sm.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
    return {s["StepName"]: s for s in steps}


def wait_for_step(sm: Any, arn: str, step: str, status: str, timeout: float = 30) -> dict:
    """The step's summary once it has the status."""
    found = wait_until(
        lambda: steps_of(sm, arn),
        lambda steps: steps.get(step, {}).get("StepStatus") == status,
        timeout=timeout,
        what=f"step {step} reaching {status}",
    )
    return found[step]


def run(sm: Any, name: str, text: str, parameters: list | None = None) -> tuple[str, dict, dict]:
    """Create the pipeline, start it, wait: (execution ARN, its description, its steps by name)."""
    create(sm, name, text)
    arn = start(sm, name, parameters)
    return arn, wait(sm, arn), steps_of(sm, arn)
