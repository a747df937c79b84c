"""Processing jobs through boto3: they run the script as a local process, as a container would."""

from __future__ import annotations

import json
import time

import pytest
from botocore.exceptions import ClientError
from support import error_of, wait_until
from support.jobs import (
    IMAGE,
    ROLE,
    processing_output,
    put_script,
    start_processing,
    wait_for_processing,
)
from support.jobs import (
    PROCESSING_BUCKET as BUCKET,
)


def test_job_stages_inputs_maps_paths_uploads_outputs_and_logs(clients):
    s3, sm, logs = clients
    s3.put_object(Bucket=BUCKET, Key="raw/part-1.csv", Body=b"1,2\n")
    s3.put_object(Bucket=BUCKET, Key="raw/sub/part-2.csv", Body=b"3,4\n")
    put_script(
        s3,
        "prep.py",
        """
        import argparse, json, os, pathlib
        p = argparse.ArgumentParser(); p.add_argument("--in-dir"); p.add_argument("--out-dir")
        a = p.parse_args()
        files = sorted(str(f.relative_to(a.in_dir)) for f in pathlib.Path(a.in_dir).rglob("*.csv"))
        config = json.load(open(os.environ["CONFIG_DIR"] + "/processingjobconfig.json"))
        res = json.load(open(os.environ["CONFIG_DIR"] + "/resourceconfig.json"))
        pathlib.Path(a.out_dir, "summary.json").write_text(json.dumps(
            {"files": files, "job": config["ProcessingJobName"], "host": res["current_host"],
             "stage": os.environ["STAGE"], "cwd_is_job_dir": os.getcwd() == os.path.dirname(os.environ["CONFIG_DIR"])}))
        print("processed", len(files), "files")
    """,
    )
    start_processing(
        sm,
        "prep-1",
        "prep.py",
        args=["--in-dir", "/opt/ml/processing/input/raw", "--out-dir=/opt/ml/processing/out"],
        env={"STAGE": "test", "CONFIG_DIR": "/opt/ml/config"},
        inputs=[
            {
                "InputName": "raw",
                "S3Input": {
                    "S3Uri": f"s3://{BUCKET}/raw",
                    "LocalPath": "/opt/ml/processing/input/raw",
                    "S3DataType": "S3Prefix",
                    "S3InputMode": "File",
                    "S3DataDistributionType": "FullyReplicated",
                },
            }
        ],
        outputs=[processing_output("out", f"s3://{BUCKET}/results/prep-1")],
    )
    assert sm.describe_processing_job(ProcessingJobName="prep-1")["ProcessingJobStatus"] == "InProgress"
    job = wait_for_processing(sm, "prep-1")
    assert job["ProcessingJobStatus"] == "Completed", job.get("FailureReason")
    assert job["ProcessingJobArn"].endswith(":processing-job/prep-1")
    assert job["AppSpecification"]["ImageUri"] == IMAGE and job["RoleArn"] == ROLE
    assert job["Environment"] == {"STAGE": "test", "CONFIG_DIR": "/opt/ml/config"}
    assert job["ProcessingInputs"][1]["S3Input"]["LocalPath"] == "/opt/ml/processing/input/raw"
    assert job["CreationTime"] <= job["ProcessingStartTime"] <= job["ProcessingEndTime"] <= job["LastModifiedTime"]
    summary = json.loads(s3.get_object(Bucket=BUCKET, Key="results/prep-1/summary.json")["Body"].read())
    assert summary == {
        "files": ["part-1.csv", "sub/part-2.csv"],
        "job": "prep-1",
        "host": "algo-1",
        "stage": "test",
        "cwd_is_job_dir": True,
    }
    streams = logs.describe_log_streams(logGroupName="/aws/sagemaker/ProcessingJobs", logStreamNamePrefix="prep-1/")[
        "logStreams"
    ]
    assert len(streams) == 1 and streams[0]["logStreamName"].startswith("prep-1/algo-1-")
    events = logs.get_log_events(
        logGroupName="/aws/sagemaker/ProcessingJobs", logStreamName=streams[0]["logStreamName"], startFromHead=True
    )["events"]
    assert [e["message"] for e in events] == ["processed 2 files"]
    listed = sm.list_processing_jobs(StatusEquals="Completed")["ProcessingJobSummaries"]
    assert [j["ProcessingJobName"] for j in listed] == ["prep-1"]


