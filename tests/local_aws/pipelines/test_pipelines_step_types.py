"""Every step type the service accepts, with the members of its type (a Callback's SqsQueueUrl, a Lambda's
FunctionArn, a check step's CheckType...): accepted at CreatePipeline, and at run time a type local_aws
cannot run fails its step with the reason."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import WaiterError
from support import error_of
from support.pipelines import IMAGE, ROLE, create, definition, fail, processing, run, start, wait

FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:notify"
QUEUE = "https://sqs.us-east-1.amazonaws.com/123456789012/approvals"
CLUSTER_CONFIG = {"ClusterConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1}}
RESOURCES = {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1}
TRAINING_DEFINITION = {
    "AlgorithmSpecification": {"TrainingImage": IMAGE, "TrainingInputMode": "File"},
    "RoleArn": ROLE,
    "OutputDataConfig": {"S3OutputPath": "s3://bucket/out"},
    "ResourceConfig": RESOURCES,
    "StoppingCondition": {"MaxRuntimeInSeconds": 60},
}
CHECK_ARGUMENTS = {"ProcessingResources": CLUSTER_CONFIG, "AppSpecification": {"ImageUri": IMAGE}, "RoleArn": ROLE}


def every_other_step_type() -> list[dict]:
    """One step of each type the SDK's step classes emit, beyond Callback and Lambda, as to_request() writes them."""
    cache = {"CacheConfig": {"Enabled": True, "ExpireAfter": "P1D"}}
    retry = {"RetryPolicies": [{"ExceptionType": ["Step.SERVICE_FAULT"], "MaxAttempts": 2}]}
    check = {
        "ModelPackageGroupName": "models",
        "SkipCheck": False,
        "FailOnViolation": True,
        "RegisterNewBaseline": False,
        "SuppliedBaselineConstraints": "s3://bucket/constraints.json",
        **cache,
    }
    return [
        {
            "Name": "Emr",
            "Type": "EMR",
            "Arguments": {
                "ClusterId": "j-1ABCDEF",
                "StepConfig": {"HadoopJarStep": {"Jar": "command-runner.jar", "Args": ["spark-submit", "job.py"]}},
            },
            **cache,
        },
        {
            "Name": "EmrServerless",
            "Type": "EMRServerless",
            "Arguments": {"ExecutionRoleArn": ROLE, "JobDriver": {"sparkSubmit": {"entryPoint": "s3://bucket/job.py"}}},
            **cache,
            **retry,
        },
        {
            "Name": "DataQuality",
            "Type": "QualityCheck",
            "CheckType": "DATA_QUALITY",
            "SuppliedBaselineStatistics": "s3://bucket/statistics.json",
            "Arguments": CHECK_ARGUMENTS,
            **check,
            **retry,
        },
        {
            "Name": "Bias",
            "Type": "ClarifyCheck",
            "CheckType": "MODEL_BIAS",
            "ModelName": "model",
            "Arguments": CHECK_ARGUMENTS,
            **check,
        },
        {
            "Name": "BatchScore",
            "Type": "Transform",
            "Arguments": {
                "ModelName": "model",
                "TransformInput": {
                    "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://bucket/in"}}
                },
                "TransformOutput": {"S3OutputPath": "s3://bucket/scored"},
                "TransformResources": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
            },
            **cache,
            **retry,
        },
        {
            "Name": "Tune",
            "Type": "Tuning",
            "Arguments": {
                "HyperParameterTuningJobConfig": {
                    "Strategy": "Bayesian",
                    "ResourceLimits": {"MaxNumberOfTrainingJobs": 2, "MaxParallelTrainingJobs": 1},
                },
                "TrainingJobDefinition": TRAINING_DEFINITION,
            },
            **cache,
            **retry,
        },
        {
            "Name": "Automl",
            "Type": "AutoML",
            "Arguments": {
                "InputDataConfig": [
                    {
                        "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://bucket/d"}},
                        "TargetAttributeName": "rings",
                    }
                ],
                "OutputDataConfig": {"S3OutputPath": "s3://bucket/automl"},
                "RoleArn": ROLE,
            },
            **cache,
            **retry,
        },
        {
            "Name": "Config",
            "Type": "EndpointConfig",
            "Arguments": {
                "EndpointConfigName": "c",
                "ProductionVariants": [{"VariantName": "v", "ModelName": "model", "InstanceType": "ml.m5.large"}],
            },
            **retry,
        },
        {
            "Name": "Serve",
            "Type": "Endpoint",
            "Arguments": {"EndpointName": "e", "EndpointConfigName": "c"},
            "DependsOn": ["Config"],
        },
        {"Name": "Cleanup", "Type": "Cleanup", "Arguments": {"Resources": {"S3": [{"StepName": "BatchScore"}]}}},
    ]


