"""A job's processes see /opt/ml itself, their own and no other job's, as in a container: a script written for
AWS with /opt/ml paths in its code runs unchanged, through Python, a shell tool and a C++ reader alike.
Where the machine allows no private mount namespace (forced here with LOCAL_AWS_JOB_ISOLATION=off), /opt/ml
is rewritten where it is passed, a literal path fails saying how to pass it, and the job's log says so once."""

from __future__ import annotations

import json
import threading

import pytest
from support.jobs import (
    PROCESSING_BUCKET as BUCKET,
)
from support.jobs import (
    PROCESSING_LOGS,
    TRAINING_BUCKET,
    job_log,
    processing_output,
    put_script,
    put_source_archive,
    start_processing,
    start_script_mode_training,
    untar,
    wait_for_processing,
    wait_for_training,
)
from support.restart import OwnServer

# As AWS's own examples write a processing script: every path in the code, none passed.
HARD_CODED = """
    import json, os, subprocess
    import pyarrow.csv, pyarrow.parquet

    base_dir = "/opt/ml/processing"
    rows = f"{base_dir}/input/data/rows.csv"
    found = {"rows": os.path.exists(rows), "missing": os.path.exists(f"{base_dir}/input/data/missing.csv")}
    shown = subprocess.run(f"cat {rows}", shell=True, capture_output=True, text=True, check=True).stdout
    table = pyarrow.csv.read_csv(rows)
    pyarrow.parquet.write_table(table, f"{base_dir}/output/rows.parquet")
    with open(f"{base_dir}/output/report.json", "w") as fh:
        json.dump({"exists": found, "cat": shown, "arrow_rows": table.num_rows, "cwd": os.getcwd(),
                   "config": sorted(os.listdir("/opt/ml/config"))}, fh)
"""
DATA_INPUT = {
    "InputName": "data",
    "S3Input": {
        "S3Uri": f"s3://{BUCKET}/data/rows.csv",
        "LocalPath": "/opt/ml/processing/input/data",
        "S3DataType": "S3Prefix",
        "S3InputMode": "File",
    },
}
FALLBACK_LINE = "local_aws: this job's processes cannot have an /opt/ml of their own here"


def put_rows(s3) -> None:
    s3.put_object(Bucket=BUCKET, Key="data/rows.csv", Body=b"a,b\n1,2\n3,4\n")


def test_a_script_with_opt_ml_paths_in_its_code_runs_unchanged(clients):
    s3, sm, logs = clients
    put_rows(s3)
    put_script(s3, "hard_coded.py", HARD_CODED)
    start_processing(
        sm,
        "hard-coded",
        "hard_coded.py",
        inputs=[DATA_INPUT],
        outputs=[processing_output("output", f"s3://{BUCKET}/hard-coded")],
    )
    job = wait_for_processing(sm, "hard-coded")
    assert job["ProcessingJobStatus"] == "Completed", job.get("FailureReason")
    report = json.loads(s3.get_object(Bucket=BUCKET, Key="hard-coded/report.json")["Body"].read())
    assert report == {
        "exists": {"rows": True, "missing": False},
        "cat": "a,b\n1,2\n3,4\n",
        "arrow_rows": 2,
        "cwd": "/opt/ml",
        "config": ["processingjobconfig.json", "resourceconfig.json"],
    }
    parquet = s3.get_object(Bucket=BUCKET, Key="hard-coded/rows.parquet")["Body"].read()
    assert parquet.startswith(b"PAR1")
    assert not [line for line in job_log(logs, PROCESSING_LOGS, "hard-coded") if line.startswith("local_aws:")]


def test_two_jobs_at_once_each_see_their_own_opt_ml(clients, tmp_path):
    s3, sm, _ = clients
    meeting = tmp_path / "meeting"  # outside both jobs: where they wait for each other
    meeting.mkdir()
    put_script(
        s3,
        "who.py",
        """
        import json, os, pathlib, time
        me, meeting = os.environ["ME"], pathlib.Path(os.environ["MEETING"])
        out = pathlib.Path("/opt/ml/processing/output")
        (out / "mine.txt").write_text(me)
        (meeting / me).touch()
        deadline = time.monotonic() + 30
        while len(list(meeting.iterdir())) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        report = {"together": len(list(meeting.iterdir())) == 2, "outputs": sorted(os.listdir(out)),
                  "mine": (out / "mine.txt").read_text(), "input": open("/opt/ml/processing/input/who/who.txt").read()}
        (out / "report.json").write_text(json.dumps(report))
    """,
    )
    names = ("left", "right")
    for name in names:
        s3.put_object(Bucket=BUCKET, Key=f"who/{name}/who.txt", Body=f"input of {name}".encode())
    starts = [
        threading.Thread(
            target=start_processing,
            args=(sm, f"who-{name}", "who.py"),
            kwargs=dict(
                env={"ME": name, "MEETING": str(meeting)},
                inputs=[
                    {
                        "InputName": "who",
                        "S3Input": {
                            "S3Uri": f"s3://{BUCKET}/who/{name}/",
                            "LocalPath": "/opt/ml/processing/input/who",
                            "S3DataType": "S3Prefix",
                            "S3InputMode": "File",
                        },
                    }
                ],
                outputs=[processing_output("output", f"s3://{BUCKET}/who-out/{name}")],
            ),
        )
        for name in names
    ]
    for start in starts:
        start.start()
    for start in starts:
        start.join()
    for name in names:
        job = wait_for_processing(sm, f"who-{name}")
        assert job["ProcessingJobStatus"] == "Completed", job.get("FailureReason")
        report = json.loads(s3.get_object(Bucket=BUCKET, Key=f"who-out/{name}/report.json")["Body"].read())
        assert report == {"together": True, "outputs": ["mine.txt"], "mine": name, "input": f"input of {name}"}


