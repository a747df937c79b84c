"""Fetch the latest record of every abalone from a feature group's offline store, through Athena.

SageMaker Feature Store keeps two copies of the data: the online store (latest value per record,
millisecond reads) and the offline store (every version ever written, as Parquet files in S3,
catalogued as a Glue table). Training reads the offline store with an Athena SQL query.

The offline store lags behind ingestion: on AWS a record shows up there a few minutes after
PutRecord. So this script re-runs the query until at least --expected-rows records have landed (with
--min-event-time: records at least that recent, so that older versions do not count) or
--timeout-seconds have passed. It fails at once, rather than at the timeout, if the offline store is
Blocked (Feature Store cannot write it, typically for lack of S3 permissions).

    python fetch_data.py --feature-group-name abalone-features --expected-rows 4177

Runs as a SageMaker Processing job (writes /opt/ml/processing/output/features.csv) or anywhere
with AWS credentials; `train.py` imports `fetch_latest_records` from here.
Only the standard library, boto3 and pandas: it runs in the SageMaker scikit-learn container.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import itertools
import logging
import os
import re
import sys
import time

import boto3
import pandas as pd
from botocore.exceptions import BotoCoreError, ClientError

log = logging.getLogger("fetch_data")

# Columns Feature Store adds to every offline-store row, next to the features themselves.
OFFLINE_STORE_COLUMNS = ("write_time", "api_invocation_time", "is_deleted")
S3_URI = re.compile(r"^s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9](/.*)?$")
DEFAULT_TIMEOUT_SECONDS = 900.0  # the offline store usually catches up within 15 minutes on AWS
DEFAULT_POLL_SECONDS = 30.0
MIN_QUERY_WAIT_SECONDS = 60.0  # one Athena query may always take this long, even with a short timeout


class StepError(Exception):
    """Bad input or a state the script cannot continue from; main() prints it as one line."""


def resolve_region(region: str | None) -> str:
    """--region, else AWS_REGION / AWS_DEFAULT_REGION (set inside SageMaker jobs), else the AWS config."""
    region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    region = region or boto3.session.Session().region_name
    if not region:
        raise StepError("no AWS region: pass --region (e.g. us-east-1) or set AWS_REGION")
    return region


def check_s3_uri(flag: str, uri: str) -> str:
    if not S3_URI.match(uri):
        raise StepError(f"{flag} {uri!r} is not an S3 URI; use the form s3://bucket/prefix/")
    return uri


def split_s3_uri(uri: str) -> tuple[str, str]:
    bucket, _, key = uri[len("s3://") :].partition("/")
    return bucket, key


def describe_offline_store(sagemaker, feature_group_name: str) -> dict:
    """Where the group's offline store lives: its Glue table and S3 location, and its key features."""
    try:
        group = sagemaker.describe_feature_group(FeatureGroupName=feature_group_name)
    except ClientError as err:
        if err.response["Error"]["Code"] == "ResourceNotFound":
            raise StepError(
                f"feature group {feature_group_name!r} does not exist; check --feature-group-name "
                "or ingest first with featurestore_df_ingestion.py"
            ) from None
        raise
    if group["FeatureGroupStatus"] != "Created":
        raise StepError(
            f"feature group {feature_group_name!r} is {group['FeatureGroupStatus']}, not Created; "
            "wait for it to finish creating (or recreate it if it failed)"
        )
    offline = group.get("OfflineStoreConfig")
    if not offline or "DataCatalogConfig" not in offline:
        raise StepError(
            f"feature group {feature_group_name!r} has no offline store with a Glue table; "
            "create it with an OfflineStoreConfig (Glue table creation enabled)"
        )
    check_not_blocked(group)
    return {
        "catalog": offline["DataCatalogConfig"]["Catalog"],
        "database": offline["DataCatalogConfig"]["Database"],
        "table": offline["DataCatalogConfig"]["TableName"],
        "s3_uri": offline["S3StorageConfig"]["S3Uri"],
        "record_identifier_name": group["RecordIdentifierFeatureName"],
        "event_time_name": group["EventTimeFeatureName"],
    }


def check_not_blocked(group: dict) -> None:
    """A Blocked offline store takes no more records: fail now instead of billing an instance until the timeout."""
    status = group.get("OfflineStoreStatus", {})
    if status.get("Status") == "Blocked":
        bucket, _ = split_s3_uri(group["OfflineStoreConfig"]["S3StorageConfig"]["S3Uri"])
        reason = status.get("BlockedReason", "no reason given").rstrip(". ")
        raise StepError(
            f"the offline store of feature group {group['FeatureGroupName']!r} is Blocked: {reason}. Fix: the "
            f"group's role {group.get('RoleArn')} needs s3:PutObject, s3:PutObjectAcl and s3:GetBucketAcl on the "
            f"bucket {bucket} (the AWS-managed AmazonSageMakerFeatureStoreAccess allows them only on buckets named "
            "*sagemaker*)"
        )


