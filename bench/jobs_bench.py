"""What a local_aws processing job costs over running its script directly.

Side by side in one run: (1) the same trivial script run as a plain subprocess (the baseline) and
as a processing job, create -> Completed, polled every 50 ms; (2) a job that stages INPUT_FILES
objects from S3 and uploads as many outputs, against copying the same bytes on disk.
Prints the figures and the ratios; asserts nothing.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import boto3

import local_aws

RUNS = 5
INPUT_FILES = 200
FILE_BYTES = 64 * 1024
SCRIPT = "import sys, shutil; shutil.copytree(sys.argv[1], sys.argv[2], dirs_exist_ok=True)\n"
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"


def run_job(sm, name: str, inputs: list, outputs: list, args: list[str]) -> float:
    started = time.perf_counter()
    request = dict(
        ProcessingJobName=name,
        RoleArn="arn:aws:iam::123456789012:role/R",
        ProcessingResources={"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 5}},
        AppSpecification={
            "ImageUri": IMAGE,
            "ContainerArguments": args,
            "ContainerEntrypoint": ["python3", "/opt/ml/processing/input/code/copy.py"],
        },
        ProcessingInputs=inputs,
    )
    if outputs:
        request["ProcessingOutputConfig"] = {"Outputs": outputs}
    sm.create_processing_job(**request)
    while (status := sm.describe_processing_job(ProcessingJobName=name)["ProcessingJobStatus"]) == "InProgress":
        time.sleep(0.05)
    assert status == "Completed", sm.describe_processing_job(ProcessingJobName=name).get("FailureReason")
    return time.perf_counter() - started


def main() -> None:
    home = Path(tempfile.mkdtemp(prefix="jobs_bench_"))
    with local_aws.temporary_server():
        s3, sm = boto3.client("s3"), boto3.client("sagemaker")
        s3.create_bucket(Bucket="bench")
        s3.put_object(Bucket="bench", Key="code/copy.py", Body=SCRIPT.encode())
        code = {
            "InputName": "code",
            "S3Input": {
                "S3Uri": "s3://bench/code/copy.py",
                "S3DataType": "S3Prefix",
                "LocalPath": "/opt/ml/processing/input/code",
                "S3InputMode": "File",
            },
        }
        scratch = home / "scratch"
        (scratch / "empty").mkdir(parents=True)
        script = scratch / "copy.py"
        script.write_text(SCRIPT)

        direct = [
            _timed(
                lambda: subprocess.run(
                    [sys.executable, str(script), str(scratch / "empty"), str(scratch / "out")], check=True
                )
            )
            for _ in range(RUNS)
        ]
        empty_dir = ["/opt/ml/processing/input/code", "/opt/ml/processing/copied"]
        jobs = [run_job(sm, f"latency-{i}", [code], [], empty_dir) for i in range(RUNS)]
        print(
            f"trivial script: direct subprocess {statistics.median(direct) * 1000:.0f} ms, "
            f"processing job create->Completed {statistics.median(jobs) * 1000:.0f} ms "
            f"(ratio {statistics.median(jobs) / statistics.median(direct):.1f}x, median of {RUNS})"
        )

        payload = os.urandom(FILE_BYTES)
        source = scratch / "data"
        source.mkdir()
        for i in range(INPUT_FILES):
            s3.put_object(Bucket="bench", Key=f"data/part-{i:04d}.bin", Body=payload)
            (source / f"part-{i:04d}.bin").write_bytes(payload)
        copies = [_timed(lambda: shutil.copytree(source, scratch / f"copy-{time.perf_counter_ns()}")) for _ in range(3)]
        data = {
            "InputName": "data",
            "S3Input": {
                "S3Uri": "s3://bench/data/",
                "S3DataType": "S3Prefix",
                "LocalPath": "/opt/ml/processing/input/data",
                "S3InputMode": "File",
            },
        }
        out = {
            "OutputName": "out",
            "S3Output": {
                "S3Uri": "s3://bench/copied",
                "LocalPath": "/opt/ml/processing/out",
                "S3UploadMode": "EndOfJob",
            },
        }
        staged = [
            run_job(
                sm, f"staging-{i}", [code, data], [out], ["/opt/ml/processing/input/data", "/opt/ml/processing/out"]
            )
            for i in range(3)
        ]
        megabytes = INPUT_FILES * FILE_BYTES / 2**20
        print(
            f"{INPUT_FILES} files, {megabytes:.1f} MiB in and out: "
            f"disk copy {statistics.median(copies) * 1000:.0f} ms, "
            f"job with S3 staging + upload {statistics.median(staged) * 1000:.0f} ms "
            f"(ratio {statistics.median(staged) / statistics.median(copies):.1f}x, "
            f"{2 * megabytes / statistics.median(staged):.0f} MiB/s through moto's S3, median of 3)"
        )
    shutil.rmtree(home, ignore_errors=True)


def _timed(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
