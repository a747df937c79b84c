"""helpers.progress against local_aws through boto3: a job's own log lines while it runs (the container's
set-up counted, not shown first), status changes, a pipeline execution step by step, and an interrupted
wait that stops what it waited for."""

from __future__ import annotations

import _thread
import threading

import pytest
from support import wait_until
from support.jobs import (
    PROCESSING_BUCKET,
    ROLE,
    TRAINING_BUCKET,
    put_script,
    put_source_archive,
    start_processing,
    start_script_mode_training,
)
from support.pipelines import create, definition, processing, start, wait

from helpers import progress
from helpers.names import Names
from helpers.session import Setup

# What the SDK's runproc.sh prints before the script: the code directory, listed before and after unpacking.
RUNPROC_LISTING = """
print("Files in /opt/ml/processing/input/code/ before extraction:")
print("total 12")
print("-rw-r--r-- 1 root root  677 Dec  2 05:15 runproc.sh")
print("Files after extraction:")
print("total 16")
print("-rw-r--r-- 1 root root 1024 Dec  2 05:15 train.py")
"""


def local_setup(aws) -> Setup:
    return Setup("local", "us-east-1", "123456789012", ROLE, PROCESSING_BUCKET, Names("progress"), aws)


def test_a_processing_job_shows_its_own_lines_first_and_counts_the_set_up(aws, capsys):
    sm, s3 = aws.client("sagemaker"), aws.client("s3")
    s3.create_bucket(Bucket=PROCESSING_BUCKET)
    put_script(
        s3,
        "steps.py",
        RUNPROC_LISTING
        + """
import time
print("step 1: reading", flush=True)
time.sleep(1.5)
print("step 2: done", flush=True)
""",
    )
    start_processing(sm, "progress-job", "steps.py")

    job = progress.follow_job(local_setup(aws), "processing", "progress-job")

    assert job["ProcessingJobStatus"] == "Completed"
    lines = capsys.readouterr().out.splitlines()
    assert "step 1: reading" in lines and "step 2: done" in lines, lines
    assert not any(line.startswith(("Files in", "total ", "-rw-r--r--")) for line in lines), lines
    summary = [line for line in lines if "lines of container set-up not shown" in line]
    assert summary == [
        "(6 lines of container set-up not shown: all of them are in CloudWatch Logs, log group "
        "/aws/sagemaker/ProcessingJobs, stream " + summary[0].rsplit("stream ", 1)[1]
    ], lines
    assert lines.index("step 2: done") < lines.index(summary[0])
    statuses = [line.split(": ", 1)[1] for line in lines if line.split(" s  ", 1)[-1].startswith("progress-job:")]
    assert statuses[0] == "InProgress" and statuses[-1] == "Completed", lines


def test_a_failed_job_ends_the_wait_with_its_failure_reason(aws, capsys):
    sm, s3 = aws.client("sagemaker"), aws.client("s3")
    s3.create_bucket(Bucket=PROCESSING_BUCKET)
    put_script(s3, "fails.py", 'import sys\nprint("about to fail", flush=True)\nsys.exit("no rows to train on")\n')
    start_processing(sm, "progress-fails", "fails.py")

    job = progress.follow_job(local_setup(aws), "processing", "progress-fails")

    assert job["ProcessingJobStatus"] == "Failed"
    out = capsys.readouterr().out
    assert "about to fail" in out and f"FailureReason: {job['FailureReason']}" in out, out


def test_a_training_job_shows_the_command_the_toolkit_runs_and_the_scripts_lines(aws, capsys):
    sm, s3 = aws.client("sagemaker"), aws.client("s3")
    s3.create_bucket(Bucket=TRAINING_BUCKET)
    source = put_source_archive(s3, "code/sourcedir.tar.gz", {"fit.py": 'print("fitting 3 trees", flush=True)\n'})
    start_script_mode_training(
        sm, "progress-training", {"sagemaker_program": '"fit.py"', "sagemaker_submit_directory": f'"{source}"'}
    )

    job = progress.follow_job(local_setup(aws), "training", "progress-training")

    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    out = capsys.readouterr().out
    assert "Invoking script with the following command:" in out and "fitting 3 trees" in out, out
    assert "progress-training: Completed / Completed" in out, out


