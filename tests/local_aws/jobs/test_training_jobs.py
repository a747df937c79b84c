"""Training jobs through boto3: the training container contract, run as a local process."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError
from support import wait_until
from support.jobs import (
    TRAINING_BUCKET as BUCKET,
)
from support.jobs import (
    TRAINING_LOGS,
    channel,
    job_log,
    start_training,
    untar,
    wait_for_training,
)


def test_training_contract_artifacts_metrics_and_logs(clients):
    s3, sm, logs = clients
    s3.put_object(Bucket=BUCKET, Key="data/train/rows.csv", Body=b"1,2\n3,4\n")
    start_training(
        sm,
        s3,
        "fit-1",
        """
        import json, os
        env = {k: v for k, v in os.environ.items() if k.startswith("SM_")}
        cfg = os.environ["SM_INPUT_CONFIG_DIR"]
        hps = json.load(open(cfg + "/hyperparameters.json"))
        rows = open(os.environ["SM_CHANNEL_TRAIN"] + "/rows.csv").read().splitlines()
        report = {"hps": hps, "sm_hps": json.loads(env["SM_HPS"]), "channels": json.loads(env["SM_CHANNELS"]),
                  "rows": len(rows), "hosts": json.loads(env["SM_HOSTS"]), "host": env["SM_CURRENT_HOST"],
                  "inputdata": sorted(json.load(open(cfg + "/inputdataconfig.json"))),
                  "resource": json.load(open(cfg + "/resourceconfig.json"))["current_host"],
                  "training_env": json.loads(env["SM_TRAINING_ENV"])["job_name"],
                  "has_num_cpus": int(env["SM_NUM_CPUS"]) > 0, "hp_env": env["SM_HP_MAX_DEPTH"]}
        open(os.path.join(env["SM_MODEL_DIR"], "model.json"), "w").write(json.dumps(report))
        open(os.path.join(env["SM_OUTPUT_DATA_DIR"], "notes.txt"), "w").write("extra")
        for epoch in range(3):
            print(f"epoch={epoch} train_rmse={2.5 - epoch};")
    """,
        hyperparameters={"max_depth": "5", "tag": "abc"},
        channels=[channel("train", f"s3://{BUCKET}/data/train")],
        metrics=[{"Name": "train:rmse", "Regex": r"train_rmse=([0-9.]+);"}],
    )
    job = wait_for_training(sm, "fit-1")
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    assert job["ModelArtifacts"]["S3ModelArtifacts"] == f"s3://{BUCKET}/models/fit-1/output/model.tar.gz"
    report = json.loads(untar(s3, f"s3://{BUCKET}/models/fit-1/output/model.tar.gz")["model.json"])
    assert report == {
        "hps": {"max_depth": "5", "tag": "abc"},
        "sm_hps": {"max_depth": 5, "tag": "abc"},
        "channels": ["code", "train"],
        "rows": 2,
        "hosts": ["algo-1"],
        "host": "algo-1",
        "inputdata": ["code", "train"],
        "resource": "algo-1",
        "training_env": "fit-1",
        "has_num_cpus": True,
        "hp_env": "5",
    }
    assert untar(s3, f"s3://{BUCKET}/models/fit-1/output/output.tar.gz") == {"notes.txt": b"extra"}
    assert [t["Status"] for t in job["SecondaryStatusTransitions"]] == [
        "Starting",
        "Downloading",
        "Training",
        "Uploading",
        "Completed",
    ]
    assert all("EndTime" in t for t in job["SecondaryStatusTransitions"])
    assert job["SecondaryStatus"] == "Completed"
    assert job["FinalMetricDataList"][0]["MetricName"] == "train:rmse"
    assert job["FinalMetricDataList"][0]["Value"] == pytest.approx(0.5)
    assert job["HyperParameters"] == {"max_depth": "5", "tag": "abc"}
    assert job["CreationTime"] <= job["TrainingStartTime"] <= job["TrainingEndTime"]
    stream = logs.describe_log_streams(logGroupName="/aws/sagemaker/TrainingJobs", logStreamNamePrefix="fit-1/")[
        "logStreams"
    ][0]["logStreamName"]
    assert stream.startswith("fit-1/algo-1-")
    events = logs.get_log_events(logGroupName="/aws/sagemaker/TrainingJobs", logStreamName=stream)["events"]
    assert [e["message"] for e in events][-1] == "epoch=2 train_rmse=0.5;"
    listed = sm.list_training_jobs(NameContains="fit")["TrainingJobSummaries"]
    assert [(j["TrainingJobName"], j["TrainingJobStatus"]) for j in listed] == [("fit-1", "Completed")]


def test_failed_training_reports_the_failure_file(clients):
    s3, sm, _ = clients
    start_training(
        sm,
        s3,
        "fit-bad",
        """
        import os, sys
        open(os.environ["SM_OUTPUT_FAILURE"], "w").write("ValueError: max_depth must be positive")
        sys.exit(2)
    """,
    )
    job = wait_for_training(sm, "fit-bad")
    assert job["TrainingJobStatus"] == "Failed"
    assert job["FailureReason"] == "AlgorithmError: ValueError: max_depth must be positive, exit code: 2"
    assert job["SecondaryStatusTransitions"][-1]["Status"] == "Failed"


def test_stop_and_runtime_limit(clients):
    s3, sm, logs = clients
    slow = """
        import os, time
        open(os.environ["SM_MODEL_DIR"] + "/partial.txt", "w").write("checkpoint")
        print("training", flush=True)
        time.sleep(60)
    """
    start_training(sm, s3, "fit-stop", slow)
    start_training(sm, s3, "fit-timeout", slow, runtime=1)
    wait_until(
        lambda: job_log(logs, TRAINING_LOGS, "fit-stop"),
        lambda lines: "training" in lines,
        timeout=60,
        interval=0.1,
        what="fit-stop training",
    )
    sm.stop_training_job(TrainingJobName="fit-stop")
    stopped = wait_for_training(sm, "fit-stop", timeout=60)
    assert stopped["TrainingJobStatus"] == "Stopped"
    assert [t["Status"] for t in stopped["SecondaryStatusTransitions"]][-3:] == ["Stopping", "Uploading", "Stopped"]
    assert untar(s3, f"s3://{BUCKET}/models/fit-stop/output/model.tar.gz") == {"partial.txt": b"checkpoint"}
    timed_out = wait_for_training(sm, "fit-timeout", timeout=60)
    assert timed_out["TrainingJobStatus"] == "Stopped"
    assert timed_out["SecondaryStatus"] == "MaxRuntimeExceeded"


def test_two_instances_split_a_sharded_channel(clients):
    s3, sm, _ = clients
    for i in range(4):
        s3.put_object(Bucket=BUCKET, Key=f"shards/part-{i}.csv", Body=b"x\n")
    start_training(
        sm,
        s3,
        "fit-shards",
        """
        import json, os
        seen = sorted(os.listdir(os.environ["SM_CHANNEL_TRAIN"]))
        open(os.environ["SM_MODEL_DIR"] + "/seen.json", "w").write(json.dumps([os.environ["SM_CURRENT_HOST"], seen]))
    """,
        count=2,
        channels=[channel("train", f"s3://{BUCKET}/shards/", "ShardedByS3Key")],
    )
    job = wait_for_training(sm, "fit-shards")
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    assert json.loads(untar(s3, f"s3://{BUCKET}/models/fit-shards/output/model.tar.gz")["seen.json"]) == [
        "algo-1",
        ["part-0.csv", "part-2.csv"],
    ]


def test_duplicate_and_unknown_names(clients):
    s3, sm, _ = clients
    start_training(sm, s3, "fit-twice", "print('ok')\n")
    with pytest.raises(ClientError) as err:
        start_training(sm, s3, "fit-twice", "print('ok')\n")
    assert err.value.response["Error"]["Code"] == "ResourceInUse"
    with pytest.raises(ClientError) as err:
        sm.describe_training_job(TrainingJobName="never-ran")
    assert err.value.response["Error"]["Code"] == "ValidationException"
    assert wait_for_training(sm, "fit-twice")["TrainingJobStatus"] == "Completed"
