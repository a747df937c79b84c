"""What a notebook needs from the ones before it, checked at its start with plain boto3 calls.

A check that fails raises NotReady: the notebook stops there with one line that names the notebook to
run first, instead of a long SDK traceback minutes later (NoSuchBucket, a job waiting on an empty
offline store). Each check costs one or two quick API calls, on local_aws and on AWS alike.

    from helpers import prerequisites
    prerequisites.bucket(setup)             # 00_setup made it
    prerequisites.feature_group(setup)      # 00_setup made it
    prerequisites.ingested_records(setup)   # 02_ingest filled it
"""

from __future__ import annotations

import time

from botocore.exceptions import ClientError

from helpers.session import Setup

# The first row's record identifier, as featurestore_df_ingestion.py generates it for abalone.csv.
FIRST_RECORD = "abalone-00001"


class NotReady(Exception):
    """Something an earlier notebook makes is missing. Shown as its one line, without a traceback."""

    def _render_traceback_(self) -> list[str]:  # IPython shows these lines instead of the traceback
        return [f"\x1b[0;31mNotReady\x1b[0m: {self}"]


def _code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


def bucket(setup: Setup) -> None:
    """The project's bucket exists (00_setup creates it)."""
    try:
        setup.boto_session.client("s3").head_bucket(Bucket=setup.bucket)
    except ClientError as error:
        if _code(error) in ("404", "NoSuchBucket"):
            raise NotReady(f"the bucket {setup.bucket} does not exist yet: run 00_setup first") from None
        if _code(error) in ("403", "AccessDenied"):
            raise NotReady(
                f"the bucket {setup.bucket} belongs to another account or your role may not use "
                "it: pass bucket='<a bucket of yours>' or run 00_setup first"
            ) from None
        raise


def feature_group(setup: Setup) -> dict:
    """The project's feature group exists and is Created (00_setup creates it); its description."""
    sagemaker_client = setup.boto_session.client("sagemaker")
    name = setup.names.feature_group
    try:
        group = sagemaker_client.describe_feature_group(FeatureGroupName=name)
    except ClientError as error:
        if _code(error) == "ResourceNotFound":
            raise NotReady(f"the feature group {name} does not exist yet: run 00_setup first") from None
        raise
    deadline = time.monotonic() + 600
    while group["FeatureGroupStatus"] == "Creating" and time.monotonic() < deadline:  # 00 was interrupted
        time.sleep(setup.poll_seconds)
        group = sagemaker_client.describe_feature_group(FeatureGroupName=name)
    if group["FeatureGroupStatus"] != "Created":
        raise NotReady(
            f"the feature group {name} is {group['FeatureGroupStatus']} "
            f"({group.get('FailureReason', 'no reason given')}): run 99_cleanup, then 00_setup"
        )
    return group


def ingested_records(setup: Setup) -> None:
    """The feature group holds ingested records (02_ingest puts them), or an ingestion running now
    puts them: then this waits for its first record, or for its end."""
    runtime = setup.boto_session.client("sagemaker-featurestore-runtime")
    sagemaker_client = setup.boto_session.client("sagemaker")
    name = setup.names.feature_group
    announced = False
    while not runtime.get_record(FeatureGroupName=name, RecordIdentifierValueAsString=FIRST_RECORD).get("Record"):
        running = sagemaker_client.list_processing_jobs(
            NameContains=setup.names.job("ingest"), StatusEquals="InProgress"
        )["ProcessingJobSummaries"]
        if not running:
            raise NotReady(f"the feature group {name} holds no records yet: run 02_ingest first")
        if not announced:
            print(f"Waiting for {running[0]['ProcessingJobName']} to put the first record into {name}...")
            announced = True
        time.sleep(setup.poll_seconds)