def test_failing_script_fails_the_job_with_reason_and_exit_message(clients):
    s3, sm, _ = clients
    put_script(
        s3,
        "bad.py",
        """
        import sys
        open("/opt/ml/output/message".replace("/opt/ml", __import__("os").environ["ML"]), "w").write("bad input")
        print("about to fail")
        sys.exit("ValueError: the data has no rows")
    """,
    )
    start_processing(sm, "bad-1", "bad.py", env={"ML": "/opt/ml"})
    job = wait_for_processing(sm, "bad-1")
    assert job["ProcessingJobStatus"] == "Failed"
    assert job["FailureReason"].startswith("AlgorithmError:")
    assert "ExitCode 1" in job["FailureReason"] and "the data has no rows" in job["FailureReason"]
    assert job["ExitMessage"] == "bad input"


def test_stop_terminates_the_process_and_runtime_limit_is_enforced(clients):
    s3, sm, _ = clients
    put_script(
        s3,
        "slow.py",
        """
        import time
        print("started", flush=True)
        time.sleep(60)
    """,
    )
    start_processing(sm, "slow-1", "slow.py")
    start_processing(sm, "slow-2", "slow.py", runtime=1)
    time.sleep(0.5)
    sm.stop_processing_job(ProcessingJobName="slow-1")
    assert sm.describe_processing_job(ProcessingJobName="slow-1")["ProcessingJobStatus"] in ("Stopping", "Stopped")
    assert wait_for_processing(sm, "slow-1", timeout=60)["ProcessingJobStatus"] == "Stopped"
    assert wait_for_processing(sm, "slow-2", timeout=60)["ProcessingJobStatus"] == "Stopped"
    with pytest.raises(ClientError) as err:
        sm.stop_processing_job(ProcessingJobName="slow-1")
    assert err.value.response["Error"]["Code"] == "ValidationException"


def test_instances_share_sharded_input_and_continuous_output_uploads_while_running(clients):
    s3, sm, _ = clients
    for i in range(4):
        s3.put_object(Bucket=BUCKET, Key=f"shards/part-{i}.csv", Body=b"x\n")
    put_script(
        s3,
        "shard.py",
        """
        import json, os, sys, time
        host = json.load(open(sys.argv[1] + "/config/resourceconfig.json"))["current_host"]
        seen = sorted(os.listdir(sys.argv[1] + "/processing/input/shards"))
        open(f"{sys.argv[1]}/processing/out/{host}.json", "w").write(json.dumps(seen))
        time.sleep(float(sys.argv[2]))
    """,
    )
    shards = {
        "InputName": "shards",
        "S3Input": {
            "S3Uri": f"s3://{BUCKET}/shards/",
            "S3DataType": "S3Prefix",
            "LocalPath": "/opt/ml/processing/input/shards",
            "S3InputMode": "File",
            "S3DataDistributionType": "ShardedByS3Key",
        },
    }
    start_processing(
        sm,
        "shard-1",
        "shard.py",
        args=["/opt/ml", "120"],
        count=2,
        inputs=[shards],
        outputs=[processing_output("out", f"s3://{BUCKET}/sharded", mode="Continuous")],
    )

    def uploaded() -> list[str]:
        return [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="sharded/").get("Contents", [])]

    keys = wait_until(
        uploaded, lambda found: len(found) >= 2, timeout=60, interval=0.2, what="both hosts' continuous uploads"
    )
    assert sm.describe_processing_job(ProcessingJobName="shard-1")["ProcessingJobStatus"] == "InProgress"
    assert sorted(keys) == ["sharded/algo-1.json", "sharded/algo-2.json"]
    seen = [json.loads(s3.get_object(Bucket=BUCKET, Key=k)["Body"].read()) for k in sorted(keys)]
    assert seen == [["part-0.csv", "part-2.csv"], ["part-1.csv", "part-3.csv"]]
    sm.stop_processing_job(ProcessingJobName="shard-1")
    assert wait_for_processing(sm, "shard-1")["ProcessingJobStatus"] == "Stopped"


