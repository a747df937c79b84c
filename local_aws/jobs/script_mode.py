"""Framework-container script mode: a training job with no ContainerEntrypoint on a framework image runs as
the SageMaker training toolkit runs it inside that image.

The scikit-learn, XGBoost, PyTorch, TensorFlow, MXNet, Chainer and HuggingFace training images (the
training repositories the SDK's image_uris names for them) start the training toolkit, which reads the
`sagemaker_program` and `sagemaker_submit_directory` hyperparameters (JSON-encoded by SDK v2's
estimators, plain strings from SDK v3's HyperparameterTuner), unpacks the source archive into
/opt/ml/code and runs the program there, the other hyperparameters as `--name value` arguments
(`mapping.to_cmd_args`) and its SM_* environment (`Environment.to_env_vars`) set. Here the project's
Python stands for every framework image: staging unpacks the archive and toolkit_launcher runs the
program. Any other image (a built-in algorithm, an image of one's own) has nothing local_aws can run
without a ContainerEntrypoint, nor has a framework image without `sagemaker_program` (XGBoost's
built-in algorithm mode): such a job fails with a ClientError that says so.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

from local_aws import job_side

LAUNCHER = job_side.TOOLKIT_LAUNCHER
CODE_DIR = "/opt/ml/code"
PROGRAM = "sagemaker_program"
SUBMIT_DIRECTORY = "sagemaker_submit_directory"
# The toolkit's params.SAGEMAKER_HYPERPARAMETERS: for the toolkit, never for the program.
TOOLKIT_HYPERPARAMETERS = frozenset(
    {
        PROGRAM,
        SUBMIT_DIRECTORY,
        "sagemaker_enable_cloudwatch_metrics",
        "sagemaker_region",
        "sagemaker_container_log_level",
        "sagemaker_job_name",
        "default_user_module_name",
        "_tuning_objective_metric",
        "sagemaker_s3_output",
    }
)
DEFAULT_LOG_LEVEL = 20  # logging.INFO


class NotRunnable(Exception):
    """The job has nothing local_aws can run in script mode: its FailureReason (a ClientError)."""


@dataclass(frozen=True)
class Framework:
    training_module: str  # the image's SAGEMAKER_TRAINING_MODULE, which the toolkit reports as SM_FRAMEWORK_MODULE
    captures_stderr: bool  # whether that module runs the program with capture_error=True (stderr in the reason)


_SKLEARN = Framework("sagemaker_sklearn_container.training:main", False)
_XGBOOST = Framework("sagemaker_xgboost_container.training:main", False)
_PYTORCH = Framework("sagemaker_pytorch_container.training:main", True)
_TENSORFLOW = Framework("sagemaker_tensorflow_container.training:main", True)
_MXNET = Framework("sagemaker_mxnet_container.training:main", False)
_CHAINER = Framework("sagemaker_chainer_container.training:main", False)
# ECR repository -> framework, for the training images of sagemaker.core.image_uri_config.
FRAMEWORK_REPOSITORIES = {
    "sagemaker-scikit-learn": _SKLEARN,
    "sagemaker-xgboost": _XGBOOST,
    **dict.fromkeys(
        [
            "pytorch-training",
            "sagemaker-pytorch",
            "pytorch",
            "pytorch-training-neuron",
            "pytorch-training-neuronx",
            "pytorch-trcomp-training",
            "smdistributed-modelparallel",
            "huggingface-pytorch-training",
            "huggingface-pytorch-trcomp-training",
            "huggingface-pytorch-training-neuronx",
        ],
        _PYTORCH,
    ),
    **dict.fromkeys(
        [
            "tensorflow-training",
            "sagemaker-tensorflow-scriptmode",
            "huggingface-tensorflow-training",
            "huggingface-tensorflow-trcomp-training",
        ],
        _TENSORFLOW,
    ),
    **dict.fromkeys(["mxnet-training", "sagemaker-mxnet"], _MXNET),
    "sagemaker-chainer": _CHAINER,
}


@dataclass(frozen=True)
class ScriptMode:
    """What the toolkit would run: the program, the archive it comes in and the hyperparameters split."""

    framework: Framework
    program: str
    submit_directory: str | None  # the source archive's S3 URI; None: the program is expected in /opt/ml/code
    toolkit_hyperparameters: dict[str, Any]  # sagemaker_* and the toolkit's own
    hyperparameters: dict[str, Any]  # the program's, JSON-decoded

    def command(self) -> list[str]:
        """The host's command: the launcher, with the program and its `--name value` arguments."""
        return [
            "python3",
            str(LAUNCHER),
            CODE_DIR,
            "capture" if self.framework.captures_stderr else "inherit",
            self.program,
            *to_cmd_args(self.hyperparameters),
        ]

    def environment(
        self,
        job_name: str,
        host: str,
        hosts: list[str],
        resource_config: dict,
        input_data_config: dict,
        channels: dict[str, str],
    ) -> dict[str, str]:
        """The variables the toolkit sets for the program (`Environment.to_env_vars` and those it exports);
        `channels` maps each channel to its directory."""
        training_env = self._training_env(job_name, host, hosts, resource_config, input_data_config, channels)
        names = (
            "hosts",
            "network_interface_name",
            "input_data_config",
            "output_data_dir",
            "current_host",
            "current_instance_type",
            "current_instance_group",
            "current_instance_group_hosts",
            "instance_groups",
            "instance_groups_dict",
            "distribution_instance_groups",
            "is_hetero",
            "module_name",
            "log_level",
            "framework_module",
            "input_dir",
            "input_config_dir",
            "output_dir",
            "num_cpus",
            "num_gpus",
            "num_neurons",
            "model_dir",
            "module_dir",
            "output_intermediate_dir",
            "user_entry_point",
            "resource_config",
        )
        env = {name: training_env[name] for name in names}
        env.update(
            {
                "hps": self.hyperparameters,
                "framework_params": training_env["additional_framework_parameters"],
                "channels": sorted(channels),
                "training_env": training_env,
                "user_args": to_cmd_args(self.hyperparameters),
            }
        )
        env.update({f"channel_{name}": path for name, path in channels.items()})
        env.update({f"hp_{key}": value for key, value in self.hyperparameters.items()})
        variables = {f"SM_{key.upper()}": _env_value(value) for key, value in env.items()}
        variables.update(
            {
                "SAGEMAKER_TRAINING_MODULE": self.framework.training_module,
                "CURRENT_HOST": host,
                "SAGEMAKER_JOB_NAME": str(self.toolkit_hyperparameters.get("sagemaker_job_name", "")),
                "SAGEMAKER_REGION": str(self.toolkit_hyperparameters.get("sagemaker_region", "")),
            }
        )
        return variables

    def _training_env(
        self,
        job_name: str,
        host: str,
        hosts: list[str],
        resource_config: dict,
        input_data_config: dict,
        channels: dict[str, str],
    ) -> dict[str, Any]:
        """The toolkit's Environment as a dict (SM_TRAINING_ENV), for a homogeneous cluster without distribution."""
        groups = resource_config.get("instance_groups", [])
        return {
            "additional_framework_parameters": {
                k: v for k, v in self.toolkit_hyperparameters.items() if k not in TOOLKIT_HYPERPARAMETERS
            },
            "channel_input_dirs": channels,
            "current_host": host,
            "current_instance_group": resource_config.get("current_group_name"),
            "current_instance_group_hosts": hosts,
            "current_instance_type": resource_config.get("current_instance_type"),
            "distribution_hosts": [],
            "distribution_instance_groups": [],
            "framework_module": self.framework.training_module,
            "hosts": hosts,
            "hyperparameters": self.hyperparameters,
            "input_config_dir": "/opt/ml/input/config",
            "input_data_config": input_data_config,
            "input_dir": "/opt/ml/input",
            "instance_groups": [group["instance_group_name"] for group in groups],
            "instance_groups_dict": {group["instance_group_name"]: group for group in groups},
            "is_hetero": len(groups) > 1,
            "is_master": host == hosts[0],
            "is_modelparallel_enabled": None,
            "is_smddpmprun_installed": False,
            "is_smddprun_installed": False,
            "job_name": job_name,
            "log_level": self.toolkit_hyperparameters.get("sagemaker_container_log_level", DEFAULT_LOG_LEVEL),
            "master_hostname": hosts[0],
            "model_dir": "/opt/ml/model",
            "module_dir": self.submit_directory or CODE_DIR,
            "module_name": self.program.removesuffix(".py"),
            "network_interface_name": resource_config.get("network_interface_name", "eth0"),
            "num_cpus": os.cpu_count() or 1,
            "num_gpus": 0,
            "num_neurons": 0,
            "output_data_dir": "/opt/ml/output/data",
            "output_dir": "/opt/ml/output",
            "output_intermediate_dir": "/opt/ml/output/intermediate",
            "resource_config": resource_config,
            "user_entry_point": self.program,
        }


