"""Framework-container script mode: a training job with no ContainerEntrypoint on a framework image runs as the
SageMaker training toolkit runs it, from sourcedir.tar.gz unpacked into /opt/ml/code, with the hyperparameters
as `--name value` arguments and the toolkit's SM_* environment; an image local_aws has no stand-in for fails
the job with a ClientError."""

from __future__ import annotations

import io
import json
import sys
import tarfile

import pytest
from support.jobs import (
    IMAGE,
    TRAINING_LOGS,
    channel,
    job_log,
    put_source_archive,
    start_script_mode_training,
    untar,
    wait_for_training,
)
from support.jobs import (
    TRAINING_BUCKET as BUCKET,
)

TRAIN = """
    import argparse, json, os, sys
    from helper import scale

    p = argparse.ArgumentParser()
    p.add_argument("--n-estimators", type=int); p.add_argument("--learning-rate", type=float)
    p.add_argument("--use-bias"); p.add_argument("--layers"); p.add_argument("--name")
    p.add_argument("--model-dir", default=os.environ["SM_MODEL_DIR"])
    p.add_argument("--train", default=os.environ["SM_CHANNEL_TRAIN"])
    a = p.parse_args()
    rows = open(os.path.join(a.train, "rows.csv")).read().split()
    names = ("SM_HPS", "SM_USER_ARGS", "SM_MODULE_NAME", "SM_MODULE_DIR", "SM_CHANNELS", "SM_HP_N-ESTIMATORS",
             "SM_FRAMEWORK_PARAMS", "SM_CHANNEL_TRAIN", "SM_MODEL_DIR", "SM_USER_ENTRY_POINT", "SM_CURRENT_HOST",
             "SM_FRAMEWORK_MODULE", "SM_LOG_LEVEL", "SAGEMAKER_JOB_NAME", "SAGEMAKER_REGION")
    report = {"argv": sys.argv[1:], "cwd": os.getcwd(), "scaled": scale(a.n_estimators), "rows": len(rows),
              "env": {name: os.environ[name] for name in names},
              "training_env": json.loads(os.environ["SM_TRAINING_ENV"])["hyperparameters"],
              "hyperparameters.json": json.load(open("/opt/ml/input/config/hyperparameters.json"))}
    json.dump(report, open(os.path.join(a.model_dir, "report.json"), "w"))
    for epoch in range(3):
        print(f"epoch={epoch} rmse={1 / (epoch + 1):.3f};")
"""
HELPER = "def scale(x):\n    return 10 * x\n"
PYTORCH = "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.1-cpu-py310"


def put_rows(s3) -> dict:
    s3.put_object(Bucket=BUCKET, Key="data/train/rows.csv", Body=b"1\n2\n3\n")
    return channel("train", f"s3://{BUCKET}/data/train/")


