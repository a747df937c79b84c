"""The job history survives a restart: a finished job is described as before, with its logs; a job that
was running when the server died has ended Failed, saying why, instead of staying InProgress."""

from __future__ import annotations

import signal
import time

from support import wait_until
from support.jobs import (
    PROCESSING_BUCKET,
    PROCESSING_LOGS,
    job_log,
    put_script,
    start_processing,
    wait_for_processing,
)
from support.restart import OwnServer


def test_finished_jobs_are_kept_and_a_running_one_ends_failed_at_the_restart(tmp_path):
    server = OwnServer(tmp_path / "home", LOCAL_AWS_SAVE_SECONDS="0.2").start()
    try:
        s3, sm = server.client("s3"), server.client("sagemaker")
        s3.create_bucket(Bucket=PROCESSING_BUCKET)
        put_script(s3, "hello.py", "print('hello from before the restart')")
        put_script(s3, "sleep.py", "import time; print('sleeping', flush=True); time.sleep(300)")
        start_processing(sm, "done-before", "hello.py")
        finished = wait_for_processing(sm, "done-before")
        assert finished["ProcessingJobStatus"] == "Completed"
        start_processing(sm, "running-at-the-crash", "sleep.py")
        logs = server.client("logs")
        wait_until(lambda: job_log(logs, PROCESSING_LOGS, "running-at-the-crash"), what="the sleeper's first line")
        time.sleep(0.5)  # a save since: a kill -9 loses what changed after the last save
        server.stop(signal.SIGKILL)

        server.start()
        again = server.client("sagemaker").describe_processing_job(ProcessingJobName="done-before")
        assert {
            k: again[k] for k in ("ProcessingJobStatus", "ProcessingJobArn", "CreationTime", "AppSpecification")
        } == {k: finished[k] for k in ("ProcessingJobStatus", "ProcessingJobArn", "CreationTime", "AppSpecification")}
        assert "hello from before the restart" in job_log(server.client("logs"), PROCESSING_LOGS, "done-before")
        crashed = server.client("sagemaker").describe_processing_job(ProcessingJobName="running-at-the-crash")
        assert crashed["ProcessingJobStatus"] == "Failed"
        assert crashed["FailureReason"].startswith("InternalServerError: local_aws stopped while this job ran")
        names = [
            j["ProcessingJobName"] for j in server.client("sagemaker").list_processing_jobs()["ProcessingJobSummaries"]
        ]
        assert sorted(names) == ["done-before", "running-at-the-crash"]
    finally:
        server.kill()