def parse_event_time(value: str | float) -> dt.datetime:
    """An event time as Feature Store keeps it (ISO-8601 such as 2024-05-01T12:00:00Z, or for a Fractional
    event time seconds since the epoch) as a UTC datetime; raises ValueError otherwise."""
    if isinstance(value, (int, float)):
        return dt.datetime.fromtimestamp(value, dt.UTC)
    text = str(value).strip()
    # fromisoformat learned the trailing Z only in Python 3.11; the container may be older
    moment = dt.datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def check_min_event_time(value: str | None) -> dt.datetime | None:
    """--min-event-time as a UTC datetime, checked before any AWS call."""
    if value is None:
        return None
    try:
        return parse_event_time(value)
    except ValueError:
        raise StepError(f"--min-event-time {value!r} is not an ISO-8601 time; use e.g. 2024-05-01T12:00:00Z") from None


def count_since(frame: pd.DataFrame, event_time_name: str, since: dt.datetime | None) -> int:
    """How many records have an event time at or after `since` (all of them without it)."""
    if since is None:
        return len(frame)
    return sum(parse_event_time(value) >= since for value in frame[event_time_name])


def latest_records_query(store: dict) -> str:
    """SQL keeping, per record identifier, its newest version, unless that version is a delete.

    The offline store is append-only: every PutRecord adds a row. Ties on event time are broken by
    when Feature Store wrote the row (write_time) and received the call (api_invocation_time).
    Sorted by identifier, so the same records give the same DataFrame (and the same train/test split).
    """
    identifier, event_time = store["record_identifier_name"], store["event_time_name"]
    return f"""
SELECT * FROM (
    SELECT *, row_number() OVER (
        PARTITION BY "{identifier}"
        ORDER BY "{event_time}" DESC, write_time DESC, api_invocation_time DESC
    ) AS row_num
    FROM "{store["database"]}"."{store["table"]}"
)
WHERE row_num = 1 AND NOT is_deleted
ORDER BY "{identifier}"
""".strip()


def run_athena_query(athena, s3, query: str, store: dict, output_s3_uri: str, deadline: float) -> pd.DataFrame:
    """Run one Athena query and read its CSV result from S3 (Athena writes <output>/<query id>.csv)."""
    started = athena.start_query_execution(
        QueryString=query,
        QueryExecutionContext={"Catalog": store["catalog"], "Database": store["database"]},
        ResultConfiguration={"OutputLocation": output_s3_uri},
    )
    query_id = started["QueryExecutionId"]
    wait = 0.2
    while True:
        execution = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
        state = execution["Status"]["State"]
        if state == "SUCCEEDED":
            break
        if state in ("FAILED", "CANCELLED"):
            reason = execution["Status"].get("StateChangeReason", "no reason given")
            raise StepError(f"Athena query {query_id} {state}: {reason}")
        if time.monotonic() > deadline:
            raise StepError(
                f"Athena query {query_id} still {state} at the timeout; raise the timeout "
                "(--timeout-seconds; train.py: --fetch-timeout-seconds)"
            )
        time.sleep(wait)
        wait = min(wait * 2, 5.0)
    bucket, key = split_s3_uri(execution["ResultConfiguration"]["OutputLocation"])
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    frame = pd.read_csv(io.BytesIO(body))
    return frame.drop(columns=["row_num"], errors="ignore")


