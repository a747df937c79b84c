"""A job stays in its sandbox: requests AWS refuses are refused at create, every path a job derives from its
request, an S3 key or a manifest stays inside its /opt/ml stand-in or fails the job with a ClientError,
and no upload follows a symbolic link out of it. Each escape aims at a directory of the test's own,
checked on disk afterwards."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import error_of
from support.jobs import (
    IMAGE,
    PROCESSING_LOGS,
    ROLE,
    TRAINING_BUCKET,
    TRAINING_LOGS,
    channel,
    job_log,
    processing_output,
    put_script,
    start_processing,
    start_training,
    untar,
    wait_for_processing,
    wait_for_training,
)
from support.jobs import (
    PROCESSING_BUCKET as BUCKET,
)

from local_aws.core.gateway.context import RequestContext
from local_aws.core.gateway.errors import ValidationException
from local_aws.jobs import JobKind, start_job

CLIMB = "../" * 30  # more than any job directory is deep: from /opt/ml/... up to /


def climbing(container_dir: str, target: Path) -> str:
    """A container path under `container_dir` whose ../ segments lead to the host path `target`."""
    return f"{container_dir}/{CLIMB}{str(target).lstrip('/')}"


def s3_input(name: str, uri: str, local_path: str, data_type: str = "S3Prefix") -> dict:
    return {
        "InputName": name,
        "S3Input": {"S3Uri": uri, "LocalPath": local_path, "S3DataType": data_type, "S3InputMode": "File"},
    }


def processing_request(name: str, **members) -> dict:
    request = {
        "ProcessingJobName": name,
        "RoleArn": ROLE,
        "ProcessingResources": {
            "ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 5}
        },
        "AppSpecification": {"ImageUri": IMAGE, "ContainerEntrypoint": ["python3", "-c", "print(1)"]},
    }
    request.update(members)
    return request


def files_under(directory: Path) -> list[str]:
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*")) if directory.exists() else []


# -- at create ---------------------------------------------------------------------------------
def test_processing_local_paths_outside_opt_ml_processing_are_refused_at_create(clients):
    s3, sm, _ = clients
    put_script(s3, "ok.py", "print('ok')\n")
    code, message = error_of(
        lambda: start_processing(
            sm,
            "model-out",
            "ok.py",
            outputs=[
                {
                    "OutputName": "model",
                    "S3Output": {"S3Uri": f"s3://{BUCKET}/m", "LocalPath": "/opt/ml/model", "S3UploadMode": "EndOfJob"},
                }
            ],
        )
    )
    assert code == "ValidationException"
    assert message == (
        "LocalPath /opt/ml/model of ProcessingOutput 'model' is not valid: LocalPath must be an "
        "absolute path that begins with /opt/ml/processing/."
    )
    code, message = error_of(
        lambda: start_processing(sm, "tmp-in", "ok.py", inputs=[s3_input("data", f"s3://{BUCKET}/code/", "/tmp/data")])
    )
    assert code == "ValidationException" and "/tmp/data of ProcessingInput 'data'" in message
    code, message = error_of(
        lambda: start_processing(
            sm,
            "no-path",
            "ok.py",
            inputs=[
                {
                    "InputName": "data",
                    "S3Input": {"S3Uri": f"s3://{BUCKET}/code/", "S3DataType": "S3Prefix", "S3InputMode": "File"},
                }
            ],
        )
    )
    assert code == "ValidationException" and message.startswith("LocalPath is required for ProcessingInput 'data'")
    for name in ("model-out", "tmp-in", "no-path"):
        assert error_of(lambda: sm.describe_processing_job(ProcessingJobName=name))[0] == "ValidationException"


@pytest.mark.parametrize(
    "member, value, expected",
    [
        (
            "RoleArn",
            "arn:aws:iam::123456789012:user/bob",
            "Value 'arn:aws:iam::123456789012:user/bob' at 'roleArn' failed to satisfy constraint: Member must satisfy "
            "regular expression pattern: arn:aws[a-z\\-]*:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+",
        ),
        ("ProcessingJobName", "../escape", "Value '../escape' at 'processingJobName' failed to satisfy constraint"),
        (
            "ProcessingInputs",
            [s3_input(f"in{i}", "s3://b/k", f"/opt/ml/processing/in{i}") for i in range(11)],
            "at 'processingInputs' failed to satisfy constraint: Member must have length less than or equal to 10",
        ),
    ],
)
def test_the_model_checks_role_names_and_counts_over_http_and_in_process(clients, member, value, expected):
    _, sm, _ = clients
    request = processing_request("checked", **{member: value})
    code, message = error_of(lambda: sm.create_processing_job(**request))
    assert code == "ValidationException" and message.startswith("1 validation error detected: ") and expected in message
    with pytest.raises(ValidationException) as err:
        start_job(JobKind.PROCESSING, request, RequestContext())
    assert err.value.message == message


def test_in_process_starts_refuse_an_output_outside_opt_ml_processing():
    request = processing_request(
        "in-process",
        ProcessingOutputConfig={
            "Outputs": [
                {
                    "OutputName": "model",
                    "S3Output": {"S3Uri": "s3://b/m", "LocalPath": "/opt/ml/model", "S3UploadMode": "EndOfJob"},
                }
            ]
        },
    )
    with pytest.raises(ValidationException) as err:
        start_job(JobKind.PROCESSING, request, RequestContext())
    assert err.value.message.startswith("LocalPath /opt/ml/model of ProcessingOutput 'model' is not valid")


# -- at run time: paths from the request -------------------------------------------------------
def test_local_paths_climbing_out_fail_the_job_and_nothing_is_written_or_uploaded(clients, tmp_path):
    s3, sm, _ = clients
    s3.put_object(Bucket=BUCKET, Key="raw/data.csv", Body=b"1,2\n")
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "id_rsa").write_text("PRIVATE KEY")
    put_script(s3, "ok.py", "print('ok')\n")
    escape_in = climbing("/opt/ml/processing", tmp_path / "escaped")
    start_processing(sm, "climb-in", "ok.py", inputs=[s3_input("raw", f"s3://{BUCKET}/raw/", escape_in)])
    job = wait_for_processing(sm, "climb-in")
    assert job["ProcessingJobStatus"] == "Failed"
    assert job["FailureReason"].startswith(
        f"ClientError: local path {escape_in} resolves to {tmp_path}/escaped, outside /opt/ml/processing/"
    )
    escape_out = climbing("/opt/ml/processing", secrets)
    start_processing(
        sm,
        "climb-out",
        "ok.py",
        outputs=[
            {
                "OutputName": "out",
                "S3Output": {"S3Uri": f"s3://{BUCKET}/stolen", "LocalPath": escape_out, "S3UploadMode": "EndOfJob"},
            }
        ],
    )
    job = wait_for_processing(sm, "climb-out")
    assert job["ProcessingJobStatus"] == "Failed" and job["FailureReason"].startswith(
        f"ClientError: local path {escape_out} resolves to {secrets}"
    )
    sideways = "/opt/ml/processing/../model"  # inside /opt/ml, outside /opt/ml/processing
    start_processing(
        sm,
        "climb-side",
        "ok.py",
        outputs=[
            {
                "OutputName": "out",
                "S3Output": {"S3Uri": f"s3://{BUCKET}/side", "LocalPath": sideways, "S3UploadMode": "EndOfJob"},
            }
        ],
    )
    assert wait_for_processing(sm, "climb-side")["FailureReason"].startswith(
        f"ClientError: local path {sideways} resolves to /opt/ml/model, outside /opt/ml/processing/"
    )
    assert files_under(tmp_path) == ["secrets", "secrets/id_rsa"]
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix="stolen").get("KeyCount") == 0


def test_a_shell_driver_outside_the_job_directory_is_not_rewritten(clients, tmp_path):
    s3, sm, _ = clients
    driver = tmp_path / "driver.sh"
    driver.write_text("echo driver saw /opt/ml/processing\n")
    sm.create_processing_job(
        **processing_request(
            "host-driver",
            AppSpecification={"ImageUri": IMAGE, "ContainerEntrypoint": ["bash", climbing("/opt/ml/output", driver)]},
        )
    )
    job = wait_for_processing(sm, "host-driver")
    assert job["ProcessingJobStatus"] == "Completed", job.get("FailureReason")
    assert driver.read_text() == "echo driver saw /opt/ml/processing\n"


def test_training_channel_names_and_checkpoint_paths_stay_inside(clients, tmp_path):
    s3, sm, _ = clients
    s3.put_object(Bucket=TRAINING_BUCKET, Key="data/x.csv", Body=b"x\n")
    start_training(sm, s3, "fit-dots", "print('ok')\n", channels=[channel("..", f"s3://{TRAINING_BUCKET}/data/")])
    job = wait_for_training(sm, "fit-dots")
    assert job["TrainingJobStatus"] == "Failed" and job["FailureReason"].startswith(
        "ClientError: local path /opt/ml/input/data/.. resolves to /opt/ml/input, outside /opt/ml/input/data/"
    )
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "id_rsa").write_text("PRIVATE KEY")
    checkpoints = climbing("/opt/ml/checkpoints", secrets)
    s3.put_object(Bucket=TRAINING_BUCKET, Key="code/fit-ckpt/train.py", Body=b"print('ok')\n")
    sm.create_training_job(
        TrainingJobName="fit-ckpt",
        RoleArn=ROLE,
        AlgorithmSpecification={
            "TrainingImage": IMAGE,
            "TrainingInputMode": "File",
            "ContainerEntrypoint": ["python3", "/opt/ml/input/data/code/train.py"],
        },
        InputDataConfig=[channel("code", f"s3://{TRAINING_BUCKET}/code/fit-ckpt/")],
        OutputDataConfig={"S3OutputPath": f"s3://{TRAINING_BUCKET}/models"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 5},
        StoppingCondition={"MaxRuntimeInSeconds": 60},
        CheckpointConfig={"S3Uri": f"s3://{TRAINING_BUCKET}/checkpoints", "LocalPath": checkpoints},
    )
    job = wait_for_training(sm, "fit-ckpt")
    assert job["TrainingJobStatus"] == "Failed" and job["FailureReason"].startswith(
        f"ClientError: local path {checkpoints} resolves to {secrets}, outside /opt/ml/"
    )
    assert files_under(tmp_path) == ["secrets", "secrets/id_rsa"]
    assert s3.list_objects_v2(Bucket=TRAINING_BUCKET, Prefix="checkpoints").get("KeyCount") == 0


# -- at run time: paths from S3 keys and manifests ---------------------------------------------
def test_s3_keys_and_manifest_entries_climbing_out_fail_the_job(clients, tmp_path):
    s3, sm, _ = clients
    put_script(s3, "ok.py", "print('ok')\n")
    key = f"raw/{CLIMB}{str(tmp_path / 'from-key.txt').lstrip('/')}"
    s3.put_object(Bucket=BUCKET, Key="raw/fine.csv", Body=b"fine")
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"escaped")
    start_processing(
        sm, "key-climb", "ok.py", inputs=[s3_input("raw", f"s3://{BUCKET}/raw/", "/opt/ml/processing/raw")]
    )
    job = wait_for_processing(sm, "key-climb")
    assert job["ProcessingJobStatus"] == "Failed"
    assert job["FailureReason"].startswith(
        f"ClientError: the S3 object s3://{BUCKET}/{key} would be written to "
        f"{tmp_path}/from-key.txt, outside the input's local path "
        "/opt/ml/processing/raw"
    )
    entry = f"{CLIMB}{str(tmp_path / 'from-manifest.txt').lstrip('/')}"
    manifest = [{"prefix": f"s3://{BUCKET}/pool/"}, "a.csv", entry]
    s3.put_object(Bucket=BUCKET, Key="pool/a.csv", Body=b"a")
    s3.put_object(Bucket=BUCKET, Key="pool/" + entry, Body=b"escaped")
    s3.put_object(Bucket=BUCKET, Key="lists/escape.manifest", Body=json.dumps(manifest).encode())
    start_processing(
        sm,
        "manifest-climb",
        "ok.py",
        inputs=[s3_input("pool", f"s3://{BUCKET}/lists/escape.manifest", "/opt/ml/processing/pool", "ManifestFile")],
    )
    job = wait_for_processing(sm, "manifest-climb")
    assert job["ProcessingJobStatus"] == "Failed"
    assert job["FailureReason"].startswith(
        f"ClientError: the manifest entry '{entry}' of s3://{BUCKET}/lists/"
        f"escape.manifest would be written to {tmp_path}/from-manifest.txt"
    )
    assert files_under(tmp_path) == []


def test_keys_with_doubled_slashes_stay_inside_the_input(clients):
    s3, sm, logs = clients
    s3.put_object(Bucket=BUCKET, Key="raw//nested.csv", Body=b"1\n")
    put_script(
        s3,
        "list.py",
        """
        import os, sys
        print(sorted(os.listdir(sys.argv[1])))
    """,
    )
    start_processing(
        sm,
        "double-slash",
        "list.py",
        args=["/opt/ml/processing/raw"],
        inputs=[s3_input("raw", f"s3://{BUCKET}/raw/", "/opt/ml/processing/raw")],
    )
    assert wait_for_processing(sm, "double-slash")["ProcessingJobStatus"] == "Completed"
    assert job_log(logs, PROCESSING_LOGS, "double-slash") == ["['nested.csv']"]


# -- reading back: links are not followed ------------------------------------------------------
def test_symbolic_links_in_outputs_are_skipped_and_named_in_the_log(clients, tmp_path):
    s3, sm, logs = clients
    secret = tmp_path / "id_rsa"
    secret.write_text("PRIVATE KEY")
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "passwd").write_text("root:x:0:0")
    put_script(
        s3,
        "links.py",
        f"""
        import os, sys
        out, message = sys.argv[1], sys.argv[2]
        open(os.path.join(out, "result.txt"), "w").write("mine")
        os.symlink({str(secret)!r}, os.path.join(out, "id_rsa"))
        os.symlink({str(tmp_path / "etc")!r}, os.path.join(out, "etc"))
        os.symlink("result.txt", os.path.join(out, "inside-link"))
        os.symlink({str(secret)!r}, message)
    """,
    )
    start_processing(
        sm,
        "links",
        "links.py",
        args=["/opt/ml/processing/out", "/opt/ml/output/message"],
        outputs=[processing_output("out", f"s3://{BUCKET}/links")],
    )
    job = wait_for_processing(sm, "links")
    assert job["ProcessingJobStatus"] == "Completed", job.get("FailureReason")
    assert "ExitMessage" not in job
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="links/")["Contents"]]
    assert keys == ["links/result.txt"]
    skipped = [line for line in job_log(logs, PROCESSING_LOGS, "links") if line.startswith("local_aws: not uploaded")]
    assert sorted(skipped) == [
        f"local_aws: not uploaded: /opt/ml/processing/out/{name} is a symbolic link; "
        f"SageMaker does not follow symbolic links when it uploads output data."
        for name in ("etc", "id_rsa", "inside-link")
    ]


def test_an_output_directory_replaced_by_a_link_uploads_nothing(clients, tmp_path):
    s3, sm, logs = clients
    (tmp_path / "id_rsa").write_text("PRIVATE KEY")
    put_script(
        s3,
        "swap.py",
        f"""
        import os, shutil, sys
        shutil.rmtree(sys.argv[1])
        os.symlink({str(tmp_path)!r}, sys.argv[1])
    """,
    )
    start_processing(
        sm,
        "swap",
        "swap.py",
        args=["/opt/ml/processing/out"],
        outputs=[processing_output("out", f"s3://{BUCKET}/swapped")],
    )
    assert wait_for_processing(sm, "swap")["ProcessingJobStatus"] == "Completed"
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix="swapped").get("KeyCount") == 0
    assert (
        "local_aws: not uploaded: /opt/ml/processing/out is a symbolic link; SageMaker does not follow symbolic "
        "links when it uploads output data." in job_log(logs, PROCESSING_LOGS, "swap")
    )


def test_model_tarball_leaves_out_links(clients, tmp_path):
    s3, sm, logs = clients
    (tmp_path / "id_rsa").write_text("PRIVATE KEY")
    start_training(
        sm,
        s3,
        "fit-links",
        f"""
        import os
        model = os.environ["SM_MODEL_DIR"]
        open(os.path.join(model, "model.txt"), "w").write("weights")
        os.symlink({str(tmp_path / "id_rsa")!r}, os.path.join(model, "id_rsa"))
    """,
    )
    job = wait_for_training(sm, "fit-links")
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    assert untar(s3, job["ModelArtifacts"]["S3ModelArtifacts"]) == {"model.txt": b"weights"}
    assert (
        "local_aws: not uploaded: /opt/ml/model/id_rsa is a symbolic link; SageMaker does not follow symbolic "
        "links when it uploads output data." in job_log(logs, TRAINING_LOGS, "fit-links")
    )
