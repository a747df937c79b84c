"""SageMaker processing and training jobs that really run (moto only records them).

Create returns at once, as on AWS; a thread per job stages the inputs, runs the container (see
job_runner), uploads the outputs and moves the job through AWS's statuses: InProgress ->
Completed | Failed | Stopping -> Stopped, and for training the SecondaryStatus transitions
Starting -> Downloading -> Training -> Uploading -> Completed. Describe echoes the request back
with the times, FailureReason and ExitMessage AWS fills in. Pipeline steps call the same handlers.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import re
import threading
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import urlparse

from local_aws import opt_ml_guard
from local_aws.config import home_dir
from local_aws.job_runner import Container, ContainerError, ContainerSpec, RunResult, S3Input, S3Output
from local_aws.protocol import AwsError, RequestContext, json_action, now, on_reset, on_shutdown


class ValidationException(AwsError):
    code = "ValidationException"


class ResourceInUse(AwsError):
    code = "ResourceInUse"


PROCESSING, TRAINING = "ProcessingJob", "TrainingJob"
_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")
_ARN_KIND = {PROCESSING: "processing-job", TRAINING: "training-job"}
_NOT_FOUND = {PROCESSING: "Could not find requested job with name {name}", TRAINING: "Requested resource not found."}
TERMINAL = ("Completed", "Failed", "Stopped")

_lock = threading.Lock()
_jobs: dict[tuple[str, str, str, str], "Job"] = {}  # (account, region, kind, name) -> job


@dataclass
class Job:
    kind: str
    name: str
    arn: str
    region: str
    request: dict
    created: dt.datetime = field(default_factory=now)
    status: str = "InProgress"
    last_modified: dt.datetime = field(default_factory=now)
    started: dt.datetime | None = None
    ended: dt.datetime | None = None
    failure_reason: str | None = None
    exit_message: str | None = None
    transitions: list[dict] = field(default_factory=list)  # training SecondaryStatusTransitions
    metrics: list[dict] = field(default_factory=list)
    container: Container | None = None
    stop_requested: threading.Event = field(default_factory=threading.Event)
    discarded: bool = False  # forgotten by a reset: its thread must not write to S3 any more
    thread: threading.Thread | None = None

    def touch(self, **changes: Any) -> None:
        with _lock:
            for key, value in changes.items():
                setattr(self, key, value)
            self.last_modified = now()

    def secondary(self, status: str, message: str) -> None:
        """Close the current SecondaryStatus transition and open the next one."""
        with _lock:
            stamp = now()
            if self.transitions:
                self.transitions[-1].setdefault("EndTime", stamp)
            self.transitions.append({"Status": status, "StartTime": stamp, "StatusMessage": message})
            if status in ("Completed", "Failed", "Stopped", "MaxRuntimeExceeded"):
                self.transitions[-1]["EndTime"] = stamp
            self.last_modified = stamp


@on_reset
def _forget() -> None:
    with _lock:
        jobs = list(_jobs.values())
        _jobs.clear()
    for job in jobs:
        job.discarded = True
        job.stop_requested.set()
        if job.container:
            job.container.stop()


@on_shutdown
def _stop_running() -> None:
    running = [job for job in list(_jobs.values()) if job.status not in TERMINAL]
    for job in running:
        job.stop_requested.set()
        if job.container:
            job.container.stop()
    for job in running:
        if job.thread:
            job.thread.join(timeout=15)


# -- shared ------------------------------------------------------------------------------------
def _validate_name(kind: str, name: str) -> None:
    if not _NAME.fullmatch(name or ""):
        field_name = "processingJobName" if kind == PROCESSING else "trainingJobName"
        raise ValidationException(
            f"1 validation error detected: Value '{name}' at '{field_name}' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")


def _register(kind: str, request: dict, ctx: RequestContext, name: str) -> Job:
    _validate_name(kind, name)
    arn = f"arn:aws:sagemaker:{ctx.region}:{ctx.account_id}:{_ARN_KIND[kind]}/{name.lower()}"
    key = (ctx.account_id, ctx.region, kind, name)
    with _lock:
        if key in _jobs:
            noun = "Processing" if kind == PROCESSING else "Training"
            raise ResourceInUse(f"{noun} job names must be unique within an AWS account and region, and a "
                                f"{noun.lower()} job with this name already exists ({arn})")
        job = Job(kind=kind, name=name, arn=arn, region=ctx.region, request=request)
        _jobs[key] = job
    return job


def _find(kind: str, name: str, ctx: RequestContext) -> Job:
    job = _jobs.get((ctx.account_id, ctx.region, kind, name or ""))
    if job is None:
        raise ValidationException(_NOT_FOUND[kind].format(name=name))
    return job


def _work_dir(ctx: RequestContext, kind: str, name: str):
    port = urlparse(ctx.endpoint_url).port if ctx.endpoint_url else None
    return home_dir(port) / "jobs" / kind / name


def _start(job: Job, body: Callable[[], None]) -> None:
    job.thread = threading.Thread(target=body, name=f"{job.kind}-{job.name}", daemon=True)
    job.thread.start()


def _stop(kind: str, request: dict, ctx: RequestContext, name_key: str) -> dict:
    job = _find(kind, request.get(name_key, ""), ctx)
    if job.status != "InProgress":
        noun = "processing" if kind == PROCESSING else "training"
        raise ValidationException(f"The request was rejected because the {noun} job is in status {job.status}.")
    job.stop_requested.set()
    job.touch(status="Stopping")
    if kind == TRAINING:
        job.secondary("Stopping", "Stopping the training job")
    if job.container:
        job.container.stop()
    return {}


def _failure(result: RunResult, container: Container, failure_file: str = "") -> str:
    """AWS's AlgorithmError reason, or how to pass a literal /opt/ml path when that caused it."""
    unmapped = container.unmapped_paths()
    if unmapped:
        path, root = unmapped[0]
        return ("AlgorithmError: " + opt_ml_guard.explain(path, str(root)))[:1024]
    host = result.failed_host or "algo-1"
    code = result.exit_codes.get(host)
    if failure_file.strip():
        return f"AlgorithmError: {failure_file.strip()}, exit code: {code}"[:1024]
    last = next((line for line in reversed(result.tails.get(host, [])) if line.strip()), "")
    return (f"AlgorithmError: See job logs for more information. ExitCode {code}. "
            f"ErrorMessage \"{last.strip()}\"")[:1024]


