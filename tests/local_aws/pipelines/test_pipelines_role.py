"""Every step of a pipeline acts as the pipeline's role, as on AWS: with a role that trusts SageMaker but has no
permission policy, each step that calls a service is refused with AWS's access error and creates nothing; the
same pipeline run with an administrator role succeeds."""

from __future__ import annotations

import io
import json
import tarfile

from support.iam import SAGEMAKER_TRUST, create_role
from support.pipelines import BUCKET, IMAGE, ROLE, condition, create, definition, processing, register, start, steps_of
from support.pipelines import wait as wait_for_end

GROUP = "role-models"
PROPERTY_FILE = f"s3://{BUCKET}/gate/evaluation.json"
SOURCE = f"s3://{BUCKET}/code/sourcedir.tar.gz"


def upload_inputs(s3) -> None:
    """The bucket with the condition's property file and the tuning job's source directory."""
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="gate/evaluation.json", Body=json.dumps({"r2": 0.8}))
    archive, script = io.BytesIO(), b"print('loss=0.5')\n"
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        info = tarfile.TarInfo("train.py")
        info.size = len(script)
        tar.addfile(info, io.BytesIO(script))
    s3.put_object(Bucket=BUCKET, Key="code/sourcedir.tar.gz", Body=archive.getvalue())


def pipeline_of_every_kind_of_call() -> str:
    """Independent steps, each making one kind of call as the role: a job, a model package, a model, a tuning
    job, and an S3 read (a condition's JsonGet)."""
    model = {
        "Name": "Model",
        "Type": "Model",
        "Arguments": {
            "ExecutionRoleArn": ROLE,
            "PrimaryContainer": {"Image": IMAGE, "ModelDataUrl": f"s3://{BUCKET}/model.tar.gz"},
        },
    }
    tuning = {
        "Name": "Tune",
        "Type": "Tuning",
        "Arguments": {
            "HyperParameterTuningJobConfig": {
                "Strategy": "Random",
                "HyperParameterTuningJobObjective": {"Type": "Minimize", "MetricName": "loss"},
                "ResourceLimits": {"MaxNumberOfTrainingJobs": 1, "MaxParallelTrainingJobs": 1},
                "ParameterRanges": {"IntegerParameterRanges": [{"Name": "depth", "MinValue": "1", "MaxValue": "2"}]},
            },
            "TrainingJobDefinition": {
                "AlgorithmSpecification": {
                    "TrainingImage": IMAGE,
                    "TrainingInputMode": "File",
                    "MetricDefinitions": [{"Name": "loss", "Regex": "loss=([0-9.]+)"}],
                },
                "StaticHyperParameters": {"sagemaker_program": "train.py", "sagemaker_submit_directory": SOURCE},
                "RoleArn": ROLE,
                "OutputDataConfig": {"S3OutputPath": f"s3://{BUCKET}/tuning"},
                "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
                "StoppingCondition": {"MaxRuntimeInSeconds": 600},
            },
        },
    }
    gate = condition(
        "Gate",
        [
            {
                "Type": "GreaterThanOrEqualTo",
                "LeftValue": {"Std:JsonGet": {"S3Uri": PROPERTY_FILE, "Path": "r2"}},
                "RightValue": 0.5,
            }
        ],
    )
    return definition(
        [processing("Process", "print('processed')"), register("Register", group=GROUP), model, tuning, gate]
    )


def run_as(sm, name: str, role_arn: str) -> tuple[dict, dict]:
    create(sm, name, pipeline_of_every_kind_of_call())
    sm.update_pipeline(PipelineName=name, RoleArn=role_arn)
    arn = start(sm, name)
    return wait_for_end(sm, arn, timeout=120), steps_of(sm, arn)


def test_a_role_without_policies_fails_every_step_that_calls_a_service_and_creates_nothing(aws):
    sm, s3 = aws.client("sagemaker"), aws.client("s3")
    upload_inputs(s3)
    sm.create_model_package_group(ModelPackageGroupName=GROUP)
    bare = create_role(aws, "PipelineWithoutPolicies", [], SAGEMAKER_TRUST)

    described, steps = run_as(sm, "bare-role", bare)

    assert described["PipelineExecutionStatus"] == "Failed"
    who = "User: arn:aws:sts::123456789012:assumed-role/PipelineWithoutPolicies/SageMaker is not authorized to perform"
    refused = {
        "Process": "sagemaker:CreateProcessingJob",
        "Register": "sagemaker:CreateModelPackage",
        "Model": "sagemaker:CreateModel",
        "Tune": "sagemaker:CreateHyperParameterTuningJob",
    }
    for step, action in refused.items():
        assert steps[step]["StepStatus"] == "Failed", (step, steps[step])
        assert steps[step]["FailureReason"].startswith(f"AccessDeniedException: {who}: {action} on resource"), steps[
            step
        ]["FailureReason"]
    assert steps["Gate"]["StepStatus"] == "Failed"
    assert steps["Gate"]["FailureReason"].startswith(f"AccessDenied: {who}: s3:GetObject on resource")
    assert sm.list_processing_jobs()["ProcessingJobSummaries"] == []
    assert sm.list_model_packages(ModelPackageGroupName=GROUP)["ModelPackageSummaryList"] == []
    assert sm.list_models()["Models"] == []
    assert sm.list_hyper_parameter_tuning_jobs()["HyperParameterTuningJobSummaries"] == []


def test_the_same_pipeline_as_an_administrator_role_succeeds(aws):
    sm, s3 = aws.client("sagemaker"), aws.client("s3")
    upload_inputs(s3)
    sm.create_model_package_group(ModelPackageGroupName=GROUP)

    described, steps = run_as(sm, "admin-role", ROLE)

    assert described["PipelineExecutionStatus"] == "Succeeded", {s: v.get("FailureReason") for s, v in steps.items()}
    assert {step["StepStatus"] for step in steps.values()} == {"Succeeded"}
    assert len(sm.list_model_packages(ModelPackageGroupName=GROUP)["ModelPackageSummaryList"]) == 1
    assert len(sm.list_models()["Models"]) == 1
