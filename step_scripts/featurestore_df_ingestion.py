"""Ingest a CSV of abalone measurements into a SageMaker Feature Store feature group.

A feature group is a table of features keyed by a record identifier, with an event time per
record. Each PutRecord call writes one record to the online store (the latest value per
identifier) and, a few minutes later on AWS, to the offline store (Parquet files in S3 with a Glue
table, which Athena queries for training).

The script:
1. reads <input-dir>/abalone.csv and prepares it: snake_case feature names, a string record
   identifier per row ("abalone-00001" for the first row, so re-ingesting a file updates the same
   records), and the event time as an ISO-8601 string feature;
2. creates the feature group if it is missing (online and offline store) and waits until Created;
3. ingests the rows with PutRecord calls from a few threads; botocore's standard retry mode
   retries throttled calls and server errors with exponential backoff and jitter;
4. writes <output-dir>/ingest_report.json and exits non-zero if any row failed.

    python featurestore_df_ingestion.py --feature-group-name abalone-features \\
        --role-arn arn:aws:iam::111122223333:role/SageMakerRole --offline-store-s3-uri s3://my-bucket/feature-store

The default directories are those of a SageMaker Processing job. Only the standard library,
boto3 and pandas: it runs in the SageMaker scikit-learn container.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import re
import sys
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from functools import partial

import boto3
import pandas as pd
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from pandas.api.types import is_float_dtype, is_integer_dtype

log = logging.getLogger("featurestore_df_ingestion")

ABALONE_COLUMNS = [
    "sex",
    "length",
    "diameter",
    "height",
    "whole_weight",
    "shucked_weight",
    "viscera_weight",
    "shell_weight",
    "rings",
]
# Feature Store adds these to every offline-store row; a feature may not use their names.
RESERVED_NAMES = {"write_time", "api_invocation_time", "is_deleted"}
FEATURE_NAME = re.compile(r"^[a-zA-Z0-9]([-_]*[a-zA-Z0-9]){0,63}$")
S3_URI = re.compile(r"^s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9](/.*)?$")
ROLE_ARN = re.compile(r"^arn:aws[a-z\-]*:iam::\d{12}:role/.+$")
CREATE_TIMEOUT_SECONDS = 600
# pandas before 3.1 parses some decimals one bit off ("0.101" as 0.10099999999999999) unless asked for
# round-trip parsing; 3.1 parses every one exactly and deprecates the option.
EXACT_FLOATS = {"float_precision": "round_trip"} if tuple(map(int, pd.__version__.split(".")[:2])) < (3, 1) else {}


class StepError(Exception):
    """Bad input or a state the script cannot continue from; main() prints it as one line."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--input-dir",
        default="/opt/ml/processing/input",
        help="directory holding the CSV (a SageMaker Processing input; default: %(default)s)",
    )
    parser.add_argument(
        "--input-file", default="abalone.csv", help="CSV file name inside --input-dir (default: %(default)s)"
    )
    parser.add_argument("--feature-group-name", required=True, help="feature group to ingest into")
    parser.add_argument(
        "--record-identifier-name",
        default="abalone_id",
        help="feature that identifies a record, generated as abalone-00001... if not in the CSV (default: %(default)s)",
    )
    parser.add_argument(
        "--event-time-name",
        default="event_time",
        help="feature holding each record's event time (default: %(default)s)",
    )
    parser.add_argument(
        "--event-time", help="event time of every record, ISO-8601 UTC such as 2024-05-01T12:00:00Z (default: now)"
    )
    parser.add_argument(
        "--role-arn",
        help="IAM role Feature Store uses to write the offline store (needed only to create the feature group)",
    )
    parser.add_argument(
        "--offline-store-s3-uri", help="S3 location of the offline store (needed only to create the feature group)"
    )
    parser.add_argument(
        "--no-create", action="store_true", help="fail instead of creating the feature group when it is missing"
    )
    parser.add_argument(
        "--max-workers", type=int, default=4, help="PutRecord calls in flight at once (default: %(default)s)"
    )
    parser.add_argument(
        "--max-processes",
        type=int,
        default=1,
        help="processes putting records, each with --max-workers calls in flight: a PutRecord costs "
        "the client about a millisecond of CPU, so one process per vCPU ingests faster "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--max-retries", type=int, default=3, help="retries of a throttled or failed PutRecord (default: %(default)s)"
    )
    parser.add_argument("--region", help="AWS region (default: AWS_REGION / AWS_DEFAULT_REGION)")
    parser.add_argument(
        "--output-dir",
        default="/opt/ml/processing/output",
        help="directory for ingest_report.json (a SageMaker Processing output; default: %(default)s)",
    )
    return parser.parse_args(argv)


