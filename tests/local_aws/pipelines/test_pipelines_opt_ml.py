"""A pipeline step runs a processing script written as AWS's examples write one, every /opt/ml path in
its code (Python's os.path.exists, a shell `cat`), as the same script runs as a job of its own."""

from __future__ import annotations

import json

from support.pipelines import BUCKET, definition, processing, run

HARD_CODED = """
import json,os,subprocess
d="/opt/ml/processing"
cat=subprocess.run(f"cat {d}/data/rows.csv",shell=True,capture_output=True,text=True).stdout
json.dump([os.path.exists(f"{d}/data/rows.csv"),os.path.exists(f"{d}/none"),cat],open(f"{d}/report/r.json","w"))
"""  # an entrypoint item holds at most 256 characters


def test_a_step_script_with_opt_ml_paths_in_its_code_runs_unchanged(clients):
    s3, sm = clients
    s3.put_object(Bucket=BUCKET, Key="data/rows.csv", Body=b"a,b\n1,2\n")
    step = processing(
        "HardCoded",
        HARD_CODED,
        inputs=[("data", f"s3://{BUCKET}/data/rows.csv")],
        outputs=[("report", f"s3://{BUCKET}/hard-coded")],
    )
    _, execution, steps = run(sm, "hard-coded-paths", definition([step]))
    assert execution["PipelineExecutionStatus"] == "Succeeded", steps["HardCoded"].get("FailureReason")
    report = json.loads(s3.get_object(Bucket=BUCKET, Key="hard-coded/r.json")["Body"].read())
    assert report == [True, False, "a,b\n1,2\n"]  # the input exists, nothing else does, `cat` reads it