def test_a_v2_sklearn_estimator_request_trains_from_its_source_archive(clients):
    s3, sm, logs = clients
    source = put_source_archive(
        s3,
        "sk-1/source/sourcedir.tar.gz",
        {
            "train.py": TRAIN,
            "helper.py": HELPER,
            "requirements.txt": "numpy>=1.0\nscikit-learn  # the framework's own\nno-such-package-xyz==1.0\n",
        },
    )
    hyperparameters = {  # as SDK v2's SKLearn estimator sends them: every value JSON-encoded
        "n-estimators": "10",
        "learning-rate": "0.1",
        "use-bias": "true",
        "layers": "[8, 4]",
        "name": '"forest"',
        "sagemaker_program": '"train.py"',
        "sagemaker_submit_directory": json.dumps(source),
        "sagemaker_container_log_level": "20",
        "sagemaker_job_name": '"sk-1"',
        "sagemaker_region": '"us-east-1"',
    }
    start_script_mode_training(
        sm,
        "sk-1",
        hyperparameters,
        channels=[put_rows(s3)],
        metrics=[{"Name": "validation:rmse", "Regex": r"rmse=([0-9.]+);"}],
    )
    job = wait_for_training(sm, "sk-1")
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    assert "ContainerEntrypoint" not in job["AlgorithmSpecification"]
    report = json.loads(untar(s3, job["ModelArtifacts"]["S3ModelArtifacts"])["report.json"])
    args = [
        "--layers",
        "[8, 4]",
        "--learning-rate",
        "0.1",
        "--n-estimators",
        "10",
        "--name",
        "forest",
        "--use-bias",
        "True",
    ]
    hps = {"layers": [8, 4], "learning-rate": 0.1, "n-estimators": 10, "name": "forest", "use-bias": True}
    assert report == {
        "argv": args,
        "cwd": "/opt/ml/code",
        "scaled": 100,
        "rows": 3,
        "env": {
            "SM_HPS": json.dumps(hps, separators=(",", ":")),
            "SM_USER_ARGS": json.dumps(args, separators=(",", ":")),
            "SM_MODULE_NAME": "train",
            "SM_MODULE_DIR": source,
            "SM_CHANNELS": '["train"]',
            "SM_HP_N-ESTIMATORS": "10",
            "SM_FRAMEWORK_PARAMS": "{}",
            "SM_CHANNEL_TRAIN": "/opt/ml/input/data/train",
            "SM_MODEL_DIR": "/opt/ml/model",
            "SM_USER_ENTRY_POINT": "train.py",
            "SM_CURRENT_HOST": "algo-1",
            "SM_FRAMEWORK_MODULE": "sagemaker_sklearn_container.training:main",
            "SM_LOG_LEVEL": "20",
            "SAGEMAKER_JOB_NAME": "sk-1",
            "SAGEMAKER_REGION": "us-east-1",
        },
        "training_env": hps,
        "hyperparameters.json": hyperparameters,
    }
    assert [(m["MetricName"], round(m["Value"], 3)) for m in job["FinalMetricDataList"]] == [("validation:rmse", 0.333)]
    lines = job_log(logs, TRAINING_LOGS, "sk-1")
    installed = next(line for line in lines if line.startswith("local_aws: requirements.txt: already installed: "))
    assert "numpy>=1.0 (numpy " in installed and "scikit-learn (scikit-learn " in installed
    assert "local_aws: requirements.txt: not installed, and could not be: no-such-package-xyz==1.0" in lines
    assert f"{sys.executable} train.py {' '.join(args)}" in lines
    assert lines[-1] == "Reporting training SUCCESS"


def test_a_tuner_style_request_with_plain_values_trains_on_the_pytorch_image(clients):
    s3, sm, _ = clients
    source = put_source_archive(s3, "tuned/sourcedir.tar.gz", {"train.py": TRAIN, "helper.py": HELPER})
    # SDK v3's HyperparameterTuner: sagemaker_program and sagemaker_submit_directory as plain strings
    start_script_mode_training(
        sm,
        "tuned-1",
        {
            "sagemaker_program": "train.py",
            "sagemaker_submit_directory": source,
            "n-estimators": "4",
            "name": "plain text",
        },
        image=PYTORCH,
        channels=[put_rows(s3)],
    )
    job = wait_for_training(sm, "tuned-1")
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    report = json.loads(untar(s3, job["ModelArtifacts"]["S3ModelArtifacts"])["report.json"])
    assert report["argv"] == ["--n-estimators", "4", "--name", "plain text"] and report["scaled"] == 40
    assert report["env"]["SM_FRAMEWORK_MODULE"] == "sagemaker_pytorch_container.training:main"


def test_a_failing_program_fails_as_the_toolkit_reports_it(clients):
    s3, sm, _ = clients
    source = put_source_archive(
        s3,
        "bad/sourcedir.tar.gz",
        {
            "train.py": """
        import sys
        print("reading the data")
        raise ValueError("the data has no rows")
    """
        },
    )
    for name, image in (("bad-sklearn", IMAGE), ("bad-pytorch", PYTORCH)):
        start_script_mode_training(
            sm, name, {"sagemaker_program": '"train.py"', "sagemaker_submit_directory": json.dumps(source)}, image=image
        )
    command = f'Command "{sys.executable} train.py", exit code: 1'
    # scikit-learn's container does not capture the program's stderr; PyTorch's does, for the reason
    sklearn = wait_for_training(sm, "bad-sklearn")
    assert sklearn["TrainingJobStatus"] == "Failed"
    assert (
        sklearn["FailureReason"] == f'AlgorithmError: ExecuteUserScriptError:\nExitCode 1\nErrorMessage ""\n{command}'
    )
    pytorch = wait_for_training(sm, "bad-pytorch")
    assert pytorch["FailureReason"].startswith(
        'AlgorithmError: ExecuteUserScriptError:\nExitCode 1\nErrorMessage "Traceback (most recent call last):'
    )
    assert pytorch["FailureReason"].endswith(f'ValueError: the data has no rows"\n{command}')


