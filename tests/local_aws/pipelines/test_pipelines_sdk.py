"""SageMaker Pipelines through SDK v3, as the tutorial's pipeline notebook uses them, unchanged.

ScriptProcessor + ProcessingStep with a PropertyFile, ModelTrainer + TrainingStep, ConditionStep on a
JsonGet, ModelStep (ModelBuilder.register), FailStep; Pipeline.upsert/start, PipelineExecution.wait
(a botocore waiter on DescribePipelineExecution), describe, list_steps, stop.
"""

from __future__ import annotations

import io
import json
import tarfile
import textwrap

import pytest
from botocore.exceptions import ClientError, WaiterError
from support import wait_until
from support.pipelines import IMAGE, ROLE, SDK_BUCKET, SDK_MODEL_GROUP

PREPARE = """
    import argparse, json, pathlib
    p = argparse.ArgumentParser()
    for flag in ("--rows", "--label", "--train-dir", "--evaluation-dir"):
        p.add_argument(flag)
    a = p.parse_args()
    pathlib.Path(a.train_dir, "data.csv").write_text("\\n".join(str(i) for i in range(int(a.rows))))
    pathlib.Path(a.evaluation_dir, "evaluation.json").write_text(json.dumps(
        {"regression_metrics": {"mse": {"value": 1.0 / int(a.rows)}}, "label": a.label}))
"""
TRAIN = """
    import json, os, pathlib
    rows = pathlib.Path(os.environ["SM_CHANNEL_TRAIN"], "data.csv").read_text().split()
    pathlib.Path(os.environ["SM_MODEL_DIR"], "model.json").write_text(json.dumps({"rows": len(rows)}))
"""


def write_scripts(tmp_path) -> None:
    """prepare.py and src/train.py, the scripts the SDK uploads for the steps."""
    (tmp_path / "prepare.py").write_text(textwrap.dedent(PREPARE))
    (tmp_path / "src").mkdir(exist_ok=True)
    (tmp_path / "src" / "train.py").write_text(textwrap.dedent(TRAIN))


def build_pipeline(session, tmp_path, name: str = "abalone-pipeline"):
    from sagemaker.core.processing import ScriptProcessor
    from sagemaker.core.shapes import MetricsSource, ModelMetrics, ModelQuality, ProcessingOutput, ProcessingS3Output
    from sagemaker.core.training.configs import Compute, InputData, SourceCode
    from sagemaker.core.workflow.conditions import ConditionLessThanOrEqualTo
    from sagemaker.core.workflow.execution_variables import ExecutionVariables
    from sagemaker.core.workflow.functions import Join, JsonGet
    from sagemaker.core.workflow.parameters import ParameterFloat, ParameterInteger, ParameterString
    from sagemaker.core.workflow.properties import PropertyFile
    from sagemaker.mlops.workflow import ConditionStep, FailStep, ModelStep, Pipeline, ProcessingStep, TrainingStep
    from sagemaker.serve.model_builder import ModelBuilder
    from sagemaker.train import ModelTrainer

    write_scripts(tmp_path)
    rows = ParameterInteger("Rows", default_value=4)
    max_mse = ParameterFloat("MaxMse", default_value=0.5)
    approval = ParameterString("ModelApprovalStatus", default_value="PendingManualApproval")
    run_prefix = [f"s3://{SDK_BUCKET}", name, ExecutionVariables.PIPELINE_EXECUTION_ID]

    def output(channel: str) -> ProcessingOutput:
        return ProcessingOutput(
            output_name=channel,
            s3_output=ProcessingS3Output(
                s3_uri=Join(on="/", values=run_prefix + [channel]),
                local_path=f"/opt/ml/processing/{channel}",
                s3_upload_mode="EndOfJob",
            ),
        )

    processor = ScriptProcessor(
        role=ROLE,
        image_uri=IMAGE,
        command=["python3"],
        instance_type="ml.m5.large",
        instance_count=1,
        sagemaker_session=session,
    )
    evaluation = PropertyFile(name="Evaluation", output_name="evaluation", path="evaluation.json")
    prepare = ProcessingStep(
        name="Prepare",
        property_files=[evaluation],
        step_args=processor.run(
            code=str(tmp_path / "prepare.py"),
            outputs=[output("train"), output("evaluation")],
            arguments=[
                "--rows",
                rows.to_string(),
                "--label",
                approval,
                "--train-dir",
                "/opt/ml/processing/train",
                "--evaluation-dir",
                "/opt/ml/processing/evaluation",
            ],
        ),
    )
    trainer = ModelTrainer(
        training_image=IMAGE,
        role=ROLE,
        sagemaker_session=session,
        base_job_name="abalone",
        source_code=SourceCode(source_dir=str(tmp_path / "src"), entry_script="train.py"),
        compute=Compute(instance_type="ml.m5.large", instance_count=1),
    )
    train = TrainingStep(
        name="Train",
        step_args=trainer.train(
            input_data_config=[
                InputData(
                    channel_name="train",
                    data_source=prepare.properties.ProcessingOutputConfig.Outputs["train"].S3Output.S3Uri,
                )
            ]
        ),
    )
    metrics = ModelMetrics(
        model_quality=ModelQuality(
            statistics=MetricsSource(
                content_type="application/json",
                s3_uri=Join(
                    on="/",
                    values=[
                        prepare.properties.ProcessingOutputConfig.Outputs["evaluation"].S3Output.S3Uri,
                        "evaluation.json",
                    ],
                ),
            )
        )
    )
    builder = ModelBuilder(
        image_uri=IMAGE,
        s3_model_data_url=train.properties.ModelArtifacts.S3ModelArtifacts,
        role_arn=ROLE,
        sagemaker_session=session,
    )
    register = ModelStep(
        name="Register",
        step_args=builder.register(
            model_package_group_name=SDK_MODEL_GROUP,
            content_types=["text/csv"],
            response_types=["text/csv"],
            approval_status=approval,
            model_metrics=metrics,
        ),
    )
    mse = JsonGet(step_name=prepare.name, property_file=evaluation, json_path="regression_metrics.mse.value")
    too_high = FailStep(name="MseTooHigh", error_message=Join(on=" ", values=["mse", mse, "is above", max_mse]))
    gate = ConditionStep(
        name="CheckMse",
        conditions=[ConditionLessThanOrEqualTo(left=mse, right=max_mse)],
        if_steps=[register],
        else_steps=[too_high],
    )
    return Pipeline(
        name=name, parameters=[rows, max_mse, approval], steps=[prepare, train, gate], sagemaker_session=session
    )