def _exit_message(container: Container, result: RunResult | None, failed: bool) -> str | None:
    """/opt/ml/output/message as AWS reports it; for a failed job without one, the output's tail."""
    message = container.read_files("/opt/ml/output/message")
    if not message and failed and result is not None:
        host = result.failed_host or "algo-1"
        message = "\n".join(result.tails.get(host, []))[-1024:]
    return message or None


def _list(kind: str, request: dict, ctx: RequestContext, summary: Callable[[Job], dict], key: str) -> dict:
    jobs = [j for (acct, region, k, _), j in list(_jobs.items()) if (acct, region, k) == (ctx.account_id, ctx.region, kind)]
    contains = (request.get("NameContains") or "").lower()
    jobs = [j for j in jobs if contains in j.name.lower()]
    if request.get("StatusEquals"):
        jobs = [j for j in jobs if j.status == request["StatusEquals"]]
    for name, attr, after in (("CreationTimeAfter", "created", True), ("CreationTimeBefore", "created", False),
                              ("LastModifiedTimeAfter", "last_modified", True),
                              ("LastModifiedTimeBefore", "last_modified", False)):
        if request.get(name) is not None:
            bound = _timestamp(request[name])
            jobs = [j for j in jobs if (getattr(j, attr) > bound if after else getattr(j, attr) < bound)]
    sort_by = request.get("SortBy", "CreationTime")
    sort_key = {"Name": lambda j: j.name, "Status": lambda j: j.status}.get(sort_by, lambda j: j.created)
    jobs.sort(key=sort_key, reverse=request.get("SortOrder", "Descending") == "Descending")
    start = int(request.get("NextToken") or 0)
    size = int(request.get("MaxResults") or 10)
    page = jobs[start:start + size]
    result: dict = {key: [summary(j) for j in page]}
    if start + size < len(jobs):
        result["NextToken"] = str(start + size)
    return result


def _timestamp(value: Any) -> dt.datetime:
    if isinstance(value, (int, float)):
        return dt.datetime.fromtimestamp(value, dt.timezone.utc)
    parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


