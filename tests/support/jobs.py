"""Builders for the jobs tests: scripts and source archives in S3, processing, training and script-mode
requests, waiting for the end, job logs, and whether a process has ended."""

from __future__ import annotations

import io
import tarfile
import textwrap

import psutil

from support import wait_until

ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.9-0-cpu-py3"
PROCESSING_BUCKET = "jobs-bucket"
TRAINING_BUCKET = "train-bucket"
TERMINAL = ("Completed", "Failed", "Stopped")
PROCESSING_LOGS = "/aws/sagemaker/ProcessingJobs"
TRAINING_LOGS = "/aws/sagemaker/TrainingJobs"


# -- processing ----------------------------------------------------------------------------------
def put_script(s3, name: str, source: str) -> str:
    """A processing script under code/ in the processing bucket; its S3 URI."""
    s3.put_object(Bucket=PROCESSING_BUCKET, Key=f"code/{name}", Body=textwrap.dedent(source).encode())
    return f"s3://{PROCESSING_BUCKET}/code/{name}"


def code_input(uri: str) -> dict:
    return {
        "InputName": "code",
        "S3Input": {
            "S3Uri": uri,
            "LocalPath": "/opt/ml/processing/input/code",
            "S3DataType": "S3Prefix",
            "S3InputMode": "File",
        },
    }


def processing_output(name: str, uri: str, mode: str = "EndOfJob") -> dict:
    return {
        "OutputName": name,
        "S3Output": {"S3Uri": uri, "LocalPath": f"/opt/ml/processing/{name}", "S3UploadMode": mode},
    }


def start_processing(
    sm, name: str, script: str, *, args=(), inputs=(), outputs=(), count=1, env=None, runtime=None, role=ROLE
) -> None:
    """CreateProcessingJob running `python3 <script>` (put with put_script) with these extras."""
    request = dict(
        ProcessingJobName=name,
        RoleArn=role,
        ProcessingResources={
            "ClusterConfig": {"InstanceCount": count, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 5}
        },
        AppSpecification={
            "ImageUri": IMAGE,
            "ContainerEntrypoint": ["python3", f"/opt/ml/processing/input/code/{script}"],
        },
        ProcessingInputs=[code_input(f"s3://{PROCESSING_BUCKET}/code/{script}"), *inputs],
    )
    if args:
        request["AppSpecification"]["ContainerArguments"] = list(args)
    if outputs:
        request["ProcessingOutputConfig"] = {"Outputs": list(outputs)}
    if env:
        request["Environment"] = env
    if runtime:
        request["StoppingCondition"] = {"MaxRuntimeInSeconds": runtime}
    sm.create_processing_job(**request)


def wait_for_processing(sm, name: str, timeout: float = 60) -> dict:
    """DescribeProcessingJob once the job is Completed, Failed or Stopped."""
    return wait_until(
        lambda: sm.describe_processing_job(ProcessingJobName=name),
        lambda job: job["ProcessingJobStatus"] in TERMINAL,
        timeout=timeout,
        interval=0.1,
        what=f"the end of processing job {name}",
    )


# -- training ------------------------------------------------------------------------------------
def channel(name: str, uri: str, distribution: str = "FullyReplicated") -> dict:
    return {
        "ChannelName": name,
        "DataSource": {
            "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": uri, "S3DataDistributionType": distribution}
        },
    }


def start_training(
    sm, s3, name: str, source: str, *, hyperparameters=None, channels=(), metrics=(), count=1, runtime=3600
) -> None:
    """CreateTrainingJob running `source` as /opt/ml/input/data/code/train.py; models under models/."""
    s3.put_object(Bucket=TRAINING_BUCKET, Key=f"code/{name}/train.py", Body=textwrap.dedent(source).encode())
    sm.create_training_job(
        TrainingJobName=name,
        RoleArn=ROLE,
        AlgorithmSpecification={
            "TrainingImage": IMAGE,
            "TrainingInputMode": "File",
            "ContainerEntrypoint": ["python3", "/opt/ml/input/data/code/train.py"],
            "MetricDefinitions": list(metrics),
        },
        HyperParameters=hyperparameters or {},
        InputDataConfig=[channel("code", f"s3://{TRAINING_BUCKET}/code/{name}/"), *channels],
        OutputDataConfig={"S3OutputPath": f"s3://{TRAINING_BUCKET}/models"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": count, "VolumeSizeInGB": 5},
        StoppingCondition={"MaxRuntimeInSeconds": runtime},
    )


def wait_for_training(sm, name: str, timeout: float = 60) -> dict:
    """DescribeTrainingJob once the job is Completed, Failed or Stopped."""
    return wait_until(
        lambda: sm.describe_training_job(TrainingJobName=name),
        lambda job: job["TrainingJobStatus"] in TERMINAL,
        timeout=timeout,
        interval=0.1,
        what=f"the end of training job {name}",
    )


def put_source_archive(s3, key: str, files: dict[str, str]) -> str:
    """A sourcedir.tar.gz of `files` (name -> source) in the training bucket, as the SDK uploads one; its S3 URI."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, source in files.items():
            data = textwrap.dedent(source).encode()
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
    s3.put_object(Bucket=TRAINING_BUCKET, Key=key, Body=buffer.getvalue())
    return f"s3://{TRAINING_BUCKET}/{key}"


def start_script_mode_training(
    sm, name: str, hyperparameters: dict[str, str], *, image: str = IMAGE, channels=(), metrics=()
) -> None:
    """CreateTrainingJob as a framework estimator or a tuner sends it: no ContainerEntrypoint, the program and
    its source archive named by the sagemaker_* hyperparameters; models under models/."""
    algorithm = {"TrainingImage": image, "TrainingInputMode": "File"}
    if metrics:
        algorithm["MetricDefinitions"] = list(metrics)
    request = dict(
        TrainingJobName=name,
        RoleArn=ROLE,
        AlgorithmSpecification=algorithm,
        HyperParameters=hyperparameters,
        OutputDataConfig={"S3OutputPath": f"s3://{TRAINING_BUCKET}/models"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 5},
        StoppingCondition={"MaxRuntimeInSeconds": 600},
    )
    if channels:
        request["InputDataConfig"] = list(channels)
    sm.create_training_job(**request)


def untar(s3, uri: str) -> dict[str, bytes]:
    """The files of the .tar.gz at an s3:// URI (a model.tar.gz, say): name -> bytes."""
    bucket, key = uri[len("s3://") :].split("/", 1)
    with tarfile.open(fileobj=io.BytesIO(s3.get_object(Bucket=bucket, Key=key)["Body"].read())) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}


# -- both ----------------------------------------------------------------------------------------
def job_log(logs, group: str, name: str) -> list[str]:
    """Every line of a job's CloudWatch Logs (all its hosts' streams, host by host)."""
    streams = logs.describe_log_streams(logGroupName=group, logStreamNamePrefix=f"{name}/")["logStreams"]
    return [
        event["message"]
        for stream in sorted(s["logStreamName"] for s in streams)
        for event in logs.get_log_events(logGroupName=group, logStreamName=stream, startFromHead=True)["events"]
    ]


def gone(pid: int) -> bool:
    """Whether a process has ended (a zombie waiting for its parent to reap it counts as ended)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True