def resolve_region(region: str | None) -> str:
    """--region, else AWS_REGION / AWS_DEFAULT_REGION (set inside SageMaker jobs), else the AWS config."""
    region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    region = region or boto3.session.Session().region_name
    if not region:
        raise StepError("no AWS region: pass --region (e.g. us-east-1) or set AWS_REGION")
    return region


def check_args(args: argparse.Namespace) -> str:
    """Validate the flags before any AWS call; returns the event time as Feature Store's ISO-8601 string."""
    for flag, name in (
        ("--record-identifier-name", args.record_identifier_name),
        ("--event-time-name", args.event_time_name),
    ):
        if not FEATURE_NAME.match(name) or name in RESERVED_NAMES:
            raise StepError(
                f"{flag} {name!r} is not a valid feature name: use letters, digits, - and _ "
                "(at most 64), not write_time, api_invocation_time or is_deleted"
            )
    if args.offline_store_s3_uri and not S3_URI.match(args.offline_store_s3_uri):
        raise StepError(
            f"--offline-store-s3-uri {args.offline_store_s3_uri!r} is not an S3 URI; use the form s3://bucket/prefix"
        )
    if args.role_arn and not ROLE_ARN.match(args.role_arn):
        raise StepError(
            f"--role-arn {args.role_arn!r} is not an IAM role ARN; use the form arn:aws:iam::<account>:role/<name>"
        )
    if args.max_workers < 1:
        raise StepError(f"--max-workers {args.max_workers} must be 1 or more, e.g. 4")
    if args.max_processes < 1:
        raise StepError(f"--max-processes {args.max_processes} must be 1 or more, e.g. 2 (one per vCPU)")
    if args.max_retries < 0:
        raise StepError(f"--max-retries {args.max_retries} must be 0 or more, e.g. 3")
    return event_time_string(args.event_time)


def event_time_string(value: str | None) -> str:
    """ISO-8601 in UTC with a Z, one of the String event-time formats Feature Store accepts."""
    if value is None:
        moment = dt.datetime.now(dt.UTC)
    else:
        try:  # fromisoformat learned the trailing Z only in Python 3.11; the container may be older
            moment = dt.datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value)
        except ValueError:
            raise StepError(f"--event-time {value!r} is not an ISO-8601 time; use e.g. 2024-05-01T12:00:00Z") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def snake_case(name: str) -> str:
    """'Whole weight' -> 'whole_weight': a valid feature name (letters, digits, underscores)."""
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", str(name).strip())
    return re.sub(r"[^0-9a-zA-Z]+", "_", name).strip("_").lower()


def read_csv(path: str) -> pd.DataFrame:
    if not os.path.isfile(path):
        raise StepError(f"input file {path} does not exist; pass --input-dir (and --input-file) pointing at the CSV")
    try:
        frame = pd.read_csv(path, **EXACT_FLOATS)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise StepError(f"input file {path} is not a readable CSV: {err}") from None
    frame.columns = [snake_case(c) for c in frame.columns]
    missing = [c for c in ABALONE_COLUMNS if c not in frame.columns]
    if missing:
        raise StepError(
            f"input file {path} lacks column(s) {', '.join(missing)}; an abalone CSV needs "
            f"{', '.join(ABALONE_COLUMNS)} (found: {', '.join(frame.columns) or 'none'})"
        )
    bad = [c for c in frame.columns if not FEATURE_NAME.match(c) or c in RESERVED_NAMES]
    if bad or frame.columns.duplicated().any():
        raise StepError(
            f"input file {path} has column names that are not valid (or unique) feature names: "
            f"{', '.join(bad or frame.columns[frame.columns.duplicated()])}; rename them"
        )
    if frame.empty:
        raise StepError(f"input file {path} has a header but no rows")
    return frame


def prepare(frame: pd.DataFrame, record_identifier_name: str, event_time_name: str, event_time: str) -> pd.DataFrame:
    """Add the record identifier (unless the CSV has one) and the event time, both String features."""
    frame = frame.copy()
    if record_identifier_name in frame.columns:
        frame[record_identifier_name] = frame[record_identifier_name].astype(str)
    else:
        width = max(5, len(str(len(frame))))
        frame.insert(0, record_identifier_name, [f"abalone-{i:0{width}d}" for i in range(1, len(frame) + 1)])
    if frame[record_identifier_name].duplicated().any():
        duplicate = frame.loc[frame[record_identifier_name].duplicated(), record_identifier_name].iloc[0]
        raise StepError(
            f"column {record_identifier_name!r} repeats the identifier {duplicate!r}; "
            "each row needs its own (or drop the column to have them generated)"
        )
    frame[event_time_name] = event_time
    return frame


def feature_type(series: pd.Series) -> str:
    if is_integer_dtype(series):
        return "Integral"
    if is_float_dtype(series):
        return "Fractional"
    return "String"


