"""SageMaker processing and training jobs that really run, as local processes (moto only records them).

    models            the job kinds, a job's record and statuses, the registry of jobs
    service           the API: Create/Describe/List/Stop ProcessingJob and TrainingJob
    api               the same calls for code inside local_aws (a pipeline's steps): start, describe, stop, wait
    runner            a job's life: the thread that stages, runs and uploads, and the statuses it moves through
    specs             request -> container spec: config files, SM_* environment, channels, inputs and outputs
    script_mode       a training job without entrypoint on a framework image: the training toolkit's program,
                      arguments and SM_* environment; the images local_aws stands in for
    toolkit_launcher  the script that runs such a program as the toolkit does (requirements, failure file)
    staging           the per-host /opt/ml stand-ins: S3 inputs, manifests, sharding, source archive, path mapping
    sandbox           every path a job derives resolved inside its stand-in; links never followed on reading
    container         the local processes: command, environment, logs to CloudWatch, stop and runtime limit
    processes         a host's process group under its supervisor, recorded while it runs
    supervisor        the script leading a host's group: its /opt/ml, and the group's end with its command and with
                      the server
    opt_ml_mount      a host's private mount namespace with its stand-in bound at /opt/ml; whether the machine allows it
    process_registry  the record of running groups under the server's home, and the sweep of a dead server's
    outputs           uploads, model.tar.gz, metrics, FailureReason and ExitMessage

At its start, once it holds its port, a server runs `sweep_orphans(home)` (an on_start hook): it kills
the job process groups a previous server of that home left running (after kill -9, where the
parent-death signal is not available or did not fire).
"""

from local_aws.core.iam.rules import RULES
from local_aws.core.service import Service
from local_aws.jobs import models, process_registry, service
from local_aws.jobs.api import describe_job, start_job, stop_job, wait_for_job
from local_aws.jobs.models import JobKind
from local_aws.jobs.process_registry import sweep_orphans

SERVICE = Service(
    "jobs",
    apis=(service.api,),
    rules={"sagemaker": RULES["sagemaker"]},
    stores=(models.REGISTRY.state,),
    on_start=(process_registry.sweep_at_start,),
    on_reset=(models.REGISTRY.forget,),
    on_shutdown=(models.REGISTRY.stop_running,),
)

__all__ = ["SERVICE", "JobKind", "describe_job", "start_job", "stop_job", "sweep_orphans", "wait_for_job"]