def steps_by_name(execution) -> dict[str, dict]:
    return {step["StepName"]: step for step in execution.list_steps()}


def test_sdk_pipeline_runs_end_to_end(session, tmp_path):
    pipeline = build_pipeline(session, tmp_path)
    created = pipeline.upsert(role_arn=ROLE, description="abalone")
    assert created["PipelineArn"].endswith(":pipeline/abalone-pipeline")
    execution = pipeline.start(parameters={"Rows": 4, "ModelApprovalStatus": "Approved"})
    execution.wait(delay=0.5, max_attempts=240)

    described = execution.describe()
    assert described["PipelineExecutionStatus"] == "Succeeded"
    assert described["PipelineExperimentConfig"] == {
        "ExperimentName": "abalone-pipeline",
        "TrialName": execution.arn.rsplit("/", 1)[1],
    }
    steps = steps_by_name(execution)
    assert set(steps) == {"Prepare", "Train", "CheckMse", "Register"}
    assert steps["CheckMse"]["Metadata"]["Condition"]["Outcome"] == "True"
    sm = session.sagemaker_client
    package = sm.describe_model_package(ModelPackageName=steps["Register"]["Metadata"]["RegisterModel"]["Arn"])
    training_job = steps["Train"]["Metadata"]["TrainingJob"]["Arn"].rsplit("/", 1)[1]
    artifacts = sm.describe_training_job(TrainingJobName=training_job)["ModelArtifacts"]["S3ModelArtifacts"]
    assert package["InferenceSpecification"]["Containers"][0]["ModelDataUrl"] == artifacts
    assert package["ModelApprovalStatus"] == "Approved"
    evaluation_uri = package["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"]
    bucket, key = evaluation_uri[len("s3://") :].split("/", 1)
    report = json.loads(session.boto_session.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())
    assert report == {"regression_metrics": {"mse": {"value": 0.25}}, "label": "Approved"}
    parameters = {p["Name"]: p["Value"] for p in execution.list_parameters()["PipelineParameters"]}
    assert parameters == {"Rows": "4", "MaxMse": "0.5", "ModelApprovalStatus": "Approved"}

    failing = pipeline.start(parameters={"Rows": 1})  # mse 1.0 > 0.5
    with pytest.raises(WaiterError, match="terminal failure state"):
        failing.wait(delay=0.5, max_attempts=240)
    assert failing.describe()["FailureReason"] == "Step failure: One or multiple steps failed."
    steps = steps_by_name(failing)
    assert set(steps) == {"Prepare", "Train", "CheckMse", "MseTooHigh"}
    assert steps["MseTooHigh"]["Metadata"] == {"Fail": {"ErrorMessage": "mse 1.0 is above 0.5"}}
    listed = pipeline.list_executions()["PipelineExecutionSummaries"]
    assert [e["PipelineExecutionArn"] for e in listed] == [failing.arn, execution.arn]


def one_step_pipeline(session, tmp_path, name: str, source: str, cache: bool = False, arguments=None):
    from sagemaker.core.processing import ScriptProcessor
    from sagemaker.mlops.workflow import CacheConfig, Pipeline, ProcessingStep

    (tmp_path / f"{name}.py").write_text(source)
    processor = ScriptProcessor(
        role=ROLE,
        image_uri=IMAGE,
        command=["python3"],
        instance_type="ml.m5.large",
        instance_count=1,
        sagemaker_session=session,
    )
    step = ProcessingStep(
        name="Only",
        step_args=processor.run(code=str(tmp_path / f"{name}.py"), arguments=arguments),
        cache_config=CacheConfig(enable_caching=True, expire_after="P1D") if cache else None,
    )
    return Pipeline(name=name, steps=[step], sagemaker_session=session)


