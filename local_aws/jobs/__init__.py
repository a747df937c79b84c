"""SageMaker processing and training jobs that really run, as local processes (moto only records them).

    models     the job kinds, a job's record and statuses, the registry of jobs
    service    the API: Create/Describe/List/Stop ProcessingJob and TrainingJob
    api        the same calls for code inside local_aws (a pipeline's steps): start, describe, stop, wait
    runner     a job's life: the thread that stages, runs and uploads, and the statuses it moves through
    specs      request -> container spec: config files, SM_* environment, channels, inputs and outputs
    staging    the per-host /opt/ml stand-ins: S3 inputs, manifests, sharding, path mapping
    container  the local processes: command, environment, logs to CloudWatch, stop and runtime limit
    outputs    uploads, model.tar.gz, metrics, FailureReason and ExitMessage
"""
from local_aws.jobs import service  # noqa: F401  (importing the package registers the handlers)
from local_aws.jobs.api import describe_job, start_job, stop_job, wait_for_job
from local_aws.jobs.models import JobKind

__all__ = ["JobKind", "describe_job", "start_job", "stop_job", "wait_for_job"]