def test_sdk_callback_and_lambda_steps_are_accepted_and_fail_at_run_time(session):
    """The SDK's CallbackStep and LambdaStep (with their OutputParameters, SqsQueueUrl and FunctionArn), a step
    reading a Lambda output, an EMRStep: upsert accepts them; an execution fails the two with the reason."""
    from sagemaker.core.lambda_helper import Lambda
    from sagemaker.core.workflow.functions import Join
    from sagemaker.mlops.workflow import (
        CallbackOutput,
        CallbackStep,
        EMRStep,
        EMRStepConfig,
        FailStep,
        LambdaOutput,
        LambdaStep,
        Pipeline,
    )
    from sagemaker.mlops.workflow.callback_step import CallbackOutputTypeEnum
    from sagemaker.mlops.workflow.lambda_step import LambdaOutputTypeEnum

    approved = CallbackOutput(output_name="approved", output_type=CallbackOutputTypeEnum.Boolean)
    approval = CallbackStep(
        name="WaitForApproval", sqs_queue_url=QUEUE, inputs={"model": "abalone"}, outputs=[approved]
    )
    notify = LambdaStep(
        name="Notify",
        lambda_func=Lambda(function_arn=FUNCTION),
        inputs={"channel": "ml"},
        outputs=[LambdaOutput(output_name="message_id", output_type=LambdaOutputTypeEnum.String)],
    )
    sent = Join(on=" ", values=["sent", notify.properties.Outputs["message_id"]])
    after = FailStep(name="AfterNotify", error_message=sent)
    emr = EMRStep(
        name="Spark",
        display_name="Spark",
        description="an EMR job",
        cluster_id="j-1ABCDEF",
        step_config=EMRStepConfig(jar="command-runner.jar", args=["spark-submit", "job.py"]),
    )
    pipeline = Pipeline(name="notify", steps=[approval, notify, after, emr], sagemaker_session=session)
    written = {step["Name"]: step for step in json.loads(pipeline.definition())["Steps"]}
    assert written["WaitForApproval"]["SqsQueueUrl"] == QUEUE
    assert written["Notify"]["OutputParameters"] == [{"OutputName": "message_id", "OutputType": "String"}]

    pipeline.upsert(role_arn=ROLE)
    execution = pipeline.start()
    with pytest.raises(WaiterError, match='matched expected path: "Failed"'):
        execution.wait(delay=0.5, max_attempts=120)

    assert execution.describe()["PipelineExecutionStatus"] == "Failed"
    steps = {step["StepName"]: step for step in execution.list_steps()}
    for name, kind in (("WaitForApproval", "Callback"), ("Notify", "Lambda"), ("Spark", "EMR")):
        assert steps[name]["StepStatus"] == "Failed"
        assert steps[name]["FailureReason"].startswith(f"Step type {kind} is not supported by local_aws")
    assert "AfterNotify" not in steps  # its upstream step failed, so it never started


def test_every_step_type_is_accepted_with_its_own_members(aws):
    sm = aws.client("sagemaker")
    create(sm, "every-type", definition(every_other_step_type()))
    listed = json.loads(sm.describe_pipeline(PipelineName="every-type")["PipelineDefinition"])
    assert [s["Type"] for s in listed["Steps"]] == [
        "EMR",
        "EMRServerless",
        "QualityCheck",
        "ClarifyCheck",
        "Transform",
        "Tuning",
        "AutoML",
        "EndpointConfig",
        "Endpoint",
        "Cleanup",
    ]


