"""A tuning job survives a restart as a record: one running when the server is killed ends Failed, saying
why, with its running training jobs failed the same way."""

from __future__ import annotations

import signal
import time

from support import wait_until
from support.jobs import IMAGE, ROLE, TRAINING_BUCKET, put_source_archive
from support.restart import OwnServer


def test_a_tuning_job_running_at_a_crash_ends_failed_at_the_restart(tmp_path):
    server = OwnServer(tmp_path / "home", LOCAL_AWS_SAVE_SECONDS="0.2").start()
    try:
        s3, sm = server.client("s3"), server.client("sagemaker")
        s3.create_bucket(Bucket=TRAINING_BUCKET)
        source = put_source_archive(s3, "slow/sourcedir.tar.gz", {"train.py": "import time; time.sleep(300)"})
        sm.create_hyper_parameter_tuning_job(
            HyperParameterTuningJobName="crashed-tune",
            HyperParameterTuningJobConfig={
                "Strategy": "Random",
                "HyperParameterTuningJobObjective": {"Type": "Minimize", "MetricName": "loss"},
                "ResourceLimits": {"MaxNumberOfTrainingJobs": 2, "MaxParallelTrainingJobs": 1},
                "ParameterRanges": {"IntegerParameterRanges": [{"Name": "depth", "MinValue": "1", "MaxValue": "3"}]},
            },
            TrainingJobDefinition={
                "AlgorithmSpecification": {
                    "TrainingImage": IMAGE,
                    "TrainingInputMode": "File",
                    "MetricDefinitions": [{"Name": "loss", "Regex": "loss=([0-9.]+)"}],
                },
                "RoleArn": ROLE,
                "StaticHyperParameters": {"sagemaker_program": "train.py", "sagemaker_submit_directory": source},
                "OutputDataConfig": {"S3OutputPath": f"s3://{TRAINING_BUCKET}/out"},
                "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 5},
                "StoppingCondition": {"MaxRuntimeInSeconds": 600},
            },
        )
        wait_until(
            lambda: sm.list_training_jobs_for_hyper_parameter_tuning_job(HyperParameterTuningJobName="crashed-tune")[
                "TrainingJobSummaries"
            ],
            what="the first training job",
        )
        time.sleep(0.5)  # a save since: a kill -9 loses what changed after the last save
        server.stop(signal.SIGKILL)

        server.start()
        sm = server.client("sagemaker")
        described = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="crashed-tune")
        assert described["HyperParameterTuningJobStatus"] == "Failed"
        assert described["FailureReason"].startswith("local_aws stopped while this tuning job ran")
        (job,) = sm.list_training_jobs_for_hyper_parameter_tuning_job(HyperParameterTuningJobName="crashed-tune")[
            "TrainingJobSummaries"
        ]
        assert job["TrainingJobStatus"] == "Failed" and job["ObjectiveStatus"] == "Failed"
        assert sm.describe_training_job(TrainingJobName=job["TrainingJobName"])["TrainingJobStatus"] == "Failed"
    finally:
        server.kill()