@pytest.mark.parametrize(
    "framework, version, extra",
    [
        ("sklearn", "1.2-1", {}),
        ("xgboost", "1.7-1", {}),
        ("pytorch", "2.1", {"py_version": "py310"}),
        ("tensorflow", "2.13", {"py_version": "py310"}),
        ("mxnet", "1.9.0", {"py_version": "py38"}),
        ("chainer", "5.0.0", {"py_version": "py3"}),
        (
            "huggingface",
            "4.28.1",
            {"base_framework_version": "pytorch2.0.0", "py_version": "py310", "instance_type": "ml.g5.xlarge"},
        ),
    ],
)
def test_every_framework_image_of_the_sdk_runs_script_mode(clients, framework, version, extra):
    from sagemaker.core import image_uris

    s3, sm, logs = clients
    image = image_uris.retrieve(
        framework,
        region="us-east-1",
        version=version,
        image_scope="training",
        **{"instance_type": "ml.m5.large", **extra},
    )
    source = put_source_archive(s3, f"{framework}/sourcedir.tar.gz", {"fit.py": "print('fitted')\n"})
    start_script_mode_training(
        sm, f"fit-{framework}", {"sagemaker_program": "fit.py", "sagemaker_submit_directory": source}, image=image
    )
    job = wait_for_training(sm, f"fit-{framework}")
    assert job["TrainingJobStatus"] == "Completed", (image, job.get("FailureReason"))
    assert "fitted" in job_log(logs, TRAINING_LOGS, f"fit-{framework}")


def tarball(members: list[tuple[tarfile.TarInfo, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for info, data in members:
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data else None)
    return buffer.getvalue()


def test_what_local_aws_cannot_run_fails_the_job_with_a_client_error(clients, tmp_path):
    s3, sm, _ = clients
    source = put_source_archive(s3, "ok/sourcedir.tar.gz", {"train.py": "print('ok')\n"})
    link = tarfile.TarInfo("escape")
    link.type, link.linkname = tarfile.SYMTYPE, str(tmp_path)
    s3.put_object(
        Bucket=BUCKET,
        Key="evil/sourcedir.tar.gz",
        Body=tarball(
            [(tarfile.TarInfo("train.py"), b"print('ok')\n"), (tarfile.TarInfo("../../escaped.py"), b"x = 1\n")]
        ),
    )
    s3.put_object(Bucket=BUCKET, Key="link/sourcedir.tar.gz", Body=tarball([(link, b"")]))
    program = {"sagemaker_program": "train.py"}
    jobs = {
        "own-image": (
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/my-algorithm:latest",
            {**program, "sagemaker_submit_directory": source},
        ),
        "built-in": ("382416733822.dkr.ecr.us-east-1.amazonaws.com/linear-learner:1", {"feature_dim": "4"}),
        "no-program": (IMAGE, {"max_depth": "3"}),
        "no-archive": (IMAGE, {**program, "sagemaker_submit_directory": f"s3://{BUCKET}/missing/sourcedir.tar.gz"}),
        "climbing": (IMAGE, {**program, "sagemaker_submit_directory": f"s3://{BUCKET}/evil/sourcedir.tar.gz"}),
        "linking": (IMAGE, {**program, "sagemaker_submit_directory": f"s3://{BUCKET}/link/sourcedir.tar.gz"}),
    }
    for name, (image, hyperparameters) in jobs.items():
        start_script_mode_training(sm, name, hyperparameters, image=image)
    reasons = {name: wait_for_training(sm, name)["FailureReason"] for name in jobs}
    assert reasons["own-image"].startswith(
        "ClientError: local_aws cannot run the image 123456789012.dkr.ecr.us-east-1.amazonaws.com/my-algorithm:latest "
        "without a ContainerEntrypoint"
    )
    assert reasons["built-in"].startswith("ClientError: local_aws cannot run the image 382416733822.dkr.ecr.")
    assert reasons["no-program"].startswith(
        f"ClientError: the framework image {IMAGE} runs a script named by the sagemaker_program hyperparameter"
    )
    assert reasons["no-archive"] == (
        f"ClientError: Failed to download the source code: s3://{BUCKET}/missing/"
        "sourcedir.tar.gz (sagemaker_submit_directory) does not exist."
    )
    assert reasons["climbing"].startswith(
        f"ClientError: the source archive s3://{BUCKET}/evil/sourcedir.tar.gz has "
        "a member that would be written outside /opt/ml/code"
    )
    assert reasons["linking"].startswith(
        f"ClientError: the source archive s3://{BUCKET}/link/sourcedir.tar.gz has "
        "a member that would be written outside /opt/ml/code"
    )
    assert list(tmp_path.iterdir()) == []