def _drop_none(record: dict) -> dict:
    return {k: v for k, v in record.items() if v is not None}


# -- processing jobs ---------------------------------------------------------------------------
@json_action("SageMaker", "CreateProcessingJob")
def create_processing_job(request: dict, ctx: RequestContext) -> dict:
    name = request.get("ProcessingJobName", "")
    for inp in request.get("ProcessingInputs", []):
        mode = (inp.get("S3Input") or {}).get("S3InputMode", "File")
        if mode != "File":
            raise ValidationException(f"local_aws stages processing inputs as files: input '{inp.get('InputName')}' "
                                      f"has S3InputMode {mode}; use S3InputMode File.")
        if "S3Input" not in inp:
            raise ValidationException(f"local_aws supports S3 processing inputs only: input "
                                      f"'{inp.get('InputName')}' has no S3Input (DatasetDefinition is not run).")
    job = _register(PROCESSING, request, ctx, name)
    _start(job, lambda: _run_processing(job, ctx))
    return {"ProcessingJobArn": job.arn}


def _processing_spec(job: Job, ctx: RequestContext) -> ContainerSpec:
    req = job.request
    app = req.get("AppSpecification", {})
    cluster = req.get("ProcessingResources", {}).get("ClusterConfig", {})
    config = {k: v for k, v in req.items() if k != "Tags"}
    config["ProcessingJobArn"] = job.arn
    return ContainerSpec(
        job_name=job.name, log_group="/aws/sagemaker/ProcessingJobs", region=ctx.region,
        account_id=ctx.account_id, endpoint_url=ctx.endpoint_url,
        work_dir=_work_dir(ctx, "processing", job.name),
        command=list(app.get("ContainerEntrypoint") or []) + list(app.get("ContainerArguments") or []),
        environment=req.get("Environment") or {},
        instance_count=int(cluster.get("InstanceCount") or 1),
        inputs=[S3Input(i["S3Input"]["LocalPath"], i["S3Input"]["S3Uri"], i["S3Input"].get("S3DataType", "S3Prefix"),
                        i["S3Input"].get("S3DataDistributionType", "FullyReplicated"))
                for i in req.get("ProcessingInputs", [])],
        outputs=[S3Output(o["S3Output"]["LocalPath"], o["S3Output"]["S3Uri"],
                          o["S3Output"].get("S3UploadMode") == "Continuous")
                 for o in (req.get("ProcessingOutputConfig") or {}).get("Outputs", []) if "S3Output" in o],
        max_runtime=(req.get("StoppingCondition") or {}).get("MaxRuntimeInSeconds"),
        host_files=lambda host, hosts: {"/opt/ml/config/processingjobconfig.json": config,
                                        "/opt/ml/config/resourceconfig.json": {"current_host": host, "hosts": hosts}},
    )


def _run_processing(job: Job, ctx: RequestContext) -> None:
    container = Container(_processing_spec(job, ctx))
    job.touch(container=container, started=now())
    result = None
    try:
        container.stage()
        if job.stop_requested.is_set():
            container.stop()
        result = container.run()
        if result.stopped or result.timed_out:
            status, reason = "Stopped", None
        elif result.failed_host:
            status, reason = "Failed", _failure(result, container)
        else:
            container.upload_outputs()
            status, reason = "Completed", None
    except ContainerError as err:
        status, reason = "Failed", str(err)
    except Exception as exc:  # an emulator bug: the job fails and says so
        status, reason = "Failed", f"InternalServerError: local_aws could not run the job: {exc!r}"
    job.touch(status=status, failure_reason=reason, ended=now(),
              exit_message=_exit_message(container, result, status == "Failed"))


@json_action("SageMaker", "DescribeProcessingJob")
def describe_processing_job(request: dict, ctx: RequestContext) -> dict:
    job = _find(PROCESSING, request.get("ProcessingJobName", ""), ctx)
    body = {k: v for k, v in job.request.items() if k != "Tags"}
    body.update(_drop_none({
        "ProcessingJobArn": job.arn, "ProcessingJobStatus": job.status, "ExitMessage": job.exit_message,
        "FailureReason": job.failure_reason, "ProcessingEndTime": job.ended, "ProcessingStartTime": job.started,
        "LastModifiedTime": job.last_modified, "CreationTime": job.created,
    }))
    return body