def test_a_step_type_local_aws_cannot_run_fails_only_its_own_branch(aws):
    sm = aws.client("sagemaker")
    notify = {
        "Name": "Notify",
        "Type": "Lambda",
        "FunctionArn": FUNCTION,
        "Arguments": {"to": "ml"},
        "OutputParameters": [{"OutputName": "sent", "OutputType": "Boolean"}],
    }
    after = fail("AfterNotify", {"Std:Join": {"On": " ", "Values": [{"Get": "Steps.Notify.OutputParameters['sent']"}]}})
    work = processing("Work", "print('working')")
    arn, described, steps = run(sm, "lambda-branch", definition([notify, after, work]))
    assert described["PipelineExecutionStatus"] == "Failed"
    assert steps["Work"]["StepStatus"] == "Succeeded"
    assert steps["Notify"]["FailureReason"].startswith("Step type Lambda is not supported by local_aws; it runs ")
    assert "AfterNotify" not in steps


@pytest.mark.parametrize(
    "step, message",
    [
        (
            {"Name": "L", "Type": "Lambda", "FunctionArn": FUNCTION, "SqsQueueUrl": QUEUE},
            "Step 'L' has unknown member(s) ['SqsQueueUrl']",
        ),
        ({"Name": "L", "Type": "Lambda", "Arguments": {}}, "Lambda step 'L' needs ['FunctionArn']"),
        ({"Name": "C", "Type": "Callback", "Arguments": {}}, "Callback step 'C' needs ['SqsQueueUrl']"),
        (
            {
                "Name": "C",
                "Type": "Callback",
                "SqsQueueUrl": QUEUE,
                "OutputParameters": [{"OutputName": "x", "OutputType": "Date"}],
            },
            "OutputParameters of step 'C' must be a Json Array",
        ),
        (
            {"Name": "Q", "Type": "QualityCheck", "CheckType": "MODEL_BIAS", "Arguments": CHECK_ARGUMENTS},
            "CheckType of QualityCheck step 'Q' must be one of ['DATA_QUALITY', 'MODEL_QUALITY']",
        ),
        (
            {"Name": "Q", "Type": "ClarifyCheck", "Arguments": CHECK_ARGUMENTS},
            "ClarifyCheck step 'Q' needs ['CheckType']",
        ),
        (
            {
                "Name": "L",
                "Type": "Lambda",
                "FunctionArn": FUNCTION,
                "RetryPolicies": [{"ExceptionType": ["Step.SERVICE_FAULT"], "MaxAttempts": 1}],
            },
            "of type Lambda cannot have a RetryPolicies",
        ),
        (
            {"Name": "E", "Type": "Endpoint", "Arguments": {}, "PropertyFiles": []},
            "of type Endpoint cannot have a PropertyFiles; it applies to ['Processing']",
        ),
    ],
)
def test_members_a_step_type_does_not_have_are_refused(aws, step, message):
    code, text = error_of(lambda: create(aws.client("sagemaker"), "bad-members", definition([step])))
    assert code == "ValidationException"
    assert message in text


def test_a_lambda_output_that_is_not_declared_is_refused(aws):
    notify = {
        "Name": "Notify",
        "Type": "Lambda",
        "FunctionArn": FUNCTION,
        "OutputParameters": [{"OutputName": "sent", "OutputType": "Boolean"}],
    }
    after = fail("After", {"Get": "Steps.Notify.OutputParameters['status']"})
    code, text = error_of(lambda: create(aws.client("sagemaker"), "undeclared", definition([notify, after])))
    assert code == "ValidationException"
    assert "a Lambda step's properties are its OutputParameters['<name>'], with <name> one of ['sent']" in text