def test_a_wait_that_times_out_says_so_and_leaves_the_job_running(aws, capsys):
    sm, s3 = aws.client("sagemaker"), aws.client("s3")
    s3.create_bucket(Bucket=PROCESSING_BUCKET)
    put_script(s3, "slow.py", "import time\ntime.sleep(60)\n")
    start_processing(sm, "progress-slow-job", "slow.py")

    job = progress.follow_job(local_setup(aws), "processing", "progress-slow-job", timeout_seconds=2)

    assert job["ProcessingJobStatus"] == "InProgress"
    assert (
        "progress-slow-job is still InProgress after 2 s: stop waiting (the job goes on; run this cell again "
        "to wait on)"
    ) in capsys.readouterr().out
    sm.stop_processing_job(ProcessingJobName="progress-slow-job")


@pytest.mark.timeout(120)
def test_interrupting_the_wait_stops_the_job(aws, capsys):
    sm, s3 = aws.client("sagemaker"), aws.client("s3")
    s3.create_bucket(Bucket=PROCESSING_BUCKET)
    put_script(s3, "long.py", 'import time\nprint("working", flush=True)\ntime.sleep(120)\n')
    start_processing(sm, "progress-long", "long.py")
    wait_until(
        lambda: sm.describe_processing_job(ProcessingJobName="progress-long")["ProcessingJobStatus"],
        lambda status: status == "InProgress",
        what="the job to start",
    )
    timer = threading.Timer(2.0, _thread.interrupt_main)  # what Kernel > Interrupt does to a running cell
    timer.start()

    with pytest.raises(KeyboardInterrupt):
        progress.follow_job(local_setup(aws), "processing", "progress-long")

    assert "Interrupted: stopping progress-long (stop_processing_job)" in capsys.readouterr().out
    wait_until(
        lambda: sm.describe_processing_job(ProcessingJobName="progress-long")["ProcessingJobStatus"],
        lambda status: status == "Stopped",
        timeout=60,
        what="the job to stop",
    )


def test_pipeline_executions_are_followed_step_by_step_and_an_interrupt_stops_them(aws, capsys):
    sm = aws.client("sagemaker")
    create(
        sm,
        "progress-quick",
        definition([processing("First", "print(1)"), processing("Second", "print(2)", DependsOn=["First"])]),
    )
    create(sm, "progress-slow", definition([processing("Sleep", "import time; time.sleep(120)")]))
    quick, slow = start(sm, "progress-quick"), start(sm, "progress-slow")

    statuses, steps = progress.follow_executions(local_setup(aws), {"progress-quick": quick})
    assert statuses == {"progress-quick": "Succeeded"}
    assert {step["StepName"] for step in steps["progress-quick"]} == {"First", "Second"}
    changes = [line.split(" s  ", 1)[1].split() for line in capsys.readouterr().out.splitlines()]
    expected = [
        ["progress-quick", "First", "Executing"],
        ["progress-quick", "First", "Succeeded"],
        ["progress-quick", "Second", "Executing"],
        ["progress-quick", "Second", "Succeeded"],
        ["progress-quick", "execution", "Succeeded"],
    ]
    # Each change once, in order (a step may start and end between two polls: its Executing is then not seen).
    assert changes == [change for change in expected if change in changes], changes
    assert expected[3] in changes and expected[4] in changes, changes

    timer = threading.Timer(2.0, _thread.interrupt_main)
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        progress.follow_executions(local_setup(aws), {"progress-slow": slow})
    assert "Interrupted: stopping the execution of progress-slow" in capsys.readouterr().out
    assert wait(sm, slow, timeout=60)["PipelineExecutionStatus"] == "Stopped"