@json_action("SageMaker", "ListProcessingJobs")
def list_processing_jobs(request: dict, ctx: RequestContext) -> dict:
    def summary(job: Job) -> dict:
        return _drop_none({"ProcessingJobName": job.name, "ProcessingJobArn": job.arn, "CreationTime": job.created,
                           "ProcessingEndTime": job.ended, "LastModifiedTime": job.last_modified,
                           "ProcessingJobStatus": job.status, "FailureReason": job.failure_reason,
                           "ExitMessage": job.exit_message})
    return _list(PROCESSING, request, ctx, summary, "ProcessingJobSummaries")


@json_action("SageMaker", "StopProcessingJob")
def stop_processing_job(request: dict, ctx: RequestContext) -> dict:
    return _stop(PROCESSING, request, ctx, "ProcessingJobName")


# -- training jobs -----------------------------------------------------------------------------
@json_action("SageMaker", "CreateTrainingJob")
def create_training_job(request: dict, ctx: RequestContext) -> dict:
    name = request.get("TrainingJobName", "")
    algorithm = request.get("AlgorithmSpecification") or {}
    for channel in request.get("InputDataConfig", []):
        mode = channel.get("InputMode") or algorithm.get("TrainingInputMode", "File")
        if mode == "Pipe":
            raise ValidationException(f"local_aws stages training channels as files: channel "
                                      f"'{channel.get('ChannelName')}' uses Pipe mode; use File or FastFile.")
        if "S3DataSource" not in channel.get("DataSource", {}):
            raise ValidationException(f"local_aws supports S3 training channels only: channel "
                                      f"'{channel.get('ChannelName')}' has no DataSource.S3DataSource.")
    job = _register(TRAINING, request, ctx, name)
    job.secondary("Starting", "Launching requested ML instances")
    _start(job, lambda: _run_training(job, ctx))
    return {"TrainingJobArn": job.arn}


def _artifact_prefix(job: Job) -> str:
    return f"{job.request['OutputDataConfig']['S3OutputPath'].rstrip('/')}/{job.name}/output"


def _training_host_files(job: Job) -> Callable[[str, list[str]], dict[str, Any]]:
    req = job.request
    resources = req.get("ResourceConfig", {})
    default_mode = (req.get("AlgorithmSpecification") or {}).get("TrainingInputMode", "File")
    channels = {c["ChannelName"]: _drop_none({
        "ContentType": c.get("ContentType"),
        "TrainingInputMode": c.get("InputMode") or default_mode,
        "S3DistributionType": c["DataSource"]["S3DataSource"].get("S3DistributionType", "FullyReplicated"),
        "RecordWrapperType": c.get("RecordWrapperType", "None"),
    }) for c in req.get("InputDataConfig", [])}

    def files(host: str, hosts: list[str]) -> dict[str, Any]:
        group = {"instance_group_name": "homogeneousCluster", "instance_type": resources.get("InstanceType"),
                 "hosts": hosts}
        return {
            "/opt/ml/input/config/hyperparameters.json": req.get("HyperParameters") or {},
            "/opt/ml/input/config/inputdataconfig.json": channels,
            "/opt/ml/input/config/resourceconfig.json": {
                "current_host": host, "current_instance_type": resources.get("InstanceType"),
                "current_group_name": "homogeneousCluster", "hosts": hosts, "instance_groups": [group],
                "network_interface_name": "eth0"},
        }
    return files


