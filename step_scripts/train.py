"""Train a random forest that predicts an abalone's rings (its age) from the feature store's data.

Reads the latest record of every abalone from the feature group's offline store (fetch_data.py),
holds out a test split, fits a scikit-learn Pipeline (one-hot encoding of `sex`, then a
RandomForestRegressor), prints each test metric as a line `metric <name>=<value>` (e.g.
`metric rmse=2.226373`, for a training job's metric definitions: regex `metric rmse=([-+0-9.eE]+)`)
and writes:

- the model: model.joblib and code/inference.py, SageMaker's model artifact format; the SageMaker
  scikit-learn container serves it with the handlers of inference.py (copied from this file's
  directory);
- <evaluation-dir>/evaluation.json: test-split metrics in the Model Registry's format
  (register_model.py attaches it to the model version as ModelMetrics), plus predictions.csv and
  feature_importance.json for the notebooks' plots.

    python train.py --feature-group-name abalone-features --expected-rows 4177

It runs as a SageMaker Processing job or as a SageMaker training job, and the environment tells which:

- Processing job (the default): the directories default to /opt/ml/processing/model and
  /opt/ml/processing/evaluation, and the model is packed into <model-dir>/model.tar.gz, the file the
  Model Registry points at.
- Training job: SageMaker sets SM_MODEL_DIR (/opt/ml/model) and SM_OUTPUT_DATA_DIR
  (/opt/ml/output/data). The directories default to those, and the model is written unpacked into
  the model directory: SageMaker packs it into <output path>/<job>/output/model.tar.gz itself (and
  the evaluation directory into output.tar.gz). Hyperparameters arrive as `--name value` arguments
  with the names as given (`--n_estimators 100`), so every flag also takes underscores.

Either way SageMaker uploads the outputs to S3 when the script ends. Only the standard library,
boto3, pandas, numpy and scikit-learn (joblib comes with it): it runs in the SageMaker scikit-learn
container.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
import tarfile
import tempfile
import time

import joblib
import numpy as np
import pandas as pd
from pandas.api.types import is_numeric_dtype
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestRegressor
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)  # fetch_data.py and inference.py sit next to this file
from fetch_data import (  # noqa: E402
    DEFAULT_POLL_SECONDS,
    DEFAULT_TIMEOUT_SECONDS,
    OFFLINE_STORE_COLUMNS,
    StepError,
    check_s3_uri,
    check_wait_flags,
    fetch_latest_records,
    resolve_region,
    run_main,
)

log = logging.getLogger("train")

MIN_ROWS = 10  # fewer cannot be split into a training set and a test set worth scoring
BOOTSTRAP_ROUNDS = 200  # resamples of the test split behind each metric's standard deviation
# The serving code packed with the model: the container runs /opt/ml/model/code/inference.py.
INFERENCE_SCRIPT = os.path.join(HERE, "inference.py")
INFERENCE_ARCNAME = "code/inference.py"
# A SageMaker training job sets these (a processing job does not): the directory SageMaker packs into
# model.tar.gz, and the one it uploads as output.tar.gz.
TRAINING_JOB_MODEL_DIR = "SM_MODEL_DIR"
TRAINING_JOB_OUTPUT_DATA_DIR = "SM_OUTPUT_DATA_DIR"
# One line per test metric, for a training job's metric definitions (SageMaker matches them in the log).
METRIC_LINE = "metric %s=%.6f"


def in_training_job() -> bool:
    """Whether this runs as a SageMaker training job: SageMaker sets SM_MODEL_DIR there, and only there."""
    return TRAINING_JOB_MODEL_DIR in os.environ


def flag(name: str) -> tuple[str, str]:
    """A flag and its underscore spelling (--n-estimators, --n_estimators): a training job passes its
    hyperparameters as `--<name> <value>` with the names as given, and they are usually snake_case."""
    return name, "--" + name[2:].replace("-", "_")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="Every flag may also be spelled with underscores (--n_estimators 100), as SageMaker passes a "
        "training job's hyperparameters. In a training job (SM_MODEL_DIR set) the model is written "
        "unpacked and SageMaker packs it into model.tar.gz.",
    )
    data = parser.add_argument_group("data (read from the feature group's offline store)")
    data.add_argument(*flag("--feature-group-name"), required=True, metavar="NAME", help="feature group to train on")
    data.add_argument("--region", help="AWS region (default: AWS_REGION / AWS_DEFAULT_REGION)")
    data.add_argument(
        *flag("--athena-output-s3-uri"),
        metavar="URI",
        help="where Athena writes query results (default: s3://<offline store bucket>/athena-results/)",
    )
    data.add_argument(
        *flag("--expected-rows"),
        type=int,
        metavar="N",
        help="wait until at least this many records are in the offline store",
    )
    data.add_argument(
        *flag("--min-event-time"),
        metavar="TIME",
        help="count only records whose event time is at or after this ISO-8601 time, such as "
        "the --event-time of an ingestion (default: every record)",
    )
    data.add_argument(
        *flag("--fetch-timeout-seconds"),
        type=float,
        default=DEFAULT_TIMEOUT_SECONDS,
        metavar="S",
        help="give up waiting for --expected-rows after this long (default: %(default)s)",
    )
    data.add_argument(
        *flag("--fetch-poll-seconds"),
        type=float,
        default=DEFAULT_POLL_SECONDS,
        metavar="S",
        help="longest wait between two offline-store queries (default: %(default)s)",
    )
    data.add_argument("--target", default="rings", help="column to predict (default: %(default)s)")
    model = parser.add_argument_group("model (the hyperparameters)")
    model.add_argument(
        *flag("--n-estimators"), type=int, default=100, metavar="N", help="trees in the forest (default: %(default)s)"
    )
    model.add_argument(
        *flag("--max-depth"),
        type=int,
        default=None,
        metavar="N",
        help="deepest a tree may grow; 0 for no limit, e.g. from a pipeline parameter (default: no limit)",
    )
    model.add_argument(
        *flag("--test-size"),
        type=float,
        default=0.2,
        metavar="F",
        help="fraction of rows held out for evaluation (default: %(default)s)",
    )
    model.add_argument(
        *flag("--random-state"),
        type=int,
        default=42,
        metavar="N",
        help="seed of the split, the forest and the bootstrap (default: %(default)s)",
    )
    out = parser.add_argument_group("outputs (the SageMaker job's own directories by default)")
    out.add_argument(
        *flag("--model-dir"),
        metavar="DIR",
        default=os.environ.get(TRAINING_JOB_MODEL_DIR, "/opt/ml/processing/model"),
        help="directory for the model: model.tar.gz, or in a training job model.joblib and "
        "code/inference.py (default: $SM_MODEL_DIR in a training job, else /opt/ml/processing/model)",
    )
    out.add_argument(
        *flag("--evaluation-dir"),
        metavar="DIR",
        default=os.environ.get(TRAINING_JOB_OUTPUT_DATA_DIR, "/opt/ml/processing/evaluation"),
        help="directory for evaluation.json, predictions.csv and feature_importance.json "
        "(default: $SM_OUTPUT_DATA_DIR in a training job, else /opt/ml/processing/evaluation)",
    )
    return parser.parse_args(argv)


def check_args(args: argparse.Namespace) -> None:
    check_wait_flags(args.expected_rows, args.fetch_timeout_seconds, args.fetch_poll_seconds, prefix="fetch-")
    if args.athena_output_s3_uri:
        check_s3_uri("--athena-output-s3-uri", args.athena_output_s3_uri)
    if not 0 < args.test_size < 1:
        raise StepError(f"--test-size {args.test_size:g} must be a fraction between 0 and 1, e.g. 0.2")
    if args.n_estimators < 1:
        raise StepError(f"--n-estimators {args.n_estimators} must be 1 or more, e.g. 100")
    if args.max_depth is not None and args.max_depth < 0:
        raise StepError(f"--max-depth {args.max_depth} must be 1 or more, or 0 (or left out) for no limit")
    if not os.path.isfile(INFERENCE_SCRIPT):
        raise StepError(
            f"{INFERENCE_SCRIPT} is missing: stage inference.py with train.py (the job's "
            "source_dir), it goes into model.tar.gz to serve the model"
        )


def features_and_target(frame: pd.DataFrame, target: str, feature_group_name: str) -> tuple[pd.DataFrame, pd.Series]:
    """Split the offline store's rows into model inputs and the target.

    Dropped: the record identifier and event time (bookkeeping, not properties of an abalone) and
    the columns Feature Store adds to the offline store (write_time, api_invocation_time, is_deleted).
    """
    if target not in frame.columns:
        raise StepError(
            f"--target {target!r} is not a column of feature group {feature_group_name!r}; "
            f"its columns are {', '.join(map(str, frame.columns))}"
        )
    bookkeeping = [
        frame.attrs.get("record_identifier_name"),
        frame.attrs.get("event_time_name"),
        *OFFLINE_STORE_COLUMNS,
    ]
    features = frame.drop(columns=[target, *[c for c in bookkeeping if c in frame.columns]])
    if features.shape[1] == 0:
        raise StepError(f"feature group {feature_group_name!r} has no feature columns besides {target!r}")
    # A record written without some features has gaps there; older scikit-learn forests refuse them.
    complete = features.notna().all(axis=1) & frame[target].notna()
    if not complete.all():
        log.info("dropped %d records with missing values", (~complete).sum())
    if complete.sum() < MIN_ROWS:
        raise StepError(
            f"only {complete.sum()} complete records in {feature_group_name!r}; training needs at "
            f"least {MIN_ROWS}: ingest the data first, or pass --expected-rows to wait for it"
        )
    return features[complete], frame.loc[complete, target]


def build_pipeline(features: pd.DataFrame, args: argparse.Namespace) -> Pipeline:
    """One-hot encode the text columns (for abalone: sex M/F/I), pass numbers through, then a forest."""
    categorical = [c for c in features.columns if not is_numeric_dtype(features[c])]
    numeric = [c for c in features.columns if c not in categorical]
    preprocess = ColumnTransformer(
        [("categorical", OneHotEncoder(handle_unknown="ignore"), categorical), ("numeric", "passthrough", numeric)],
        verbose_feature_names_out=False,  # feature names like sex_F, length
    )
    forest = RandomForestRegressor(
        n_estimators=args.n_estimators, max_depth=args.max_depth or None, random_state=args.random_state, n_jobs=-1
    )
    return Pipeline([("preprocess", preprocess), ("forest", forest)])


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray, random_state: int) -> dict:
    """MSE, RMSE, MAE and R², each with a bootstrap standard deviation over resampled test rows.

    The shape is the Model Registry's regression-metrics report:
    {"regression_metrics": {"mse": {"value": .., "standard_deviation": ..}, ...}}.
    """

    def scores(t: np.ndarray, p: np.ndarray) -> dict:
        mse = mean_squared_error(t, p)
        return {"mse": mse, "rmse": float(np.sqrt(mse)), "mae": mean_absolute_error(t, p), "r2": r2_score(t, p)}

    rng = np.random.default_rng(random_state)
    samples = []
    for _ in range(BOOTSTRAP_ROUNDS):
        rows = rng.integers(0, len(y_true), len(y_true))
        if np.ptp(y_true[rows]) > 0:  # R² is undefined when every sampled target is equal
            samples.append(scores(y_true[rows], y_pred[rows]))
    return {
        "regression_metrics": {
            name: {
                "value": float(value),
                "standard_deviation": float(np.std([s[name] for s in samples])) if samples else 0.0,
            }
            for name, value in scores(y_true, y_pred).items()
        }
    }


def write_model(model: Pipeline, model_dir: str, packed: bool = True) -> str:
    """model.joblib and code/inference.py: what SageMaker's scikit-learn container serves.

    The container unpacks model.tar.gz into /opt/ml/model and imports code/inference.py for its
    handlers (register_model.py sets SAGEMAKER_PROGRAM and SAGEMAKER_SUBMIT_DIRECTORY to point there).
    packed: write <model_dir>/model.tar.gz holding both (a processing job uploads it as it is); else
    write both into model_dir itself (a training job's /opt/ml/model, which SageMaker packs).
    """
    os.makedirs(model_dir, exist_ok=True)
    if not packed:
        joblib.dump(model, os.path.join(model_dir, "model.joblib"))
        os.makedirs(os.path.join(model_dir, os.path.dirname(INFERENCE_ARCNAME)), exist_ok=True)
        shutil.copyfile(INFERENCE_SCRIPT, os.path.join(model_dir, INFERENCE_ARCNAME))
        return os.path.join(model_dir, "model.joblib") + " and " + os.path.join(model_dir, INFERENCE_ARCNAME)
    path = os.path.join(model_dir, "model.tar.gz")
    with tempfile.TemporaryDirectory() as tmp:
        joblib_path = os.path.join(tmp, "model.joblib")
        joblib.dump(model, joblib_path)
        # gzip's usual level 6: a tenth of tarfile's default level 9 time, for a 4% larger file.
        with tarfile.open(path, "w:gz", compresslevel=6) as tar:
            tar.add(joblib_path, arcname="model.joblib")
            tar.add(INFERENCE_SCRIPT, arcname=INFERENCE_ARCNAME)
    return path


def write_evaluation(
    evaluation_dir: str, metrics: dict, y_true: np.ndarray, y_pred: np.ndarray, model: Pipeline
) -> None:
    os.makedirs(evaluation_dir, exist_ok=True)
    with open(os.path.join(evaluation_dir, "evaluation.json"), "w") as fh:
        json.dump(metrics, fh, indent=2)
    pd.DataFrame({"y_true": y_true, "y_pred": y_pred}).to_csv(
        os.path.join(evaluation_dir, "predictions.csv"), index=False
    )
    names = model.named_steps["preprocess"].get_feature_names_out()
    importance = sorted(zip(names, model.named_steps["forest"].feature_importances_), key=lambda p: -p[1])
    with open(os.path.join(evaluation_dir, "feature_importance.json"), "w") as fh:
        json.dump({str(name): float(value) for name, value in importance}, fh, indent=2)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    check_args(args)
    training_job = in_training_job()
    if training_job:
        log.info(
            "in a SageMaker training job (SM_MODEL_DIR is set): the model goes unpacked to %s, SageMaker "
            "packs it into model.tar.gz",
            args.model_dir,
        )
    region = resolve_region(args.region)
    frame = fetch_latest_records(
        args.feature_group_name,
        region,
        athena_output_s3_uri=args.athena_output_s3_uri,
        expected_rows=args.expected_rows,
        timeout_seconds=args.fetch_timeout_seconds,
        poll_seconds=args.fetch_poll_seconds,
        min_event_time=args.min_event_time,
    )
    features, target = features_and_target(frame, args.target, args.feature_group_name)
    x_train, x_test, y_train, y_test = train_test_split(
        features, target, test_size=args.test_size, random_state=args.random_state
    )
    if len(x_test) < 2:
        raise StepError(
            f"--test-size {args.test_size:g} leaves {len(x_test)} test row(s) of {len(features)}; "
            "raise it so at least 2 rows are held out"
        )
    log.info(
        "split %d records: %d to train, %d to test; features: %s",
        len(features),
        len(x_train),
        len(x_test),
        ", ".join(map(str, features.columns)),
    )

    started = time.monotonic()
    model = build_pipeline(features, args).fit(x_train, y_train)
    log.info("trained a random forest of %d trees in %.1f s", args.n_estimators, time.monotonic() - started)

    y_true, y_pred = y_test.to_numpy(dtype=float), model.predict(x_test)
    metrics = regression_metrics(y_true, y_pred, args.random_state)
    log.info(
        "test metrics: %s",
        ", ".join(
            f"{name} {m['value']:.3f} (sd {m['standard_deviation']:.3f})"
            for name, m in metrics["regression_metrics"].items()
        ),
    )
    for name, metric in metrics["regression_metrics"].items():
        log.info(METRIC_LINE, name, metric["value"])  # e.g. "metric rmse=2.226373", for metric definitions
    log.info("wrote %s", write_model(model, args.model_dir, packed=not training_job))
    write_evaluation(args.evaluation_dir, metrics, y_true, y_pred, model)
    log.info("wrote evaluation.json, predictions.csv and feature_importance.json to %s", args.evaluation_dir)


if __name__ == "__main__":
    sys.exit(run_main(main))