def test_sdk_upsert_updates_and_cache_hits(session, tmp_path):
    pipeline = one_step_pipeline(session, tmp_path, "cached", "print('work')\n", cache=True)
    pipeline.upsert(role_arn=ROLE)
    pipeline.upsert(role_arn=ROLE, description="second upsert updates")  # name taken: the SDK updates
    assert pipeline.describe()["PipelineDescription"] == "second upsert updates"
    first = pipeline.start()
    first.wait(delay=0.2, max_attempts=300)
    second = pipeline.start()
    second.wait(delay=0.2, max_attempts=300)
    cached = steps_by_name(second)["Only"]
    assert cached["CacheHitResult"] == {"SourcePipelineExecutionArn": first.arn}
    assert cached["Metadata"] == steps_by_name(first)["Only"]["Metadata"]
    assert "CacheHitResult" not in steps_by_name(first)["Only"]


def test_sdk_stop_and_invalid_definition(session, tmp_path):
    from sagemaker.core.workflow.parameters import ParameterString

    pipeline = one_step_pipeline(session, tmp_path, "slow", "import time\ntime.sleep(60)\n")
    pipeline.upsert(role_arn=ROLE)
    execution = pipeline.start()
    wait_until(
        execution.list_steps,
        lambda steps: bool(steps) and steps[0]["StepStatus"] == "Executing",
        interval=0.1,
        what="the step to start executing",
    )
    execution.stop()
    wait_until(
        execution.describe,
        lambda described: described["PipelineExecutionStatus"] == "Stopped",
        interval=0.1,
        what="the execution to stop",
    )
    assert execution.list_steps()[0]["StepStatus"] == "Stopped"

    undeclared = ParameterString("NotInParameters", default_value="x")
    with pytest.raises(ClientError) as err:
        one_step_pipeline(session, tmp_path, "bad", "print(1)\n", arguments=[undeclared]).upsert(role_arn=ROLE)
    assert err.value.response["Error"]["Code"] == "ValidationException"
    assert "parameter 'NotInParameters' is not declared" in err.value.response["Error"]["Message"]


def test_model_step_with_inference_code_repacks_the_model_then_registers_it(session, tmp_path):
    """A model known only at run time plus inference code: the SDK adds a repack training step
    (its own _repack_model.py, written for the container's /opt/ml paths) before RegisterModel."""
    from sagemaker.core.training.configs import SourceCode
    from sagemaker.core.workflow.parameters import ParameterString
    from sagemaker.mlops.workflow import ModelStep, Pipeline
    from sagemaker.serve.model_builder import ModelBuilder

    s3 = session.boto_session.client("s3")
    write_scripts(tmp_path)
    model = io.BytesIO()
    with tarfile.open(fileobj=model, mode="w:gz") as tar:
        tar.add(tmp_path / "prepare.py", arcname="model.py")
    s3.put_object(Bucket=SDK_BUCKET, Key="trained/model.tar.gz", Body=model.getvalue())
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "inference.py").write_text("def model_fn(model_dir):\n    return model_dir\n")
    model_url = ParameterString("ModelUrl", default_value=f"s3://{SDK_BUCKET}/trained/model.tar.gz")
    builder = ModelBuilder(
        image_uri=IMAGE,
        s3_model_data_url=model_url,
        role_arn=ROLE,
        sagemaker_session=session,
        source_code=SourceCode(source_dir=str(tmp_path / "code"), entry_script="inference.py"),
    )
    register = ModelStep(
        name="Register",
        step_args=builder.register(
            model_package_group_name=SDK_MODEL_GROUP, content_types=["text/csv"], response_types=["text/csv"]
        ),
    )
    pipeline = Pipeline(name="repack", parameters=[model_url], steps=[register], sagemaker_session=session)
    pipeline.upsert(role_arn=ROLE)
    execution = pipeline.start()
    execution.wait(delay=0.5, max_attempts=240)

    steps = steps_by_name(execution)
    repack = next(name for name in steps if "RepackModel" in name)
    assert {s["StepStatus"] for s in steps.values()} == {"Succeeded"}
    package = session.sagemaker_client.describe_model_package(
        ModelPackageName=steps["Register"]["Metadata"]["RegisterModel"]["Arn"]
    )
    repacked = package["InferenceSpecification"]["Containers"][0]["ModelDataUrl"]
    job = steps[repack]["Metadata"]["TrainingJob"]["Arn"].rsplit("/", 1)[1]
    assert (
        repacked
        == session.sagemaker_client.describe_training_job(TrainingJobName=job)["ModelArtifacts"]["S3ModelArtifacts"]
    )
    bucket, key = repacked[len("s3://") :].split("/", 1)
    with tarfile.open(fileobj=io.BytesIO(s3.get_object(Bucket=bucket, Key=key)["Body"].read())) as tar:
        names = set(tar.getnames())
    assert {"model.py", "code/inference.py"} <= names, names