def test_names_are_validated_and_unique(clients):
    s3, sm, _ = clients
    put_script(s3, "ok.py", "print('ok')\n")
    with pytest.raises(ClientError) as err:
        start_processing(sm, "bad_name", "ok.py")
    assert err.value.response["Error"]["Code"] == "ValidationException"
    assert "bad_name" in err.value.response["Error"]["Message"]
    start_processing(sm, "twice", "ok.py")
    with pytest.raises(ClientError) as err:
        start_processing(sm, "twice", "ok.py")
    assert err.value.response["Error"]["Code"] == "ResourceInUse"
    with pytest.raises(ClientError) as err:
        sm.describe_processing_job(ProcessingJobName="never")
    assert err.value.response["Error"]["Code"] == "ValidationException"
    assert wait_for_processing(sm, "twice")["ProcessingJobStatus"] == "Completed"


def test_manifest_file_input_stages_the_listed_objects(clients):
    s3, sm, _ = clients
    for key in ("pool/a.csv", "pool/b/c.csv", "pool/skipped.csv"):
        s3.put_object(Bucket=BUCKET, Key=key, Body=key.encode())
    manifest = [{"prefix": f"s3://{BUCKET}/pool/"}, "a.csv", "b/c.csv"]
    s3.put_object(Bucket=BUCKET, Key="manifests/m.json", Body=json.dumps(manifest).encode())
    put_script(
        s3,
        "listing.py",
        """
        import os, sys
        found = sorted(os.path.relpath(os.path.join(d, f), sys.argv[1])
                       for d, _, fs in os.walk(sys.argv[1]) for f in fs)
        open(sys.argv[2] + "/listing.txt", "w").write(",".join(found))
    """,
    )
    start_processing(
        sm,
        "manifest-1",
        "listing.py",
        args=["/opt/ml/processing/input/pool", "/opt/ml/processing/out"],
        inputs=[
            {
                "InputName": "pool",
                "S3Input": {
                    "S3Uri": f"s3://{BUCKET}/manifests/m.json",
                    "S3InputMode": "File",
                    "LocalPath": "/opt/ml/processing/input/pool",
                    "S3DataType": "ManifestFile",
                },
            }
        ],
        outputs=[processing_output("out", f"s3://{BUCKET}/listing")],
    )
    assert wait_for_processing(sm, "manifest-1")["ProcessingJobStatus"] == "Completed"
    assert s3.get_object(Bucket=BUCKET, Key="listing/listing.txt")["Body"].read() == b"a.csv,b/c.csv"


def test_list_pages_with_next_tokens(clients):
    s3, sm, _ = clients
    put_script(s3, "ok.py", "print('ok')\n")
    for name in ("page-1", "page-2", "page-3"):
        start_processing(sm, name, "ok.py")
    first = sm.list_processing_jobs(MaxResults=2, SortBy="Name", SortOrder="Ascending")
    assert [j["ProcessingJobName"] for j in first["ProcessingJobSummaries"]] == ["page-1", "page-2"]
    rest = sm.list_processing_jobs(MaxResults=2, SortBy="Name", SortOrder="Ascending", NextToken=first["NextToken"])
    assert [j["ProcessingJobName"] for j in rest["ProcessingJobSummaries"]] == ["page-3"] and "NextToken" not in rest
    code, message = error_of(lambda: sm.list_processing_jobs(NextToken="2"))
    assert code == "ValidationException" and message.startswith("Invalid NextToken '2'")
    code, message = error_of(lambda: sm.list_processing_jobs(MaxResults=101))
    assert code == "ValidationException" and message.startswith("1 validation error detected: Value '101'")
    for name in ("page-1", "page-2", "page-3"):
        assert wait_for_processing(sm, name)["ProcessingJobStatus"] == "Completed"