def plan(request: dict) -> ScriptMode:
    """The script mode of a CreateTrainingJob request without ContainerEntrypoint; a ClientError (the job's
    FailureReason) when its image is no framework image local_aws maps, or names no program."""
    image = (request.get("AlgorithmSpecification") or {}).get("TrainingImage") or ""
    framework = FRAMEWORK_REPOSITORIES.get(repository(image))
    if framework is None:
        what = (
            f"the image {image}"
            if image
            else f"the algorithm {(request.get('AlgorithmSpecification') or {}).get('AlgorithmName')}"
        )
        raise NotRunnable(
            f"ClientError: local_aws cannot run {what} without a ContainerEntrypoint: it runs jobs with the "
            f"project's Python, in place of the SageMaker framework images (scikit-learn, XGBoost, PyTorch, "
            f"TensorFlow, MXNet, Chainer, HuggingFace) in script mode, and has no stand-in for this image's own "
            f"program. Set AlgorithmSpecification.ContainerEntrypoint (e.g. ['python3', "
            f"'/opt/ml/input/data/code/train.py']) or use a framework image with the {PROGRAM} hyperparameter."
        )
    hyperparameters = {key: decoded(value) for key, value in (request.get("HyperParameters") or {}).items()}
    toolkit = {k: v for k, v in hyperparameters.items() if k in TOOLKIT_HYPERPARAMETERS or k.startswith("sagemaker_")}
    program = toolkit.get(PROGRAM)
    if not program:
        raise NotRunnable(
            f"ClientError: the framework image {image} runs a script named by the {PROGRAM} hyperparameter (and "
            f"downloads it from {SUBMIT_DIRECTORY}), and this job has none; local_aws cannot run the image's "
            f"built-in algorithm. Set {PROGRAM} (e.g. 'train.py') and {SUBMIT_DIRECTORY} (the S3 URI of a "
            f"sourcedir.tar.gz), or a ContainerEntrypoint."
        )
    submit = toolkit.get(SUBMIT_DIRECTORY)
    return ScriptMode(
        framework,
        str(program),
        str(submit) if submit else None,
        toolkit,
        {k: v for k, v in hyperparameters.items() if k not in toolkit},
    )


def repository(image: str) -> str:
    """An image URI's repository: 683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3
    -> sagemaker-scikit-learn."""
    path = image.split("/", 1)[1] if "/" in image else image
    return path.split("@", 1)[0].rsplit(":", 1)[0]


def decoded(value: str) -> Any:
    """A hyperparameter as the toolkit reads it from hyperparameters.json: JSON-decoded where it is JSON."""
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        return value


def to_cmd_args(hyperparameters: dict[str, Any]) -> list[str]:
    """The toolkit's mapping.to_cmd_args: sorted `--name value` pairs (`-n` for a one-letter name), values as
    Python prints them, a dict as k=v,k2=v2."""
    args = []
    for key in sorted(hyperparameters):
        value = hyperparameters[key]
        args.append(f"--{key}" if len(key) > 1 else f"-{key}")
        if hasattr(value, "items"):
            args.append(",".join(f"{k}={v}" for k, v in sorted(value.items())))
        else:
            args.append("" if value is None else str(value))
    return args


def _env_value(value: Any) -> str:
    """The toolkit's mapping.to_env_vars value: a string as it is, anything else compact sorted JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
