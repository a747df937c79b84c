"""Processing and training jobs through SageMaker SDK v3, as the tutorial's notebooks run them."""

from __future__ import annotations

import json
import textwrap

import pytest
from support.jobs import IMAGE, ROLE, untar, wait_for_processing


def write(directory, name: str, source: str) -> None:
    (directory / name).write_text(textwrap.dedent(source))


def test_processors_run_scripts_and_ship_a_source_dir(aws, sdk, tmp_path, capsys):
    from sagemaker.core.processing import FrameworkProcessor, ScriptProcessor
    from sagemaker.core.shapes import ProcessingInput, ProcessingOutput, ProcessingS3Input, ProcessingS3Output

    s3 = aws.client("s3")
    s3.put_object(Bucket="data-bucket", Key="raw/rows.csv", Body=b"a\nb\nc\n")
    write(
        tmp_path,
        "count.py",
        """
        import argparse, pathlib
        p = argparse.ArgumentParser(); p.add_argument("--in-dir"); p.add_argument("--out-dir")
        a = p.parse_args()
        rows = pathlib.Path(a.in_dir, "rows.csv").read_text().split()
        pathlib.Path(a.out_dir, "count.txt").write_text(str(len(rows)))
    """,
    )
    src = tmp_path / "src"
    src.mkdir()
    write(src, "fetch_data.py", "def fetch():\n    return 'fetched by the helper module'\n")
    write(
        src,
        "train.py",
        """
        import argparse, pathlib
        from fetch_data import fetch
        p = argparse.ArgumentParser(); p.add_argument("--out-dir")
        out = pathlib.Path(p.parse_args().out_dir)
        print(fetch())
        (out / "result.txt").write_text(fetch())
    """,
    )

    def out(name: str) -> list:
        return [
            ProcessingOutput(
                output_name="out",
                s3_output=ProcessingS3Output(
                    s3_uri=f"s3://data-bucket/{name}", local_path="/opt/ml/processing/out", s3_upload_mode="EndOfJob"
                ),
            )
        ]

    common = dict(image_uri=IMAGE, role=ROLE, instance_count=1, instance_type="ml.m5.large", sagemaker_session=sdk)
    script = ScriptProcessor(command=["python3"], base_job_name="count", **common)
    script.run(
        code=str(tmp_path / "count.py"),
        wait=False,
        logs=False,
        outputs=out("counted"),
        inputs=[
            ProcessingInput(
                input_name="raw",
                s3_input=ProcessingS3Input(
                    s3_uri="s3://data-bucket/raw", local_path="/opt/ml/processing/input/raw", s3_data_type="S3Prefix"
                ),
            )
        ],
        arguments=["--in-dir", "/opt/ml/processing/input/raw", "--out-dir", "/opt/ml/processing/out"],
    )
    framework = FrameworkProcessor(base_job_name="fetch", **common)
    framework.run(
        code="train.py",
        source_dir=str(src),
        outputs=out("fetched"),
        arguments=["--out-dir", "/opt/ml/processing/out"],
        wait=True,
        logs=True,
    )

    assert "fetched by the helper module" in capsys.readouterr().out  # streamed from CloudWatch Logs
    fetched = s3.get_object(Bucket="data-bucket", Key="fetched/result.txt")["Body"].read()
    assert fetched == b"fetched by the helper module"
    sm = aws.client("sagemaker")
    name = script.latest_job.processing_job_name
    assert wait_for_processing(sm, name)["ProcessingJobStatus"] == "Completed"
    assert s3.get_object(Bucket="data-bucket", Key="counted/count.txt")["Body"].read() == b"3"


def test_model_trainer_trains_source_code_through_the_sdk_driver(aws, sdk, tmp_path):
    from sagemaker.core.training.configs import Compute, InputData, SourceCode
    from sagemaker.train import ModelTrainer

    s3 = aws.client("s3")
    s3.put_object(Bucket="data-bucket", Key="train/rows.csv", Body=b"1\n2\n3\n")
    write(tmp_path, "features.py", "def scale(x):\n    return 10 * x\n")
    write(
        tmp_path,
        "train.py",
        """
        import argparse, json, os
        from features import scale
        p = argparse.ArgumentParser(); p.add_argument("--max-depth", type=int)
        a = p.parse_args()
        rows = open(os.path.join(os.environ["SM_CHANNEL_TRAIN"], "rows.csv")).read().split()
        with open(os.path.join(os.environ["SM_MODEL_DIR"], "model.json"), "w") as fh:
            json.dump({"depth": scale(a.max_depth), "rows": len(rows)}, fh)
        print(f"validation rmse={0.125};")
    """,
    )
    trainer = ModelTrainer(
        training_image=IMAGE,
        role=ROLE,
        sagemaker_session=sdk,
        base_job_name="fit",
        source_code=SourceCode(source_dir=str(tmp_path), entry_script="train.py"),
        compute=Compute(instance_type="ml.m5.large", instance_count=1),
        hyperparameters={"max-depth": 3},
    )
    trainer.train(
        input_data_config=[InputData(channel_name="train", data_source="s3://data-bucket/train/")], wait=True, logs=True
    )

    job = trainer._latest_training_job
    assert job.training_job_status == "Completed"
    model = untar(s3, job.model_artifacts.s3_model_artifacts)
    assert json.loads(model["model.json"]) == {"depth": 30, "rows": 3}
    logs = aws.client("logs")
    stream = logs.describe_log_streams(
        logGroupName="/aws/sagemaker/TrainingJobs", logStreamNamePrefix=job.training_job_name + "/"
    )["logStreams"][0]
    messages = [
        e["message"]
        for e in logs.get_log_events(logGroupName="/aws/sagemaker/TrainingJobs", logStreamName=stream["logStreamName"])[
            "events"
        ]
    ]
    assert "validation rmse=0.125;" in messages


def test_model_trainer_failure_raises_with_the_reason(aws, sdk, tmp_path):
    from sagemaker.core.training.configs import Compute, SourceCode
    from sagemaker.core.utils.exceptions import FailedStatusError
    from sagemaker.train import ModelTrainer

    write(tmp_path, "train.py", "raise ValueError('no training data')\n")
    trainer = ModelTrainer(
        training_image=IMAGE,
        role=ROLE,
        sagemaker_session=sdk,
        base_job_name="fit-bad",
        source_code=SourceCode(source_dir=str(tmp_path), entry_script="train.py"),
        compute=Compute(instance_type="ml.m5.large", instance_count=1),
    )
    with pytest.raises(FailedStatusError) as err:
        trainer.train(wait=True, logs=False)
    # The SDK's driver writes its own traceback to /opt/ml/output/failure: that is the reason, as on AWS;
    # the script's error is in the job's logs.
    assert "returned non-zero exit status 1" in str(err.value)
    job = trainer._latest_training_job
    assert job.failure_reason.startswith("AlgorithmError: ") and job.failure_reason.endswith("exit code: 1")
    logs = aws.client("logs")
    stream = logs.describe_log_streams(
        logGroupName="/aws/sagemaker/TrainingJobs", logStreamNamePrefix=job.training_job_name + "/"
    )["logStreams"][0]
    messages = [
        e["message"]
        for e in logs.get_log_events(logGroupName="/aws/sagemaker/TrainingJobs", logStreamName=stream["logStreamName"])[
            "events"
        ]
    ]
    assert "ValueError: no training data" in messages
