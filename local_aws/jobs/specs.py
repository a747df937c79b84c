"""From a Create*Job request to what its container needs: inputs, outputs, files and environment.

A processing job gets /opt/ml/config/processingjobconfig.json and resourceconfig.json; a training job
gets /opt/ml/input/config/{hyperparameters,inputdataconfig,resourceconfig}.json, one channel per
/opt/ml/input/data/<channel> and the SM_* environment the SageMaker training toolkit sets; one with no
ContainerEntrypoint runs its framework image's script mode (see script_mode). At Create,
requests are refused here as AWS refuses them beyond botocore's model (a processing LocalPath outside
/opt/ml/processing/), and when local_aws cannot run them as asked (Pipe mode, non-S3 sources). Each
input and output says which container directory its path must stay in once resolved (see sandbox).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from local_aws.core.gateway.context import RequestContext
from local_aws.core.gateway.errors import ValidationException
from local_aws.core.runtime.config import home_dir
from local_aws.core.service import drop_none
from local_aws.job_side.opt_ml_guard import CONTAINER_ROOT
from local_aws.jobs import script_mode
from local_aws.jobs.models import Job, JobKind
from local_aws.jobs.script_mode import CODE_DIR, ScriptMode

PROCESSING_ROOT = "/opt/ml/processing"
CHANNELS_ROOT = "/opt/ml/input/data"
HostFiles = Callable[[str, list[str]], dict[str, Any]]  # (host, hosts) -> container path -> JSON content
HostEnvironment = Callable[[str, list[str]], dict[str, str]]
NO_COMMAND = (
    "ClientError: local_aws runs the job's command as a local process and cannot run an image's built-in "
    "entrypoint; set the container entrypoint (e.g. ['python3', '/opt/ml/processing/input/code/script.py'])."
)


class ContainerError(Exception):
    """The job cannot run as asked (missing input, bucket, entrypoint, a path outside its sandbox): its
    FailureReason. Not an API error: the job fails with this reason."""


@dataclass
class S3Input:
    container_path: str  # e.g. /opt/ml/processing/input/data or /opt/ml/input/data/train
    s3_uri: str
    data_type: str = "S3Prefix"  # S3Prefix | ManifestFile
    distribution: str = "FullyReplicated"  # or ShardedByS3Key
    confined_to: str = CONTAINER_ROOT  # the container directory the path must resolve inside


@dataclass
class S3Output:
    container_path: str
    s3_uri: str
    continuous: bool = False
    confined_to: str = CONTAINER_ROOT


@dataclass
class ContainerSpec:
    job_name: str
    role_arn: str  # the job's processes act as this role (see local_aws.core.iam.credentials)
    log_group: str  # /aws/sagemaker/ProcessingJobs | /aws/sagemaker/TrainingJobs
    region: str
    account_id: str
    endpoint_url: str  # how the job reaches the server
    home: Path  # the server's home: its record of running job processes is there (see process_registry)
    work_dir: Path  # holds one /opt/ml stand-in per host
    command: list[str]  # as the container would run it (entrypoint + arguments)
    no_command_reason: str = NO_COMMAND  # the FailureReason when there is no command
    environment: dict[str, str] = field(default_factory=dict)
    instance_count: int = 1
    inputs: list[S3Input] = field(default_factory=list)
    outputs: list[S3Output] = field(default_factory=list)
    directories: list[str] = field(default_factory=list)  # container dirs that exist from the start
    max_runtime: int | None = None
    host_files: HostFiles = lambda host, hosts: {}
    host_environment: HostEnvironment = lambda host, hosts: {}
    driver_dirs: list[str] = field(default_factory=list)  # SDK-generated driver scripts: paths rewritten
    code_archive: str | None = None  # S3 URI of a .tar.gz unpacked into /opt/ml/code (script mode)


def check_runnable(kind: JobKind, request: dict) -> None:
    """Refuse, at Create, what AWS refuses beyond the model and what local_aws cannot run (inputs that
    are not S3 files)."""
    if kind is JobKind.PROCESSING:
        _check_processing_local_paths(request)
        for inp in request.get("ProcessingInputs", []):
            mode = (inp.get("S3Input") or {}).get("S3InputMode", "File")
            if mode != "File":
                raise ValidationException(
                    f"local_aws stages processing inputs as files: input "
                    f"'{inp.get('InputName')}' has S3InputMode {mode}; use S3InputMode File."
                )
            if "S3Input" not in inp:
                raise ValidationException(
                    f"local_aws supports S3 processing inputs only: input "
                    f"'{inp.get('InputName')}' has no S3Input (DatasetDefinition is not run)."
                )
        return
    algorithm = request.get("AlgorithmSpecification") or {}
    for channel in request.get("InputDataConfig", []):
        mode = channel.get("InputMode") or algorithm.get("TrainingInputMode", "File")
        if mode == "Pipe":
            raise ValidationException(
                f"local_aws stages training channels as files: channel "
                f"'{channel.get('ChannelName')}' uses Pipe mode; use File or FastFile."
            )
        if "S3DataSource" not in channel.get("DataSource", {}):
            raise ValidationException(
                f"local_aws supports S3 training channels only: channel "
                f"'{channel.get('ChannelName')}' has no DataSource.S3DataSource."
            )


def _check_processing_local_paths(request: dict) -> None:
    """AWS's rule: a processing input's or output's LocalPath must begin with /opt/ml/processing/."""
    members = [
        ("ProcessingInput", i.get("InputName"), i[source], i.get("AppManaged"))
        for i in request.get("ProcessingInputs", [])
        for source in ("S3Input", "DatasetDefinition")
        if source in i
    ]
    members += [
        ("ProcessingOutput", o.get("OutputName"), o["S3Output"], o.get("AppManaged"))
        for o in (request.get("ProcessingOutputConfig") or {}).get("Outputs", [])
        if "S3Output" in o
    ]
    for member, name, source, app_managed in members:
        path = source.get("LocalPath")
        if path is None and not app_managed:
            raise ValidationException(
                f"LocalPath is required for {member} '{name}': it is a required parameter "
                f"when AppManaged is False (default)."
            )
        if path is None:
            raise ValidationException(
                f"local_aws stages processing data itself: {member} '{name}' has "
                f"AppManaged true and no LocalPath; give it a LocalPath under "
                f"{PROCESSING_ROOT}/."
            )
        if not path.startswith(PROCESSING_ROOT + "/"):
            raise ValidationException(
                f"LocalPath {path} of {member} '{name}' is not valid: LocalPath must be an "
                f"absolute path that begins with {PROCESSING_ROOT}/."
            )