@pytest.fixture()
def fallback_server(tmp_path):
    """A server of the test's own whose jobs run with /opt/ml rewritten, as where no namespace is allowed."""
    server = OwnServer(tmp_path / "home", LOCAL_AWS_JOB_ISOLATION="off").start()
    server.client("s3").create_bucket(Bucket=BUCKET)
    yield server
    server.kill()


def test_without_a_private_opt_ml_paths_are_rewritten_where_passed_and_the_log_says_so(fallback_server):
    s3, sm, logs = (fallback_server.client(name) for name in ("s3", "sagemaker", "logs"))
    put_rows(s3)
    put_script(
        s3,
        "passed.py",
        """
        import os, sys
        rows, out = sys.argv[1], os.environ["OUT_DIR"]
        assert not rows.startswith("/opt/ml") and os.path.exists(rows), rows
        open(os.path.join(out, "copy.csv"), "w").write(open(rows).read())
    """,
    )
    start_processing(
        sm,
        "passed",
        "passed.py",
        args=["/opt/ml/processing/input/data/rows.csv"],
        env={"OUT_DIR": "/opt/ml/processing/output"},
        inputs=[DATA_INPUT],
        count=2,
        outputs=[processing_output("output", f"s3://{BUCKET}/passed")],
    )
    job = wait_for_processing(sm, "passed")
    assert job["ProcessingJobStatus"] == "Completed", job.get("FailureReason")
    assert s3.get_object(Bucket=BUCKET, Key="passed/copy.csv")["Body"].read() == b"a,b\n1,2\n3,4\n"
    said = [line for line in job_log(logs, PROCESSING_LOGS, "passed") if line.startswith("local_aws:")]
    assert len(said) == 1 and said[0].startswith(FALLBACK_LINE + " (LOCAL_AWS_JOB_ISOLATION is off)")


def test_without_a_private_opt_ml_a_literal_path_fails_saying_how_to_pass_it(fallback_server):
    s3, sm = fallback_server.client("s3"), fallback_server.client("sagemaker")
    put_rows(s3)
    put_script(
        s3,
        "literal.py",
        """
        import pandas  # noqa: F401  (a real script's imports must still work)
        open("/opt/ml/processing/input/data/rows.csv").read()
    """,
    )
    start_processing(sm, "literal", "literal.py", inputs=[DATA_INPUT])
    job = wait_for_processing(sm, "literal")
    assert job["ProcessingJobStatus"] == "Failed"
    reason = job["FailureReason"]
    assert reason.startswith(
        "AlgorithmError: The script opened the container path "
        "/opt/ml/processing/input/data/rows.csv written literally in its code."
    )
    assert "This machine gives jobs no /opt/ml of their own (see the job's log)" in reason
    assert "Pass the path as an argument" in reason


def test_without_a_private_opt_ml_script_mode_still_trains(fallback_server):
    s3, sm = fallback_server.client("s3"), fallback_server.client("sagemaker")
    s3.create_bucket(Bucket=TRAINING_BUCKET)
    source = put_source_archive(
        s3,
        "fit/sourcedir.tar.gz",
        {
            "train.py": """
        import json, os, sys
        with open(os.path.join(os.environ["SM_MODEL_DIR"], "seen.json"), "w") as fh:
            json.dump({"argv": sys.argv[1:], "cwd_is_code": os.getcwd().endswith("/code"),
                       "mapped": not os.environ["SM_MODEL_DIR"].startswith("/opt/ml")}, fh)
    """
        },
    )
    start_script_mode_training(
        sm, "fit", {"sagemaker_program": "train.py", "sagemaker_submit_directory": source, "epochs": "2"}
    )
    job = wait_for_training(sm, "fit")
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    seen = json.loads(untar(s3, job["ModelArtifacts"]["S3ModelArtifacts"])["seen.json"])
    assert seen == {"argv": ["--epochs", "2"], "cwd_is_code": True, "mapped": True}