def _training_environment(job: Job) -> Callable[[str, list[str]], dict[str, str]]:
    """The SM_* variables the SageMaker training toolkit sets, plus TRAINING_JOB_NAME/ARN."""
    req = job.request
    channels = [c["ChannelName"] for c in req.get("InputDataConfig", [])]
    hps = {k: _decoded(v) for k, v in (req.get("HyperParameters") or {}).items()}

    def environment(host: str, hosts: list[str]) -> dict[str, str]:
        env = {
            "TRAINING_JOB_NAME": job.name, "TRAINING_JOB_ARN": job.arn,
            "SM_MODEL_DIR": "/opt/ml/model", "SM_INPUT_DIR": "/opt/ml/input",
            "SM_INPUT_DATA_DIR": "/opt/ml/input/data", "SM_INPUT_CONFIG_DIR": "/opt/ml/input/config",
            "SM_OUTPUT_DIR": "/opt/ml/output", "SM_OUTPUT_DATA_DIR": "/opt/ml/output/data",
            "SM_OUTPUT_FAILURE": "/opt/ml/output/failure",
            "SM_CHANNELS": json.dumps(channels), "SM_HPS": json.dumps(hps),
            "SM_HOSTS": json.dumps(hosts), "SM_CURRENT_HOST": host, "SM_HOST_COUNT": str(len(hosts)),
            "SM_CURRENT_HOST_RANK": str(hosts.index(host)),
            "SM_CURRENT_INSTANCE_TYPE": req.get("ResourceConfig", {}).get("InstanceType", ""),
            "SM_NUM_CPUS": str(os.cpu_count() or 1), "SM_NUM_GPUS": "0",
        }
        env.update({f"SM_CHANNEL_{c.upper()}": f"/opt/ml/input/data/{c}" for c in channels})
        env.update({f"SM_HP_{k.replace('-', '_').upper()}": v for k, v in (req.get("HyperParameters") or {}).items()})
        env["SM_TRAINING_ENV"] = json.dumps({
            "job_name": job.name, "current_host": host, "hosts": hosts, "hyperparameters": hps,
            "channel_input_dirs": {c: f"/opt/ml/input/data/{c}" for c in channels},
            "model_dir": "/opt/ml/model", "output_data_dir": "/opt/ml/output/data",
            "input_dir": "/opt/ml/input", "input_config_dir": "/opt/ml/input/config",
            "num_cpus": os.cpu_count() or 1, "num_gpus": 0})
        return env
    return environment


def _decoded(value: str) -> Any:
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        return value


def _training_spec(job: Job, ctx: RequestContext) -> ContainerSpec:
    req = job.request
    algorithm = req.get("AlgorithmSpecification") or {}
    inputs = []
    for channel in req.get("InputDataConfig", []):
        source = channel["DataSource"]["S3DataSource"]
        inputs.append(S3Input(f"/opt/ml/input/data/{channel['ChannelName']}", source["S3Uri"],
                              source.get("S3DataType", "S3Prefix"),
                              source.get("S3DataDistributionType", "FullyReplicated")))
    checkpoint = req.get("CheckpointConfig") or {}
    outputs = [S3Output(checkpoint.get("LocalPath", "/opt/ml/checkpoints"), checkpoint["S3Uri"], continuous=True)] \
        if checkpoint.get("S3Uri") else []
    return ContainerSpec(
        job_name=job.name, log_group="/aws/sagemaker/TrainingJobs", region=ctx.region, account_id=ctx.account_id,
        endpoint_url=ctx.endpoint_url, work_dir=_work_dir(ctx, "training", job.name),
        command=list(algorithm.get("ContainerEntrypoint") or []) + list(algorithm.get("ContainerArguments") or []),
        environment=req.get("Environment") or {},
        instance_count=int(req.get("ResourceConfig", {}).get("InstanceCount") or 1),
        inputs=inputs, outputs=outputs,
        directories=["/opt/ml/model", "/opt/ml/output/data", "/opt/ml/code"],
        max_runtime=(req.get("StoppingCondition") or {}).get("MaxRuntimeInSeconds"),
        host_files=_training_host_files(job), host_environment=_training_environment(job),
        driver_dirs=["/opt/ml/input/data/sm_drivers"],
    )


def _final_metrics(definitions: list[dict], lines: list[tuple[int, str]]) -> list[dict]:
    """The last value each MetricDefinitions regex matched in the job's output, as AWS reports it."""
    metrics = []
    for definition in definitions:
        pattern = re.compile(definition["Regex"])
        last = None
        for stamp, text in lines:
            match = pattern.search(text)
            if match:
                try:
                    last = (stamp, float(match.group(1) if match.groups() else match.group(0)))
                except ValueError:
                    continue
        if last:
            metrics.append({"MetricName": definition["Name"], "Value": last[1],
                            "Timestamp": dt.datetime.fromtimestamp(last[0] / 1000, dt.timezone.utc)})
    return metrics