def artifact_prefix(job: Job) -> str:
    """Where a training job's model.tar.gz and output.tar.gz go, as AWS names it."""
    return f"{job.request['OutputDataConfig']['S3OutputPath'].rstrip('/')}/{job.name}/output"


def _home(ctx: RequestContext) -> Path:
    return home_dir(urlparse(ctx.endpoint_url).port if ctx.endpoint_url else None)


def _work_dir(ctx: RequestContext, job: Job) -> Path:
    return _home(ctx) / "jobs" / job.kind.noun / job.name


def _max_runtime(request: dict) -> int | None:
    return (request.get("StoppingCondition") or {}).get("MaxRuntimeInSeconds")


def processing_spec(job: Job, ctx: RequestContext) -> ContainerSpec:
    req = job.request
    app = req.get("AppSpecification", {})
    cluster = req.get("ProcessingResources", {}).get("ClusterConfig", {})
    config = {k: v for k, v in req.items() if k != "Tags"}
    config["ProcessingJobArn"] = job.arn
    return ContainerSpec(
        job_name=job.name,
        role_arn=req["RoleArn"],
        log_group=job.kind.log_group,
        region=ctx.region,
        account_id=ctx.account_id,
        endpoint_url=ctx.endpoint_url,
        home=_home(ctx),
        work_dir=_work_dir(ctx, job),
        command=list(app.get("ContainerEntrypoint") or []) + list(app.get("ContainerArguments") or []),
        environment=req.get("Environment") or {},
        instance_count=int(cluster.get("InstanceCount") or 1),
        inputs=[
            S3Input(
                i["S3Input"]["LocalPath"],
                i["S3Input"]["S3Uri"],
                i["S3Input"].get("S3DataType", "S3Prefix"),
                i["S3Input"].get("S3DataDistributionType", "FullyReplicated"),
                PROCESSING_ROOT,
            )
            for i in req.get("ProcessingInputs", [])
        ],
        outputs=[
            S3Output(
                o["S3Output"]["LocalPath"],
                o["S3Output"]["S3Uri"],
                o["S3Output"].get("S3UploadMode") == "Continuous",
                PROCESSING_ROOT,
            )
            for o in (req.get("ProcessingOutputConfig") or {}).get("Outputs", [])
            if "S3Output" in o
        ],
        max_runtime=_max_runtime(req),
        host_files=lambda host, hosts: {
            "/opt/ml/config/processingjobconfig.json": config,
            "/opt/ml/config/resourceconfig.json": {"current_host": host, "hosts": hosts},
        },
    )