def feature_definitions(frame: pd.DataFrame) -> list[dict]:
    return [{"FeatureName": c, "FeatureType": feature_type(frame[c])} for c in frame.columns]


def wait_until_created(sagemaker, name: str) -> dict:
    """Poll DescribeFeatureGroup: creating the online and offline store takes seconds to a minute."""
    deadline, wait = time.monotonic() + CREATE_TIMEOUT_SECONDS, 0.5
    while True:
        group = sagemaker.describe_feature_group(FeatureGroupName=name)
        status = group["FeatureGroupStatus"]
        if status == "Created":
            return group
        if status != "Creating":
            raise StepError(f"feature group {name!r} is {status}: {group.get('FailureReason', 'no reason given')}")
        if time.monotonic() > deadline:
            raise StepError(f"feature group {name!r} still Creating after {CREATE_TIMEOUT_SECONDS} s")
        time.sleep(wait)
        wait = min(wait * 2, 10.0)


def ensure_feature_group(sagemaker, args: argparse.Namespace, frame: pd.DataFrame) -> dict:
    """Describe the group, creating it (online + offline store) when missing; returns its description."""
    name = args.feature_group_name
    try:
        group = sagemaker.describe_feature_group(FeatureGroupName=name)
    except ClientError as err:
        if err.response["Error"]["Code"] != "ResourceNotFound":
            raise
        group = None
    if group is not None:
        return group if group["FeatureGroupStatus"] == "Created" else wait_until_created(sagemaker, name)
    if args.no_create:
        raise StepError(
            f"feature group {name!r} does not exist and --no-create was given; "
            "check --feature-group-name or drop --no-create"
        )
    if not args.role_arn or not args.offline_store_s3_uri:
        raise StepError(
            f"feature group {name!r} does not exist; pass --role-arn and --offline-store-s3-uri to create it"
        )
    definitions = feature_definitions(frame)
    log.info(
        "creating feature group %s: %d features (%s), offline store under %s",
        name,
        len(definitions),
        ", ".join(f"{d['FeatureName']}:{d['FeatureType']}" for d in definitions),
        args.offline_store_s3_uri,
    )
    sagemaker.create_feature_group(
        FeatureGroupName=name,
        RecordIdentifierFeatureName=args.record_identifier_name,
        EventTimeFeatureName=args.event_time_name,
        FeatureDefinitions=definitions,
        OnlineStoreConfig={"EnableOnlineStore": True},  # latest record per id, for low-latency reads
        # The offline store: every record version as Parquet in S3, plus a Glue table for Athena.
        OfflineStoreConfig={"S3StorageConfig": {"S3Uri": args.offline_store_s3_uri}},
        RoleArn=args.role_arn,
        Description="Abalone measurements and ring counts (UCI Abalone data set)",
    )
    started = time.monotonic()
    group = wait_until_created(sagemaker, name)
    log.info("feature group %s Created in %.1f s", name, time.monotonic() - started)
    return group


def check_matches_group(group: dict, frame: pd.DataFrame, args: argparse.Namespace) -> None:
    """An existing group fixes the schema: the CSV's columns must be among its features."""
    name = group["FeatureGroupName"]
    for flag, given, actual in (
        ("--record-identifier-name", args.record_identifier_name, group["RecordIdentifierFeatureName"]),
        ("--event-time-name", args.event_time_name, group["EventTimeFeatureName"]),
    ):
        if given != actual:
            raise StepError(
                f"{flag} {given!r} does not match feature group {name!r}, which uses {actual!r}; pass {flag} {actual}"
            )
    known = {d["FeatureName"] for d in group["FeatureDefinitions"]}
    unknown = [c for c in frame.columns if c not in known]
    if unknown:
        raise StepError(
            f"column(s) {', '.join(unknown)} are not features of feature group {name!r} "
            f"(its features: {', '.join(sorted(known))}); drop them from the CSV or use a new group"
        )


def format_value(value, feature_type: str) -> str:
    """A value as PutRecord's ValueAsString: a float as its shortest round-trip form ("0.101"), which
    GetRecord and the offline store then return as written. An integer column with gaps reads as
    floats (15.0); an Integral feature needs "15"."""
    if not isinstance(value, float):  # numpy's float64 is a float too
        return str(value)
    if feature_type == "Integral" and value.is_integer():
        return str(int(value))
    return repr(float(value))


def to_record(row: dict, types: dict) -> list[dict]:
    """One PutRecord Record: every value as a string; a missing value is left out of the record."""
    return [
        {"FeatureName": name, "ValueAsString": format_value(value, types[name])}
        for name, value in row.items()
        if not pd.isna(value)
    ]