def _run_training(job: Job, ctx: RequestContext) -> None:
    container = Container(_training_spec(job, ctx))
    job.touch(container=container)
    result = None
    try:
        job.secondary("Downloading", "Downloading input data")
        container.stage()
        if job.stop_requested.is_set():
            container.stop()
        job.touch(started=now())
        job.secondary("Training", "Training image download completed. Training in progress.")
        result = container.run()
        definitions = (job.request.get("AlgorithmSpecification") or {}).get("MetricDefinitions") or []
        job.touch(metrics=_final_metrics(definitions, sorted(result.lines)))
        if job.discarded:
            return
        if result.failed_host and not (result.stopped or result.timed_out):
            status = "Failed"
            reason = _failure(result, container, container.read_files("/opt/ml/output/failure"))
        else:
            job.secondary("Uploading", "Uploading generated training model")
            prefix = _artifact_prefix(job)
            container.upload_tarball("/opt/ml/model", f"{prefix}/model.tar.gz")
            container.upload_tarball("/opt/ml/output/data", f"{prefix}/output.tar.gz", skip_empty=True)
            container.upload_outputs()
            status, reason = ("Stopped" if result.stopped or result.timed_out else "Completed"), None
    except ContainerError as err:
        status, reason = "Failed", str(err)
    except Exception as exc:  # an emulator bug: the job fails and says so
        status, reason = "Failed", f"InternalServerError: local_aws could not run the job: {exc!r}"
    if status == "Failed":
        job.secondary("Failed", f"Training job failed. Reason: {reason}"[:1024])
    elif result is not None and result.timed_out:
        job.secondary("MaxRuntimeExceeded", "Training job exceeded MaxRuntimeInSeconds provided")
    elif status == "Stopped":
        job.secondary("Stopped", "Training job stopped")
    else:
        job.secondary("Completed", "Training job completed")
    job.touch(status=status, failure_reason=reason, ended=now(),
              exit_message=_exit_message(container, result, status == "Failed"))


@json_action("SageMaker", "DescribeTrainingJob")
def describe_training_job(request: dict, ctx: RequestContext) -> dict:
    job = _find(TRAINING, request.get("TrainingJobName", ""), ctx)
    body = {k: v for k, v in job.request.items() if k != "Tags"}
    with _lock:
        transitions = [dict(t) for t in job.transitions]
        metrics = list(job.metrics)
    seconds = int(((job.ended or now()) - job.started).total_seconds()) if job.started else None
    body.update(_drop_none({
        "TrainingJobArn": job.arn,
        "ModelArtifacts": {"S3ModelArtifacts": f"{_artifact_prefix(job)}/model.tar.gz"},
        "TrainingJobStatus": job.status, "SecondaryStatus": transitions[-1]["Status"] if transitions else "Starting",
        "FailureReason": job.failure_reason, "CreationTime": job.created, "TrainingStartTime": job.started,
        "TrainingEndTime": job.ended, "LastModifiedTime": job.last_modified,
        "SecondaryStatusTransitions": transitions, "FinalMetricDataList": metrics or None,
        "TrainingTimeInSeconds": seconds if job.ended else None,
        "BillableTimeInSeconds": seconds if job.ended else None,
        "EnableNetworkIsolation": job.request.get("EnableNetworkIsolation", False),
        "EnableInterContainerTrafficEncryption": job.request.get("EnableInterContainerTrafficEncryption", False),
        "EnableManagedSpotTraining": job.request.get("EnableManagedSpotTraining", False),
    }))
    return body


@json_action("SageMaker", "ListTrainingJobs")
def list_training_jobs(request: dict, ctx: RequestContext) -> dict:
    def summary(job: Job) -> dict:
        return _drop_none({"TrainingJobName": job.name, "TrainingJobArn": job.arn, "CreationTime": job.created,
                           "TrainingEndTime": job.ended, "LastModifiedTime": job.last_modified,
                           "TrainingJobStatus": job.status,
                           "SecondaryStatus": job.transitions[-1]["Status"] if job.transitions else None})
    return _list(TRAINING, request, ctx, summary, "TrainingJobSummaries")


@json_action("SageMaker", "StopTrainingJob")
def stop_training_job(request: dict, ctx: RequestContext) -> dict:
    return _stop(TRAINING, request, ctx, "TrainingJobName")
