"""99_cleanup on a project it must work harder for: a pipeline execution still running (stopped, then
Stopping for a while as its job ignores the stop), the experiment and trials the executions recorded, one
with a trial component, S3 objects and a bucket the tutorial created. With confirm=False it only lists
them; then it deletes every one and keeps nothing."""

from __future__ import annotations

from pathlib import Path

import boto3
import nbformat
import papermill
from support import REPO, error_of, wait_until
from support.jobs import job_log
from support.pipelines import create, definition, fail, processing, start, wait, wait_for_step

from helpers.names import CREATED_BY_TAG, Names

NOTEBOOK = REPO / "notebooks" / "99_cleanup.ipynb"
NAMES = Names("tidy")
BUCKET = "sagemaker-us-east-1-123456789012"  # the notebooks' default bucket
DEFAULT_EXPERIMENT = {
    "ExperimentName": {"Get": "Execution.PipelineName"},
    "TrialName": {"Get": "Execution.PipelineExecutionId"},
}
STUBBORN = """
    import signal, time
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a stop leaves the execution Stopping for 5 s
    print("ignoring SIGTERM", flush=True)
    time.sleep(60)
"""


def leave_project_behind(aws: boto3.Session) -> tuple[str, str]:
    """What the tutorial leaves: (the finished execution's ARN, the running one's)."""
    s3, sm = aws.client("s3"), aws.client("sagemaker")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_tagging(Bucket=BUCKET, Tagging={"TagSet": [CREATED_BY_TAG]})
    for part in ("data/abalone.csv", "models/model.tar.gz"):
        s3.put_object(Bucket=BUCKET, Key=NAMES.key(part), Body=b"x")
    create(sm, NAMES.pipeline, definition([fail("Stop", "no")], PipelineExperimentConfig=DEFAULT_EXPERIMENT))
    finished = start(sm, NAMES.pipeline)
    wait(sm, finished)
    sm.update_pipeline(
        PipelineName=NAMES.pipeline,
        PipelineDefinition=definition([processing("Long", STUBBORN)], PipelineExperimentConfig=DEFAULT_EXPERIMENT),
    )
    running = start(sm, NAMES.pipeline)
    job = wait_for_step(sm, running, "Long", "Executing")["Metadata"]["ProcessingJob"]["Arn"].rsplit("/", 1)[1]
    wait_until(
        lambda: job_log(aws.client("logs"), "/aws/sagemaker/ProcessingJobs", job),
        lambda lines: "ignoring SIGTERM" in lines,
        what="the job ignoring SIGTERM",
    )
    sm.create_trial_component(TrialComponentName="tidy-run")  # a job's run, as on AWS
    sm.associate_trial_component(TrialComponentName="tidy-run", TrialName=finished.rsplit("/", 1)[1])
    return finished, running


def run_cleanup(tmp_path: Path, confirm: bool) -> str:
    """Execute 99 for the project in a fresh kernel (on the `aws` fixture's local_aws); what it printed."""
    output = tmp_path / f"99_cleanup_{confirm}.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOK),
        str(output),
        parameters={"project": NAMES.project, "confirm": confirm},
        cwd=str(NOTEBOOK.parent),
        kernel_name="python3",
        progress_bar=False,
        extra_arguments=["--IPKernelApp.log_level=ERROR"],
    )  # no TCP warning
    cells = nbformat.read(output, as_version=4).cells
    return "".join(o.get("text", "") for cell in cells for o in cell.get("outputs", []) if o["output_type"] == "stream")


def test_cleanup_lists_then_stops_waits_and_deletes_everything_experiments_included(aws, tmp_path):
    sm, s3 = aws.client("sagemaker"), aws.client("s3")
    finished, running = leave_project_behind(aws)

    listed = run_cleanup(tmp_path, confirm=False)
    assert f"Would delete pipeline {NAMES.pipeline} and its 2 executions." in listed
    assert f"Would delete experiment {NAMES.pipeline} and its 2 trials." in listed
    assert sm.describe_pipeline_execution(PipelineExecutionArn=running)["PipelineExecutionStatus"] == "Executing"

    printed = run_cleanup(tmp_path, confirm=True)
    assert f"Stopping execution {running.rsplit('/', 1)[1]}." in printed
    assert f"Deleting experiment {NAMES.pipeline} and its 2 trials." in printed
    assert "Keeping" not in printed and "Kept" not in printed
    assert (
        f"Gone: pipeline {NAMES.pipeline}, pipeline {NAMES.pipeline}-tuning, experiment {NAMES.pipeline}, "
        f"experiment {NAMES.pipeline}-tuning"
    ) in printed
    assert error_of(lambda: sm.describe_pipeline(PipelineName=NAMES.pipeline))[0] == "ResourceNotFound"
    assert error_of(lambda: sm.describe_experiment(ExperimentName=NAMES.pipeline))[0] == "ResourceNotFound"
    for arn in (finished, running):
        assert error_of(lambda: sm.describe_trial(TrialName=arn.rsplit("/", 1)[1]))[1].startswith("Could not find")
    assert error_of(lambda: sm.describe_trial_component(TrialComponentName="tidy-run"))[1].startswith("Could not find")
    assert error_of(lambda: s3.head_bucket(Bucket=BUCKET))[0] == "404"