def training_spec(job: Job, ctx: RequestContext) -> ContainerSpec:
    req = job.request
    algorithm = req.get("AlgorithmSpecification") or {}
    inputs = []
    for channel in req.get("InputDataConfig", []):
        source = channel["DataSource"]["S3DataSource"]
        inputs.append(
            S3Input(
                f"{CHANNELS_ROOT}/{channel['ChannelName']}",
                source["S3Uri"],
                source.get("S3DataType", "S3Prefix"),
                source.get("S3DataDistributionType", "FullyReplicated"),
                CHANNELS_ROOT,
            )
        )
    checkpoint = req.get("CheckpointConfig") or {}
    outputs = (
        [S3Output(checkpoint.get("LocalPath", "/opt/ml/checkpoints"), checkpoint["S3Uri"], continuous=True)]
        if checkpoint.get("S3Uri")
        else []
    )
    command = list(algorithm.get("ContainerEntrypoint") or []) + list(algorithm.get("ContainerArguments") or [])
    script, no_command = None, NO_COMMAND
    if not algorithm.get("ContainerEntrypoint"):
        try:
            script = script_mode.plan(req)
            command = script.command()
        except script_mode.NotRunnable as err:
            command, no_command = [], str(err)
    host_files = _training_host_files(job)
    return ContainerSpec(
        job_name=job.name,
        role_arn=req["RoleArn"],
        log_group=job.kind.log_group,
        region=ctx.region,
        account_id=ctx.account_id,
        endpoint_url=ctx.endpoint_url,
        home=_home(ctx),
        work_dir=_work_dir(ctx, job),
        command=command,
        no_command_reason=no_command,
        environment=req.get("Environment") or {},
        instance_count=int(req.get("ResourceConfig", {}).get("InstanceCount") or 1),
        inputs=inputs,
        outputs=outputs,
        directories=["/opt/ml/model", "/opt/ml/output/data", CODE_DIR],
        max_runtime=_max_runtime(req),
        host_files=host_files,
        host_environment=_training_environment(job, host_files, script),
        driver_dirs=["/opt/ml/input/data/sm_drivers"],
        code_archive=script.submit_directory if script else None,
    )


