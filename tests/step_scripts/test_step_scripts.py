"""The four step scripts, run from the command line as a user (or a SageMaker job) runs them.

Bad input must end with exit code 1 (2 for argparse's own checks) and one line naming the bad
value; good runs go end to end against the local_aws server: ingest -> fetch -> train -> register.
STEP_SCRIPTS_PYTHON=/path/to/python runs the scripts with another interpreter, e.g. one with the
older pandas and scikit-learn of SageMaker's scikit-learn container.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tarfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest
from support import GUARD_SITE, REPO, wait_until

import local_aws

SCRIPTS = REPO / "step_scripts"
ABALONE = REPO / "data" / "abalone.csv"
PYTHON = os.environ.get("STEP_SCRIPTS_PYTHON", sys.executable)
ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
BUCKET = "tutorial-bucket"


def child_env(**env: str) -> dict[str, str]:
    """The test's environment (the server's endpoint), with the network guard in the child too."""
    path = [str(GUARD_SITE), str(REPO), os.environ.get("PYTHONPATH")]
    return {"AWS_REGION": "us-east-1", **os.environ, **env, "PYTHONPATH": os.pathsep.join(filter(None, path))}


def run(script: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    """`python step_scripts/<script> args...` as a user runs it."""
    return subprocess.run(
        [PYTHON, str(SCRIPTS / script), *args],
        capture_output=True,
        text=True,
        env=child_env(**env),
        timeout=120,
        cwd=REPO,
    )


def failed_with(result: subprocess.CompletedProcess, *words: str, code: int = 1) -> None:
    """Non-zero exit and a one-line error on stderr naming every word (the bad value, the fix)."""
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    errors = [line for line in result.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1, result.stderr
    for word in words:
        assert word in errors[0], (word, errors[0])


# -- --help and bad input caught before any AWS call ---------------------------------------------
# These command lines need no server; they run concurrently (2-3 s of imports each) in one fixture.

HELP = {
    "featurestore_df_ingestion.py": [
        "--input-dir",
        "--feature-group-name",
        "--event-time",
        "--no-create",
        "--max-workers",
        "--max-processes",
        "--max-retries",
        "/opt/ml/processing/input",
    ],
    "fetch_data.py": [
        "--feature-group-name",
        "--expected-rows",
        "--min-event-time",
        "--timeout-seconds",
        "--athena-output-s3-uri",
    ],
    "train.py": [
        "--feature-group-name",
        "--min-event-time",
        "--target",
        "--n-estimators",
        "--max-depth",
        "--test-size",
        "/opt/ml/processing/model",
        "/opt/ml/processing/evaluation",
    ],
    "register_model.py": [
        "--model-package-group-name",
        "--model-data-url",
        "--evaluation-s3-uri",
        "PendingManualApproval",
        "--image-uri",
    ],
}
INGEST = ("featurestore_df_ingestion.py", "--feature-group-name", "g", "--input-dir")  # + a directory
REGISTER = ("register_model.py", "--model-package-group-name", "g", "--model-data-url")  # + a URI
# name: (command line, exit code, words the one error line must name); {good}/{bad}/{empty} are input dirs.
BAD_INPUT = {
    "missing input file": ((*INGEST, "{empty}"), 1, ["{empty}/abalone.csv", "--input-dir"]),
    "csv without the abalone columns": ((*INGEST, "{bad}"), 1, ["height", "rings", "found: sex, length, diameter"]),
    "malformed event time": (
        (*INGEST, "{good}", "--event-time", "yesterday"),
        1,
        ["--event-time 'yesterday'", "2024-05-01T12:00:00Z"],
    ),
    "malformed offline store uri": (
        (*INGEST, "{good}", "--offline-store-s3-uri", "my-bucket/prefix"),
        1,
        ["'my-bucket/prefix'", "s3://bucket/prefix"],
    ),
    "no ingestion process": ((*INGEST, "{good}", "--max-processes", "0"), 1, ["--max-processes 0", "one per vCPU"]),
    "malformed athena output uri": (
        ("fetch_data.py", "--feature-group-name", "g", "--athena-output-s3-uri", "athena-results/"),
        1,
        ["'athena-results/'", "s3://"],
    ),
    "malformed min event time": (
        ("fetch_data.py", "--feature-group-name", "g", "--min-event-time", "yesterday"),
        1,
        ["--min-event-time 'yesterday'", "2024-05-01T12:00:00Z"],
    ),
    "malformed min event time of train": (
        ("train.py", "--feature-group-name", "g", "--min-event-time", "today"),
        1,
        ["--min-event-time 'today'", "2024-05-01T12:00:00Z"],
    ),
    "test size above 1": (
        ("train.py", "--feature-group-name", "g", "--test-size", "1.5"),
        1,
        ["--test-size 1.5", "between 0 and 1"],
    ),
    "unknown approval status": (
        (*REGISTER, "s3://bucket/m.tar.gz", "--approval-status", "Maybe"),
        2,
        ["'Maybe'", "PendingManualApproval"],
    ),
    "malformed model uri": ((*REGISTER, "model.tar.gz"), 1, ["--model-data-url 'model.tar.gz'", "s3://bucket/path"]),
    "evaluation uri without a key": (
        (*REGISTER, "s3://bucket/m.tar.gz", "--evaluation-s3-uri", "s3://bucket"),
        1,
        ["--evaluation-s3-uri 's3://bucket'"],
    ),
    "region without a default image": (
        (*REGISTER, "s3://bucket/m.tar.gz", "--region", "xx-nowhere-1"),
        1,
        ["'xx-nowhere-1'", "--image-uri"],
    ),
    "group name with underscores": (
        (*REGISTER, "s3://bucket/m.tar.gz", "--model-package-group-name", "abalone_models"),
        1,
        ["'abalone_models'", "hyphens"],
    ),
}


@pytest.fixture(scope="module")
def offline_runs(tmp_path_factory) -> dict:
    """Every --help and BAD_INPUT command line, run at once; results by script or case name."""
    dirs = {name: tmp_path_factory.mktemp(name) for name in ("good", "bad", "empty")}
    abalone_slice(dirs["good"], 5)
    (dirs["bad"] / "abalone.csv").write_text("sex,length,diameter\nM,0.4,0.3\n")
    commands = {script: (script, "--help") for script in HELP}
    commands.update({name: [arg.format(**dirs) for arg in argv] for name, (argv, _, _) in BAD_INPUT.items()})
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {name: pool.submit(run, *argv) for name, argv in commands.items()}
    results = {name: future.result() for name, future in futures.items()}
    return {"dirs": dirs, **results}


@pytest.mark.parametrize("script", HELP)
def test_help_lists_the_flags_and_the_sagemaker_defaults(offline_runs, script):
    result = offline_runs[script]
    assert result.returncode == 0, result.stderr
    for flag in HELP[script]:
        assert flag in result.stdout, flag


@pytest.mark.parametrize("case", BAD_INPUT)
def test_bad_input_fails_with_one_line_naming_the_value_and_the_fix(offline_runs, case):
    _, code, words = BAD_INPUT[case]
    failed_with(offline_runs[case], *[word.format(**offline_runs["dirs"]) for word in words], code=code)


# -- against local_aws --------------------------------------------------------------------------


def abalone_slice(directory: Path, rows: int) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    pd.read_csv(ABALONE).head(rows).to_csv(directory / "abalone.csv", index=False)
    return directory


def ingest(input_dir: Path, output_dir: Path, *extra: str) -> subprocess.CompletedProcess:
    return run(
        "featurestore_df_ingestion.py",
        "--input-dir",
        str(input_dir),
        "--output-dir",
        str(output_dir),
        "--feature-group-name",
        "abalone-fg",
        "--role-arn",
        ROLE,
        "--offline-store-s3-uri",
        f"s3://{BUCKET}/feature-store",
        *extra,
    )


def test_ingestion_creates_the_group_puts_every_row_and_reports_failed_rows(aws, tmp_path):
    aws.client("s3").create_bucket(Bucket=BUCKET)
    result = ingest(abalone_slice(tmp_path / "in", 40), tmp_path / "out", "--event-time", "2024-05-01T12:00:00Z")
    assert result.returncode == 0, result.stderr
    assert "creating feature group abalone-fg" in result.stdout and "ingested 40 of 40 rows" in result.stdout
    report = json.loads((tmp_path / "out" / "ingest_report.json").read_text())
    assert report["rows_read"] == report["rows_ingested"] == 40 and report["rows_failed"] == 0
    assert report["feature_group_name"] == "abalone-fg" and report["event_time"] == "2024-05-01T12:00:00Z"

    group = aws.client("sagemaker").describe_feature_group(FeatureGroupName="abalone-fg")
    assert group["FeatureGroupStatus"] == "Created" and group["OnlineStoreConfig"]["EnableOnlineStore"]
    assert (group["RecordIdentifierFeatureName"], group["EventTimeFeatureName"]) == ("abalone_id", "event_time")
    types = {d["FeatureName"]: d["FeatureType"] for d in group["FeatureDefinitions"]}
    assert types == {
        "abalone_id": "String",
        "sex": "String",
        "length": "Fractional",
        "diameter": "Fractional",
        "height": "Fractional",
        "whole_weight": "Fractional",
        "shucked_weight": "Fractional",
        "viscera_weight": "Fractional",
        "shell_weight": "Fractional",
        "rings": "Integral",
        "event_time": "String",
    }
    runtime = aws.client("sagemaker-featurestore-runtime")
    record = runtime.get_record(FeatureGroupName="abalone-fg", RecordIdentifierValueAsString="abalone-00001")["Record"]
    assert {f["FeatureName"]: f["ValueAsString"] for f in record} == {
        "abalone_id": "abalone-00001",
        "sex": "M",
        "length": "0.455",
        "diameter": "0.365",
        "height": "0.095",
        "whole_weight": "0.514",
        "shucked_weight": "0.2245",
        "viscera_weight": "0.101",
        "shell_weight": "0.15",
        "rings": "15",
        "event_time": "2024-05-01T12:00:00Z",
    }

    # The group now fixes the schema: a column it lacks is refused before anything is written.
    frame = pd.read_csv(ABALONE).head(10)
    frame.assign(colour="red").to_csv(tmp_path / "in" / "abalone.csv", index=False)
    failed_with(ingest(tmp_path / "in", tmp_path / "out"), "colour", "'abalone-fg'")
    # Rows the service refuses (half a ring for an Integral feature) fail alone; the rest land. Two processes
    # put five rows each: each refused row is named, whichever process put it.
    frame.assign(rings=frame["rings"].astype(float).where(~frame.index.isin([0, 9]), 7.5)).to_csv(
        tmp_path / "in" / "abalone.csv", index=False
    )
    result = ingest(tmp_path / "in", tmp_path / "out", "--event-time", "2024-05-02T12:00:00Z", "--max-processes", "2")
    failed_with(result, "2 of 10 rows failed")
    assert "record abalone-00001 failed: ValidationError" in result.stdout + result.stderr
    assert "record abalone-00010 failed: ValidationError" in result.stdout + result.stderr
    report = json.loads((tmp_path / "out" / "ingest_report.json").read_text())
    assert (report["rows_read"], report["rows_ingested"], report["rows_failed"]) == (10, 8, 2)
    latest = {
        n: runtime.get_record(
            FeatureGroupName="abalone-fg", RecordIdentifierValueAsString=n, FeatureNames=["event_time"]
        )["Record"][0]["ValueAsString"]
        for n in ("abalone-00001", "abalone-00003")
    }
    assert latest == {"abalone-00001": "2024-05-01T12:00:00Z", "abalone-00003": "2024-05-02T12:00:00Z"}


def test_ingestion_puts_each_float_exactly_in_its_shortest_form(aws, tmp_path):
    """Parsed exactly and sent in its shortest round-trip form: 0.1 + 0.2 stays 0.30000000000000004, and
    no value gains a digit in its last place (older pandas parsers are one bit off without round_trip)."""
    aws.client("s3").create_bucket(Bucket=BUCKET)
    weights = {
        "length": "0.101",
        "diameter": "0.30000000000000004",
        "height": "0.3",
        "whole_weight": "2.675",
        "shucked_weight": "1.0000000000000002",
        "viscera_weight": "0.54141247279349658",
        "shell_weight": "123456.789",
    }
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "abalone.csv").write_text(f"sex,{','.join(weights)},rings\nM,{','.join(weights.values())},15\n")
    result = ingest(tmp_path / "in", tmp_path / "out", "--event-time", "2024-05-01T12:00:00Z")
    assert result.returncode == 0, result.stderr
    record = aws.client("sagemaker-featurestore-runtime").get_record(
        FeatureGroupName="abalone-fg", RecordIdentifierValueAsString="abalone-00001"
    )["Record"]
    stored = {f["FeatureName"]: f["ValueAsString"] for f in record}
    assert {name: stored[name] for name in weights} == {**weights, "viscera_weight": "0.5414124727934966"}


def test_ingestion_into_a_missing_group_needs_a_role_and_no_no_create(aws, tmp_path):
    abalone_slice(tmp_path, 5)
    failed_with(
        run(
            "featurestore_df_ingestion.py",
            "--input-dir",
            str(tmp_path),
            "--output-dir",
            str(tmp_path),
            "--feature-group-name",
            "nope",
            "--no-create",
        ),
        "'nope'",
        "--no-create",
    )
    failed_with(
        run(
            "featurestore_df_ingestion.py",
            "--input-dir",
            str(tmp_path),
            "--output-dir",
            str(tmp_path),
            "--feature-group-name",
            "nope",
        ),
        "'nope'",
        "--role-arn",
        "--offline-store-s3-uri",
    )


def test_fetch_names_a_missing_feature_group(aws, tmp_path):
    failed_with(
        run("fetch_data.py", "--feature-group-name", "no-such-group", "--output-dir", str(tmp_path)),
        "'no-such-group'",
        "does not exist",
    )
    assert list(tmp_path.iterdir()) == []


EVALUATION = {
    "regression_metrics": {
        name: {"value": value, "standard_deviation": 0.1}
        for name, value in (("mse", 4.5), ("rmse", 2.12), ("mae", 1.5), ("r2", 0.55))
    }
}


def register(evaluation_dir: Path, output_dir: Path, *extra: str) -> subprocess.CompletedProcess:
    return run(
        "register_model.py",
        "--model-package-group-name",
        "abalone-models",
        "--model-data-url",
        f"s3://{BUCKET}/model/model.tar.gz",
        "--evaluation-s3-uri",
        f"s3://{BUCKET}/evaluation/evaluation.json",
        "--evaluation-dir",
        str(evaluation_dir),
        "--output-dir",
        str(output_dir),
        *extra,
    )


def test_register_names_a_missing_model_artifact_and_a_missing_report(aws, tmp_path):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    failed_with(register(tmp_path, tmp_path), f"s3://{BUCKET}/model/model.tar.gz", "does not exist")
    s3.put_object(Bucket=BUCKET, Key="model/model.tar.gz", Body=b"model")
    failed_with(register(tmp_path, tmp_path), f"s3://{BUCKET}/evaluation/evaluation.json", "does not exist")
    s3.put_object(Bucket=BUCKET, Key="evaluation/evaluation.json", Body=b'{"mse": 1}')
    failed_with(register(tmp_path, tmp_path), "evaluation/evaluation.json", "regression_metrics")
    assert aws.client("sagemaker").list_model_package_groups()["ModelPackageGroupSummaryList"] == []


def test_register_reads_the_report_from_s3_when_the_directory_lacks_it(aws, tmp_path):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="model/model.tar.gz", Body=b"model")
    s3.put_object(Bucket=BUCKET, Key="evaluation/evaluation.json", Body=json.dumps(EVALUATION).encode())
    result = register(tmp_path / "empty", tmp_path / "out", "--approval-status", "Approved", "--region", "eu-west-1")
    assert result.returncode == 0, result.stderr
    registration = json.loads((tmp_path / "out" / "registration.json").read_text())
    assert registration["metrics"] == {"mse": 4.5, "rmse": 2.12, "mae": 1.5, "r2": 0.55}
    assert registration["approval_status"] == "Approved" and registration["version"] == 1
    package = aws.client("sagemaker", region_name="eu-west-1").describe_model_package(
        ModelPackageName=registration["model_package_arn"]
    )
    assert package["InferenceSpecification"]["Containers"][0]["Image"] == (
        "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.9-0-cpu-py3"
    )
    assert "rmse 2.120" in package["ModelPackageDescription"]
    assert package["CustomerMetadataProperties"] == {"mse": "4.5", "rmse": "2.12", "mae": "1.5", "r2": "0.55"}


# -- end to end: ingest -> fetch -> train -> register -------------------------------------------


def predict_with(model_file: Path, rows_csv: Path) -> list[float]:
    """Load model.joblib and predict, in the interpreter (scikit-learn version) that trained it."""
    code = (
        "import json, sys, joblib, pandas as pd; model = joblib.load(sys.argv[1]); "
        "print(json.dumps(model.predict(pd.read_csv(sys.argv[2])).tolist()))"
    )
    result = subprocess.run(
        [PYTHON, "-c", code, str(model_file), str(rows_csv)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_ingest_fetch_train_register_end_to_end(aws, server, tmp_path):
    s3, sagemaker = aws.client("s3"), aws.client("sagemaker")
    s3.create_bucket(Bucket=BUCKET)
    source = pd.read_csv(ABALONE).head(300)
    result = ingest(abalone_slice(tmp_path / "input", 300), tmp_path / "ingest")
    assert result.returncode == 0, result.stderr
    local_aws.flush(server.port)  # buffered records reach the offline store now (on AWS: minutes)

    result = run(
        "fetch_data.py",
        "--feature-group-name",
        "abalone-fg",
        "--expected-rows",
        "300",
        "--timeout-seconds",
        "20",
        "--output-dir",
        str(tmp_path / "fetch"),
    )
    assert result.returncode == 0, result.stderr
    features = pd.read_csv(tmp_path / "fetch" / "features.csv")
    assert len(features) == 300 and features["abalone_id"].is_unique
    assert features["abalone_id"].is_monotonic_increasing  # same records, same order: a reproducible split
    assert features["abalone_id"].iloc[[0, -1]].tolist() == ["abalone-00001", "abalone-00300"]
    assert features["rings"].tolist() == source["rings"].tolist()
    assert features["sex"].tolist() == source["sex"].tolist()
    assert {"write_time", "api_invocation_time", "is_deleted", "event_time"} <= set(features.columns)
    results = s3.list_objects_v2(Bucket=BUCKET, Prefix="athena-results/")["Contents"]
    assert any(o["Key"].endswith(".csv") for o in results)  # Athena's default output: the offline store's bucket
    # Waiting for more records than ever arrive ends in a clear timeout, not a short data set.
    failed_with(
        run(
            "fetch_data.py",
            "--feature-group-name",
            "abalone-fg",
            "--expected-rows",
            "301",
            "--timeout-seconds",
            "1",
            "--output-dir",
            str(tmp_path / "short"),
        ),
        "only 300 of the expected 301",
        "--timeout-seconds",
    )
    assert not (tmp_path / "short").exists()

    result = run(
        "train.py",
        "--feature-group-name",
        "abalone-fg",
        "--expected-rows",
        "300",
        "--fetch-timeout-seconds",
        "20",
        "--n-estimators",
        "20",
        "--model-dir",
        str(tmp_path / "model"),
        "--evaluation-dir",
        str(tmp_path / "evaluation"),
    )
    assert result.returncode == 0, result.stderr
    assert "split 300 records: 240 to train, 60 to test" in result.stdout
    assert re.search(METRIC_REGEX.format("rmse"), result.stdout) and "training job" not in result.stdout
    with tarfile.open(tmp_path / "model" / "model.tar.gz") as tar:
        assert tar.getnames() == ["model.joblib", "code/inference.py"]  # the serving code: see test_serving.py
        tar.extractall(tmp_path / "unpacked")
    source.drop(columns=["rings"]).head(20).to_csv(tmp_path / "rows.csv", index=False)
    predictions = predict_with(tmp_path / "unpacked" / "model.joblib", tmp_path / "rows.csv")
    assert len(predictions) == 20 and 1 <= min(predictions) and max(predictions) <= 29
    metrics = json.loads((tmp_path / "evaluation" / "evaluation.json").read_text())["regression_metrics"]
    assert set(metrics) == {"mse", "rmse", "mae", "r2"}
    assert all(set(m) == {"value", "standard_deviation"} and m["standard_deviation"] > 0 for m in metrics.values())
    assert abs(metrics["rmse"]["value"] ** 2 - metrics["mse"]["value"]) < 1e-9 and metrics["r2"]["value"] > 0.2
    split = pd.read_csv(tmp_path / "evaluation" / "predictions.csv")
    assert list(split.columns) == ["y_true", "y_pred"] and len(split) == 60
    importance = json.loads((tmp_path / "evaluation" / "feature_importance.json").read_text())
    assert set(importance) == {
        "sex_F",
        "sex_I",
        "sex_M",
        "length",
        "diameter",
        "height",
        "whole_weight",
        "shucked_weight",
        "viscera_weight",
        "shell_weight",
    }
    assert abs(sum(importance.values()) - 1) < 1e-6
    assert list(importance.values()) == sorted(importance.values(), reverse=True)
    failed_with(
        run(
            "train.py",
            "--feature-group-name",
            "abalone-fg",
            "--target",
            "age",
            "--model-dir",
            str(tmp_path / "model2"),
            "--evaluation-dir",
            str(tmp_path / "evaluation2"),
        ),
        "--target 'age'",
        "rings",
    )

    s3.upload_file(str(tmp_path / "model" / "model.tar.gz"), BUCKET, "model/model.tar.gz")
    s3.upload_file(str(tmp_path / "evaluation" / "evaluation.json"), BUCKET, "evaluation/evaluation.json")
    for version in (1, 2):
        result = register(tmp_path / "evaluation", tmp_path / f"register{version}")
        assert result.returncode == 0, result.stderr
        arn = f"arn:aws:sagemaker:us-east-1:123456789012:model-package/abalone-models/{version}"
        assert arn in result.stdout.splitlines()
        registration = json.loads((tmp_path / f"register{version}" / "registration.json").read_text())
        assert registration == {
            "model_package_arn": arn,
            "version": version,
            "approval_status": "PendingManualApproval",
            "metrics": {name: m["value"] for name, m in metrics.items()},
        }
    package = sagemaker.describe_model_package(ModelPackageName=arn)
    assert package["ModelMetrics"]["ModelQuality"]["Statistics"] == {
        "ContentType": "application/json",
        "S3Uri": f"s3://{BUCKET}/evaluation/evaluation.json",
    }
    container = package["InferenceSpecification"]["Containers"][0]
    assert container["ModelDataUrl"] == f"s3://{BUCKET}/model/model.tar.gz"
    assert container["Image"] == "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.9-0-cpu-py3"
    assert package["InferenceSpecification"]["SupportedContentTypes"] == ["text/csv"]
    listed = sagemaker.list_model_packages(ModelPackageGroupName="abalone-models")["ModelPackageSummaryList"]
    assert sorted(p["ModelPackageVersion"] for p in listed) == [1, 2]


# What a training job's MetricDefinitions match in its log (notebook 03 defines them so).
METRIC_REGEX = r"metric {}=([-+0-9.eE]+)"


def test_train_as_a_training_job_writes_the_model_unpacked_and_logs_each_metric(aws, server, tmp_path):
    """In a training job SageMaker sets SM_MODEL_DIR and SM_OUTPUT_DATA_DIR and passes the hyperparameters as
    `--name value`, with the names as given (snake_case). The model goes unpacked into the model directory,
    which SageMaker packs into model.tar.gz; every metric is logged on a line a metric definition matches."""
    aws.client("s3").create_bucket(Bucket=BUCKET)
    assert ingest(abalone_slice(tmp_path / "input", 100), tmp_path / "ingest").returncode == 0
    local_aws.flush(server.port)
    model_dir, output_dir = tmp_path / "opt_ml" / "model", tmp_path / "opt_ml" / "output" / "data"
    result = run(
        "train.py",
        "--feature_group_name",
        "abalone-fg",
        "--expected_rows",
        "100",
        "--fetch_timeout_seconds",
        "20",
        "--n_estimators",
        "10",
        "--max_depth",
        "4",
        SM_MODEL_DIR=str(model_dir),
        SM_OUTPUT_DATA_DIR=str(output_dir),
    )
    assert result.returncode == 0, result.stderr
    assert "in a SageMaker training job" in result.stdout and "a random forest of 10 trees" in result.stdout
    written = sorted(path.relative_to(model_dir).as_posix() for path in model_dir.rglob("*") if path.is_file())
    assert written == ["code/inference.py", "model.joblib"]  # no model.tar.gz: SageMaker packs the directory
    assert (model_dir / "code" / "inference.py").read_bytes() == (SCRIPTS / "inference.py").read_bytes()
    pd.read_csv(ABALONE).drop(columns=["rings"]).head(5).to_csv(tmp_path / "rows.csv", index=False)
    assert len(predict_with(model_dir / "model.joblib", tmp_path / "rows.csv")) == 5
    assert {path.name for path in output_dir.iterdir()} == {
        "evaluation.json",
        "predictions.csv",
        "feature_importance.json",
    }
    metrics = json.loads((output_dir / "evaluation.json").read_text())["regression_metrics"]
    logged = {
        name: [float(value) for value in re.findall(METRIC_REGEX.format(name), result.stdout)] for name in metrics
    }
    assert logged == {name: [pytest.approx(m["value"], abs=1e-6)] for name, m in metrics.items()}
    # Flags given explicitly still win over the environment's directories.
    result = run(
        "train.py",
        "--feature-group-name",
        "abalone-fg",
        "--n-estimators",
        "5",
        "--model-dir",
        str(tmp_path / "model"),
        "--evaluation-dir",
        str(tmp_path / "evaluation"),
        SM_MODEL_DIR=str(model_dir),
        SM_OUTPUT_DATA_DIR=str(output_dir),
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "model" / "model.joblib").is_file() and (tmp_path / "evaluation" / "evaluation.json").is_file()


def test_fetch_with_a_min_event_time_waits_for_records_that_recent(aws, server, tmp_path):
    """Older versions of the records do not count, so a pipeline's Train waits for its own Ingest's records."""
    aws.client("s3").create_bucket(Bucket=BUCKET)
    abalone_slice(tmp_path / "input", 20)
    assert ingest(tmp_path / "input", tmp_path / "old", "--event-time", "2024-05-01T12:00:00Z").returncode == 0
    local_aws.flush(server.port)
    fetch = [
        "--feature-group-name",
        "abalone-fg",
        "--expected-rows",
        "20",
        "--min-event-time",
        "2024-05-02T00:00:00.000Z",
        "--poll-seconds",
        "1",
        "--output-dir",
        str(tmp_path / "fetch"),
    ]
    failed_with(
        run("fetch_data.py", *fetch, "--timeout-seconds", "1"),
        "only 0 of the expected 20 records with an event time at or after 2024-05-02T00:00:00.000Z",
        "'abalone-fg'",
        "--timeout-seconds",
    )
    assert not (tmp_path / "fetch").exists()

    log = tmp_path / "fetch.log"
    with open(log, "w") as out:
        waiting = subprocess.Popen(
            [PYTHON, str(SCRIPTS / "fetch_data.py"), *fetch, "--timeout-seconds", "60"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=child_env(),
            cwd=REPO,
        )
    try:
        wait_until(log.read_text, lambda text: "waiting" in text, timeout=60, what="the fetch waiting for records")
        assert ingest(tmp_path / "input", tmp_path / "new", "--event-time", "2024-05-02T00:00:00Z").returncode == 0
        local_aws.flush(server.port)
        assert waiting.wait(timeout=60) == 0, log.read_text()
    finally:
        waiting.kill()
    assert "(0 of 20 records with an event time at or after 2024-05-02T00:00:00.000Z)" in log.read_text()
    fetched = pd.read_csv(tmp_path / "fetch" / "features.csv")
    assert len(fetched) == 20 and set(fetched["event_time"]) == {"2024-05-02T00:00:00Z"}


def test_fetch_keeps_the_latest_live_version_of_each_record(aws, server, tmp_path):
    """The offline store keeps every version; the query keeps each record's newest, minus deleted ones."""
    aws.client("s3").create_bucket(Bucket=BUCKET)
    assert (
        ingest(
            abalone_slice(tmp_path / "input", 14), tmp_path / "out", "--event-time", "2024-05-01T12:00:00Z"
        ).returncode
        == 0
    )
    runtime = aws.client("sagemaker-featurestore-runtime")

    def put(identifier: str, event_time: str, rings: int) -> None:
        runtime.put_record(
            FeatureGroupName="abalone-fg",
            Record=[
                {"FeatureName": "abalone_id", "ValueAsString": identifier},
                {"FeatureName": "event_time", "ValueAsString": event_time},
                {"FeatureName": "rings", "ValueAsString": str(rings)},
            ],
        )

    put("abalone-00001", "2024-05-02T12:00:00Z", 101)  # newer: an update
    put("abalone-00002", "2024-04-01T12:00:00Z", 102)  # older: history, not an update
    put("abalone-00004", "2024-05-02T12:00:00Z", 104)
    put("abalone-00004", "2024-05-02T12:00:00Z", 204)  # same event time: the later write wins
    runtime.delete_record(
        FeatureGroupName="abalone-fg", RecordIdentifierValueAsString="abalone-00003", EventTime="2024-05-03T00:00:00Z"
    )
    local_aws.flush(server.port)  # buffered records reach the offline store now (on AWS: minutes)
    result = run(
        "fetch_data.py",
        "--feature-group-name",
        "abalone-fg",
        "--expected-rows",
        "13",
        "--timeout-seconds",
        "20",
        "--output-dir",
        str(tmp_path / "fetch"),
    )
    assert result.returncode == 0, result.stderr
    fetched = pd.read_csv(tmp_path / "fetch" / "features.csv").set_index("abalone_id")
    assert sorted(fetched.index) == [f"abalone-{i:05d}" for i in range(1, 15) if i != 3]
    rings = pd.read_csv(ABALONE)["rings"].head(14).tolist()
    assert fetched.loc["abalone-00001", "rings"] == 101 and pd.isna(fetched.loc["abalone-00001", "sex"])
    assert fetched.loc["abalone-00002", "rings"] == rings[1] and fetched.loc["abalone-00002", "sex"] == "M"
    assert fetched.loc["abalone-00004", "rings"] == 204
    assert fetched.loc["abalone-00012", "rings"] == rings[11]
    # Training skips the two records that lack features (rings alone) and trains on the other eleven.
    result = run(
        "train.py",
        "--feature-group-name",
        "abalone-fg",
        "--n-estimators",
        "5",
        "--max-depth",
        "0",
        "--model-dir",
        str(tmp_path / "model"),
        "--evaluation-dir",
        str(tmp_path / "evaluation"),
    )
    assert result.returncode == 0, result.stderr
    assert "dropped 2 records with missing values" in result.stdout
    assert "split 11 records: 8 to train, 3 to test" in result.stdout
