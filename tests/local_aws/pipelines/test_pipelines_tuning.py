"""A TuningStep through SDK v3: a HyperparameterTuner over a ModelTrainer, run by a pipeline; the step's
properties are the tuning job's and its training jobs' summaries, best first, so the best model's
artifact (TuningStep.get_top_model_s3_uri) reaches a RegisterModel step."""

from __future__ import annotations

from support.pipelines import IMAGE, ROLE, SDK_BUCKET, SDK_MODEL_GROUP

TRAIN = """\
import argparse, os
parser = argparse.ArgumentParser()
parser.add_argument("--depth", type=int, default=1)
args = parser.parse_args()
loss = (args.depth - 3) ** 2
with open(os.path.join(os.environ["SM_MODEL_DIR"], "model.txt"), "w") as f:
    f.write(str(args.depth))
print(f"rmse={loss + 0.5:.3f}")
"""


def test_a_tuning_step_tunes_and_registers_the_best_model(session, tmp_path):
    from sagemaker.core.parameter import IntegerParameter
    from sagemaker.core.training.configs import Compute, SourceCode
    from sagemaker.mlops.workflow import ModelStep, Pipeline, TuningStep
    from sagemaker.serve.model_builder import ModelBuilder
    from sagemaker.train import ModelTrainer
    from sagemaker.train.tuner import HyperparameterTuner

    (tmp_path / "train.py").write_text(TRAIN)
    trainer = ModelTrainer(
        training_image=IMAGE,
        role=ROLE,
        sagemaker_session=session,
        base_job_name="tuned",
        source_code=SourceCode(source_dir=str(tmp_path), entry_script="train.py"),
        compute=Compute(instance_type="ml.m5.large", instance_count=1),
    )
    tuner = HyperparameterTuner(
        model_trainer=trainer,
        objective_metric_name="rmse",
        objective_type="Minimize",
        hyperparameter_ranges={"depth": IntegerParameter(1, 5)},
        metric_definitions=[{"Name": "rmse", "Regex": r"rmse=([0-9.]+)"}],
        strategy="Grid",
        max_parallel_jobs=2,
    )
    step = TuningStep(name="Tune", step_args=tuner.tune())
    best_artifact = step.get_top_model_s3_uri(top_k=0, s3_bucket=SDK_BUCKET, prefix="tuned")  # index 0: the best
    best_model = ModelBuilder(
        s3_model_data_url=best_artifact, image_uri=IMAGE, role_arn=ROLE, sagemaker_session=session
    )
    register = ModelStep(
        name="RegisterBest",
        step_args=best_model.register(
            model_package_group_name=SDK_MODEL_GROUP,
            content_types=["text/csv"],
            response_types=["text/csv"],
            inference_instances=["ml.m5.large"],
            transform_instances=["ml.m5.large"],
            approval_status="Approved",
        ),
    )
    pipeline = Pipeline(name="tuning-pipeline", steps=[step, register], sagemaker_session=session)
    pipeline.upsert(role_arn=ROLE)
    execution = pipeline.start()
    execution.wait(delay=0.5, max_attempts=240)
    assert execution.describe()["PipelineExecutionStatus"] == "Succeeded", execution.describe().get("FailureReason")

    steps = {s["StepName"]: s for s in execution.list_steps()}
    sm = session.sagemaker_client
    tuning_name = steps["Tune"]["Metadata"]["TuningJob"]["Arn"].rsplit("/", 1)[1]
    described = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=tuning_name)
    assert described["TrainingJobStatusCounters"]["Completed"] == 5
    best = described["BestTrainingJob"]
    assert best["TunedHyperParameters"] == {"depth": "3"}
    assert best["FinalHyperParameterTuningJobObjectiveMetric"] == {
        "Type": "Minimize",
        "MetricName": "rmse",
        "Value": 0.5,
    }
    artifacts = sm.describe_training_job(TrainingJobName=best["TrainingJobName"])["ModelArtifacts"]["S3ModelArtifacts"]
    assert artifacts == f"s3://{SDK_BUCKET}/tuned/{best['TrainingJobName']}/output/model.tar.gz"
    package_arn = next(
        step["Metadata"]["RegisterModel"]["Arn"] for step in steps.values() if "RegisterModel" in step["Metadata"]
    )
    package = sm.describe_model_package(ModelPackageName=package_arn)
    assert package["InferenceSpecification"]["Containers"][0]["ModelDataUrl"] == artifacts