def _training_host_files(job: Job) -> HostFiles:
    req = job.request
    resources = req.get("ResourceConfig", {})
    default_mode = (req.get("AlgorithmSpecification") or {}).get("TrainingInputMode", "File")
    channels = {
        c["ChannelName"]: drop_none(
            {
                "ContentType": c.get("ContentType"),
                "TrainingInputMode": c.get("InputMode") or default_mode,
                "S3DistributionType": c["DataSource"]["S3DataSource"].get("S3DistributionType", "FullyReplicated"),
                "RecordWrapperType": c.get("RecordWrapperType", "None"),
            }
        )
        for c in req.get("InputDataConfig", [])
    }

    def files(host: str, hosts: list[str]) -> dict[str, Any]:
        group = {
            "instance_group_name": "homogeneousCluster",
            "instance_type": resources.get("InstanceType"),
            "hosts": hosts,
        }
        return {
            "/opt/ml/input/config/hyperparameters.json": req.get("HyperParameters") or {},
            "/opt/ml/input/config/inputdataconfig.json": channels,
            "/opt/ml/input/config/resourceconfig.json": {
                "current_host": host,
                "current_instance_type": resources.get("InstanceType"),
                "current_group_name": "homogeneousCluster",
                "hosts": hosts,
                "instance_groups": [group],
                "network_interface_name": "eth0",
            },
        }

    return files


def _training_environment(job: Job, host_files: HostFiles, script: ScriptMode | None) -> HostEnvironment:
    """TRAINING_JOB_NAME/ARN and the SM_* variables the SageMaker training toolkit sets: exactly the toolkit's
    in script mode, the common ones otherwise."""
    req = job.request
    channels = [c["ChannelName"] for c in req.get("InputDataConfig", [])]
    hyperparameters = req.get("HyperParameters") or {}
    hps = {k: script_mode.decoded(v) for k, v in hyperparameters.items()}
    cpus = os.cpu_count() or 1

    def environment(host: str, hosts: list[str]) -> dict[str, str]:
        if script is not None:
            files = host_files(host, hosts)
            return {
                "TRAINING_JOB_NAME": job.name,
                "TRAINING_JOB_ARN": job.arn,
                **script.environment(
                    job.name,
                    host,
                    hosts,
                    files["/opt/ml/input/config/resourceconfig.json"],
                    files["/opt/ml/input/config/inputdataconfig.json"],
                    {c: f"{CHANNELS_ROOT}/{c}" for c in channels},
                ),
            }
        env = {
            "TRAINING_JOB_NAME": job.name,
            "TRAINING_JOB_ARN": job.arn,
            "SM_MODEL_DIR": "/opt/ml/model",
            "SM_INPUT_DIR": "/opt/ml/input",
            "SM_INPUT_DATA_DIR": "/opt/ml/input/data",
            "SM_INPUT_CONFIG_DIR": "/opt/ml/input/config",
            "SM_OUTPUT_DIR": "/opt/ml/output",
            "SM_OUTPUT_DATA_DIR": "/opt/ml/output/data",
            "SM_OUTPUT_FAILURE": "/opt/ml/output/failure",
            "SM_CHANNELS": json.dumps(channels),
            "SM_HPS": json.dumps(hps),
            "SM_HOSTS": json.dumps(hosts),
            "SM_CURRENT_HOST": host,
            "SM_HOST_COUNT": str(len(hosts)),
            "SM_CURRENT_HOST_RANK": str(hosts.index(host)),
            "SM_CURRENT_INSTANCE_TYPE": req.get("ResourceConfig", {}).get("InstanceType", ""),
            "SM_NUM_CPUS": str(cpus),
            "SM_NUM_GPUS": "0",
        }
        env.update({f"SM_CHANNEL_{c.upper()}": f"/opt/ml/input/data/{c}" for c in channels})
        env.update({f"SM_HP_{k.replace('-', '_').upper()}": v for k, v in hyperparameters.items()})
        env["SM_TRAINING_ENV"] = json.dumps(
            {
                "job_name": job.name,
                "current_host": host,
                "hosts": hosts,
                "hyperparameters": hps,
                "channel_input_dirs": {c: f"/opt/ml/input/data/{c}" for c in channels},
                "model_dir": "/opt/ml/model",
                "output_data_dir": "/opt/ml/output/data",
                "input_dir": "/opt/ml/input",
                "input_config_dir": "/opt/ml/input/config",
                "num_cpus": cpus,
                "num_gpus": 0,
            }
        )
        return env

    return environment