def test_a_for_each_body_is_checked_for_its_form(aws):
    sm = aws.client("sagemaker")
    body = [processing("Item", "print(1)", args=[{"Get": "ForEach.CurrentItem"}])]
    loop = {
        "Name": "Loop",
        "Type": "ForEach",
        "Arguments": {"IterableItems": ["a", "b"], "MaxConcurrency": 2, "ForEachBody": body},
    }
    create(sm, "loop", definition([loop]))
    code, text = error_of(lambda: create(sm, "clash", definition([{**loop, "Name": "Item"}])))
    assert code == "ValidationException" and "'Item' appears more than once" in text


def test_mlflow_settings_are_described_back(aws):
    sm = aws.client("sagemaker")
    tracking = "arn:aws:sagemaker:us-east-1:123456789012:mlflow-tracking-server/abalone"
    text = definition(
        [fail("F", "done")],
        [{"Name": "Experiment", "Type": "String", "DefaultValue": "abalone"}],
        MlflowConfig={"MlflowResourceArn": tracking, "MlflowExperimentName": {"Get": "Parameters.Experiment"}},
    )
    create(sm, "tracked", text)
    first = wait(sm, start(sm, "tracked"))
    assert first["MLflowConfig"] == {"MlflowResourceArn": tracking, "MlflowExperimentName": "abalone"}
    second = sm.start_pipeline_execution(PipelineName="tracked", MlflowExperimentName="abalone-tuning")
    assert wait(sm, second["PipelineExecutionArn"])["MLflowConfig"] == {
        "MlflowResourceArn": tracking,
        "MlflowExperimentName": "abalone-tuning",
    }


def test_an_experiment_name_alone_is_kept_and_no_mlflow_settings_leave_the_member_out(aws):
    sm = aws.client("sagemaker")
    create(sm, "untracked", definition([fail("F", "done")]))
    assert "MLflowConfig" not in wait(sm, start(sm, "untracked"))
    named = sm.start_pipeline_execution(PipelineName="untracked", MlflowExperimentName="ad-hoc")
    assert wait(sm, named["PipelineExecutionArn"])["MLflowConfig"] == {"MlflowExperimentName": "ad-hoc"}


def test_mlflow_config_members_are_checked(aws):
    text = definition([fail("F", "done")], MlflowConfig={"MlflowResourceArn": "arn", "TrackingUri": "http://x"})
    code, message = error_of(lambda: create(aws.client("sagemaker"), "bad-mlflow", text))
    assert code == "ValidationException"
    assert "MlflowConfig has unknown member(s) ['TrackingUri']" in message


def test_sdk_pipeline_mlflow_config_and_experiment_override(session):
    from sagemaker.core.shapes import MlflowConfig
    from sagemaker.core.workflow.parameters import ParameterString
    from sagemaker.mlops.workflow import FailStep, Pipeline

    tracking = "arn:aws:sagemaker:us-east-1:123456789012:mlflow-tracking-server/abalone"
    pipeline = Pipeline(
        name="mlflow-sdk",
        parameters=[ParameterString("Unused", default_value="x")],
        steps=[FailStep(name="Stop", error_message="done")],
        sagemaker_session=session,
        mlflow_config=MlflowConfig(mlflow_resource_arn=tracking, mlflow_experiment_name="abalone"),
    )
    pipeline.upsert(role_arn=ROLE)
    execution = pipeline.start(mlflow_experiment_name="abalone-retrain")
    with pytest.raises(WaiterError, match='matched expected path: "Failed"'):  # the Fail step failed it
        execution.wait(delay=0.5, max_attempts=60)
    assert execution.describe()["MLflowConfig"] == {
        "MlflowResourceArn": tracking,
        "MlflowExperimentName": "abalone-retrain",
    }


def test_unknown_step_types_are_still_refused(aws):
    code, text = error_of(
        lambda: create(
            aws.client("sagemaker"), "unknown", definition([{"Name": "S", "Type": "Sleep", "Arguments": {}}])
        )
    )
    assert code == "ValidationException" and "has unknown Type 'Sleep'" in text