def put_record(runtime, name: str, record: list[dict]) -> str | None:
    """PutRecord (botocore retries throttling and server errors); returns the final error, or None."""
    try:
        runtime.put_record(FeatureGroupName=name, Record=record)
    except ClientError as err:
        return f"{err.response['Error']['Code']}: {err.response['Error'].get('Message')}"
    except BotoCoreError as err:  # connection reset, read timeout... after the retries
        return str(err)
    return None


def put_records(region: str, name: str, max_workers: int, max_retries: int, records: list) -> list:
    """PutRecord each record, max_workers at a time, with a client of this process; each one's error or None."""
    # Standard retry mode: throttling, 5xx and connection errors are retried max_retries times with
    # exponential backoff and jitter; a ValidationError for a malformed record fails its row at once.
    retries = {"mode": "standard", "max_attempts": max_retries}
    runtime = boto3.client(
        "sagemaker-featurestore-runtime",
        region_name=region,
        config=Config(retries=retries, max_pool_connections=max_workers),
    )
    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        return list(pool.map(lambda record: put_record(runtime, name, record), records))


def ingest(frame: pd.DataFrame, group: dict, args: argparse.Namespace, region: str) -> int:
    """PutRecord every row, --max-processes processes of --max-workers calls each; returns how many failed."""
    types = {d["FeatureName"]: d["FeatureType"] for d in group["FeatureDefinitions"]}
    records = [to_record(row, types) for row in frame.to_dict("records")]
    identifiers = frame[args.record_identifier_name].tolist()
    put = partial(put_records, region, args.feature_group_name, args.max_workers, args.max_retries)
    processes = min(args.max_processes, max(len(records), 1))
    if processes == 1:
        errors = put(records)
    else:  # contiguous slices, so the errors come back in the rows' order
        size = -(-len(records) // processes)
        with ProcessPoolExecutor(max_workers=processes) as pool:
            errors = [
                error
                for part in pool.map(put, [records[i : i + size] for i in range(0, len(records), size)])
                for error in part
            ]
    failed = [(identifier, error) for identifier, error in zip(identifiers, errors) if error]
    for identifier, error in failed[:5]:
        log.error("record %s failed: %s", identifier, error)
    if len(failed) > 5:
        log.error("... and %d more failed records", len(failed) - 5)
    return len(failed)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    event_time = check_args(args)
    region = resolve_region(args.region)
    path = os.path.join(args.input_dir, args.input_file)

    started = time.monotonic()
    frame = prepare(read_csv(path), args.record_identifier_name, args.event_time_name, event_time)
    log.info("read %d rows x %d columns from %s; event time %s", len(frame), frame.shape[1], path, event_time)

    sagemaker = boto3.client("sagemaker", region_name=region)
    group = ensure_feature_group(sagemaker, args, frame)
    check_matches_group(group, frame, args)

    ingest_started = time.monotonic()
    failed = ingest(frame, group, args, region)
    seconds = time.monotonic() - ingest_started
    log.info(
        "ingested %d of %d rows into %s in %.1f s (%.0f rows/s, %d process(es) of %d workers)",
        len(frame) - failed,
        len(frame),
        args.feature_group_name,
        seconds,
        len(frame) / max(seconds, 1e-9),
        args.max_processes,
        args.max_workers,
    )

    report = {
        "feature_group_name": args.feature_group_name,
        "rows_read": len(frame),
        "rows_ingested": len(frame) - failed,
        "rows_failed": failed,
        "seconds": round(time.monotonic() - started, 3),
        "event_time": event_time,
    }
    os.makedirs(args.output_dir, exist_ok=True)
    report_path = os.path.join(args.output_dir, "ingest_report.json")
    with open(report_path, "w") as fh:
        json.dump(report, fh, indent=2)
    log.info("wrote %s", report_path)
    if failed:
        raise StepError(
            f"{failed} of {len(frame)} rows failed to ingest into {args.feature_group_name!r} "
            f"(see the log above); re-run to retry them (records are keyed by "
            f"{args.record_identifier_name}, so rows that landed are just overwritten)"
        )


def run_main(argv: list[str] | None = None) -> int:
    """Bad input and failed AWS calls end as one clear line on stderr and exit code 1."""
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("botocore").setLevel(logging.WARNING)  # not its INFO lines on credentials and endpoints
    prog = os.path.basename(sys.argv[0]) or "featurestore_df_ingestion.py"
    try:
        main(argv)
    except StepError as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        return 1
    except ClientError as err:
        error = err.response.get("Error", {})
        print(
            f"{prog}: error: AWS call {err.operation_name} failed with {error.get('Code')}: {error.get('Message')}",
            file=sys.stderr,
        )
        return 1
    except BotoCoreError as err:
        print(f"{prog}: error: cannot reach AWS: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(run_main())