def fetch_latest_records(
    feature_group_name: str,
    region: str,
    athena_output_s3_uri: str | None = None,
    expected_rows: int | None = None,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    poll_seconds: float = DEFAULT_POLL_SECONDS,
    min_event_time: str | None = None,
) -> pd.DataFrame:
    """The latest live record per identifier in the group's offline store, as a DataFrame.

    With `expected_rows`, re-queries (waiting 2 s, 4 s, ... up to `poll_seconds` in between) until
    that many records are there; raises StepError if they are not after `timeout_seconds`, or at once
    if the offline store is Blocked. With `min_event_time` (ISO-8601), only records whose event time is
    at or after it count (at least one is awaited without `expected_rows`): those of one ingestion,
    not older versions. The result's `attrs` name the group's record identifier and event time features.
    """
    since = check_min_event_time(min_event_time)
    if since is not None and expected_rows is None:
        expected_rows = 1
    sagemaker = boto3.client("sagemaker", region_name=region)
    athena = boto3.client("athena", region_name=region)
    s3 = boto3.client("s3", region_name=region)
    store = describe_offline_store(sagemaker, feature_group_name)
    if athena_output_s3_uri is None:
        bucket, _ = split_s3_uri(store["s3_uri"])
        athena_output_s3_uri = f"s3://{bucket}/athena-results/"
    check_s3_uri("--athena-output-s3-uri", athena_output_s3_uri)
    query = latest_records_query(store)
    log.info(
        "offline store of %s: table %s.%s at %s; Athena results to %s",
        feature_group_name,
        store["database"],
        store["table"],
        store["s3_uri"],
        athena_output_s3_uri,
    )

    start = time.monotonic()
    deadline = start + timeout_seconds
    wait = 2.0
    for attempt in itertools.count(1):
        query_started = time.monotonic()
        frame = run_athena_query(
            athena,
            s3,
            query,
            store,
            athena_output_s3_uri,
            deadline=max(deadline, query_started + MIN_QUERY_WAIT_SECONDS),
        )
        found = count_since(frame, store["event_time_name"], since)
        recent = f" with an event time at or after {min_event_time}" if since else ""
        log.info(
            "query %d: %d records%s in %.1f s",
            attempt,
            len(frame),
            f", {found}{recent}" if since else "",
            time.monotonic() - query_started,
        )
        if expected_rows is None or found >= expected_rows:
            break
        if time.monotonic() + wait > deadline:
            raise StepError(
                f"only {found} of the expected {expected_rows} records{recent} reached the offline store of "
                f"{feature_group_name!r} within {timeout_seconds:g} s; raise the timeout (--timeout-seconds; "
                "train.py: --fetch-timeout-seconds; the offline store lags ingestion by minutes) or check that "
                "ingestion succeeded"
            )
        check_not_blocked(sagemaker.describe_feature_group(FeatureGroupName=feature_group_name))
        log.info(
            "waiting %.0f s for the offline store to catch up (%d of %d records%s)", wait, found, expected_rows, recent
        )
        time.sleep(wait)
        wait = min(wait * 2, poll_seconds)
    frame.attrs["record_identifier_name"] = store["record_identifier_name"]
    frame.attrs["event_time_name"] = store["event_time_name"]
    log.info("fetched %d records from %s in %.1f s", len(frame), feature_group_name, time.monotonic() - start)
    return frame


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feature-group-name", required=True, help="feature group to read")
    parser.add_argument("--region", help="AWS region (default: AWS_REGION / AWS_DEFAULT_REGION)")
    parser.add_argument(
        "--athena-output-s3-uri",
        help="where Athena writes query results (default: s3://<offline store bucket>/athena-results/)",
    )
    parser.add_argument(
        "--expected-rows", type=int, help="wait until at least this many records are in the offline store"
    )
    parser.add_argument(
        "--min-event-time",
        help="count only records whose event time is at or after this ISO-8601 time, such as "
        "the --event-time of an ingestion (default: every record)",
    )
    parser.add_argument(
        "--timeout-seconds",
        type=float,
        default=DEFAULT_TIMEOUT_SECONDS,
        help="give up waiting for --expected-rows after this long (default: %(default)s)",
    )
    parser.add_argument(
        "--poll-seconds",
        type=float,
        default=DEFAULT_POLL_SECONDS,
        help="longest wait between two queries (default: %(default)s)",
    )
    parser.add_argument(
        "--output-dir",
        default="/opt/ml/processing/output",
        help="directory for features.csv (a SageMaker Processing output; default: %(default)s)",
    )
    return parser.parse_args(argv)


def check_wait_flags(expected_rows: int | None, timeout_seconds: float, poll_seconds: float, prefix: str = "") -> None:
    """Shared by fetch_data.py and train.py (whose flags carry a --fetch- prefix)."""
    if expected_rows is not None and expected_rows < 1:
        raise StepError(f"--expected-rows {expected_rows} must be 1 or more (or left out to take what is there)")
    if timeout_seconds < 0:
        raise StepError(f"--{prefix}timeout-seconds {timeout_seconds:g} must be 0 or more")
    if poll_seconds <= 0:
        raise StepError(f"--{prefix}poll-seconds {poll_seconds:g} must be more than 0")


def run_main(main, argv: list[str] | None = None) -> int:
    """Run a script's main: bad input and failed AWS calls end as one clear line and exit code 1."""
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("botocore").setLevel(logging.WARNING)  # not its INFO lines on credentials and endpoints
    prog = os.path.basename(sys.argv[0]) or "step"
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


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    check_wait_flags(args.expected_rows, args.timeout_seconds, args.poll_seconds)
    if args.athena_output_s3_uri:
        check_s3_uri("--athena-output-s3-uri", args.athena_output_s3_uri)
    frame = fetch_latest_records(
        args.feature_group_name,
        resolve_region(args.region),
        athena_output_s3_uri=args.athena_output_s3_uri,
        expected_rows=args.expected_rows,
        timeout_seconds=args.timeout_seconds,
        poll_seconds=args.poll_seconds,
        min_event_time=args.min_event_time,
    )
    os.makedirs(args.output_dir, exist_ok=True)
    path = os.path.join(args.output_dir, "features.csv")
    frame.to_csv(path, index=False)
    log.info("wrote %d rows x %d columns to %s", len(frame), frame.shape[1], path)


if __name__ == "__main__":
    sys.exit(run_main(main))
