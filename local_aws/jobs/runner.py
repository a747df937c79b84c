"""A job's life: Create returns at once, as on AWS, and a thread per job runs it to its end.

The thread stages the inputs, runs the container, uploads the outputs and moves the job through
AWS's statuses: InProgress -> Completed | Failed | Stopping -> Stopped, and for training the
SecondaryStatus transitions Starting -> Downloading -> Training -> Uploading -> Completed (or Failed,
Stopped, MaxRuntimeExceeded). A job that cannot run fails with AWS's ClientError/AlgorithmError
reasons; an emulator bug fails it with InternalServerError, saying so.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from local_aws.core.gateway.context import RequestContext
from local_aws.core.gateway.errors import ValidationException
from local_aws.core.iam import credentials
from local_aws.core.service import now
from local_aws.jobs import models, outputs, specs
from local_aws.jobs.container import Container
from local_aws.jobs.models import Job, JobKind
from local_aws.jobs.outputs import RunResult
from local_aws.jobs.specs import ContainerError

REASON_LIMIT = outputs.REASON_LIMIT


def start(kind: JobKind, request: dict, ctx: RequestContext, tuning_job_arn: str | None = None) -> Job:
    """Create<Kind>Job on a validated request: register the job and start its thread."""
    specs.check_runnable(kind, request)
    credentials.require_trust(request["RoleArn"])
    job = models.register(kind, request, ctx, tuning_job_arn)
    if kind is JobKind.TRAINING:
        job.secondary("Starting", "Launching requested ML instances")
    run = _run_processing if kind is JobKind.PROCESSING else _run_training
    job.thread = threading.Thread(
        target=_finishing(job, lambda: run(job, ctx)), name=f"{kind.value}Job-{job.name}", daemon=True
    )
    job.thread.start()
    return job


def stop(kind: JobKind, name: str, ctx: RequestContext) -> None:
    """Stop<Kind>Job: only an InProgress job can be stopped; it goes Stopping, then Stopped."""
    job = models.find(kind, name, ctx)
    if job.status != "InProgress":
        raise ValidationException(f"The request was rejected because the {kind.noun} job is in status {job.status}.")
    job.stop_requested.set()
    job.touch(status="Stopping")
    if kind is JobKind.TRAINING:
        job.secondary("Stopping", "Stopping the training job")
    if job.container:
        job.container.stop()


def _finishing(job: Job, body: Callable[[], None]) -> Callable[[], None]:
    """The thread's body, with the job's `finished` event set however it ends."""

    def target() -> None:
        try:
            body()
        finally:
            job.finished.set()

    return target


def _internal_failure(exc: Exception) -> str:
    return f"InternalServerError: local_aws could not run the job: {exc!r}"


def _run_processing(job: Job, ctx: RequestContext) -> None:
    container = Container(specs.processing_spec(job, ctx))
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
            status, reason = "Failed", outputs.failure_reason(result, container.roots)
        else:
            container.uploader.upload_outputs()
            status, reason = "Completed", None
    except ContainerError as err:
        status, reason = "Failed", str(err)
    except Exception as exc:  # an emulator bug: the job fails and says so
        status, reason = "Failed", _internal_failure(exc)
    job.touch(
        status=status,
        failure_reason=reason,
        ended=now(),
        exit_message=outputs.exit_message(container.roots, result, status == "Failed"),
    )


def _run_training(job: Job, ctx: RequestContext) -> None:
    container = Container(specs.training_spec(job, ctx))
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
        job.touch(metrics=outputs.final_metrics(definitions, sorted(result.lines)))
        if job.discarded:
            return
        if result.failed_host and not (result.stopped or result.timed_out):
            status = "Failed"
            failure_file = outputs.read_files(container.roots, "/opt/ml/output/failure")
            reason = outputs.failure_reason(result, container.roots, failure_file)
        else:
            job.secondary("Uploading", "Uploading generated training model")
            _upload_training_outputs(job, container)
            status, reason = ("Stopped" if result.stopped or result.timed_out else "Completed"), None
    except ContainerError as err:
        status, reason = "Failed", str(err)
    except Exception as exc:  # an emulator bug: the job fails and says so
        status, reason = "Failed", _internal_failure(exc)
    job.secondary(*_last_transition(status, reason, result))
    job.touch(
        status=status,
        failure_reason=reason,
        ended=now(),
        exit_message=outputs.exit_message(container.roots, result, status == "Failed"),
    )


def _upload_training_outputs(job: Job, container: Container) -> None:
    """model.tar.gz, output.tar.gz (when /opt/ml/output/data has files) and the checkpoints."""
    prefix = specs.artifact_prefix(job)
    container.uploader.upload_tarball("/opt/ml/model", f"{prefix}/model.tar.gz")
    container.uploader.upload_tarball("/opt/ml/output/data", f"{prefix}/output.tar.gz", skip_empty=True)
    container.uploader.upload_outputs()


def _last_transition(status: str, reason: str | None, result: RunResult | None) -> tuple[str, str]:
    """The SecondaryStatus a training job ends in, with AWS's message."""
    if status == "Failed":
        return "Failed", f"Training job failed. Reason: {reason}"[:REASON_LIMIT]
    if result is not None and result.timed_out:
        return "MaxRuntimeExceeded", "Training job exceeded MaxRuntimeInSeconds provided"
    if status == "Stopped":
        return "Stopped", "Training job stopped"
    return "Completed", "Training job completed"
