"""helpers.prerequisites against local_aws through boto3: each check passes when an earlier notebook's work is
there, and otherwise stops with one NotReady line naming the notebook to run; a running ingestion is waited
for. (The notebooks' own stops, papermill on a fresh backend: tests/notebooks/test_wrong_turns.py.)"""

from __future__ import annotations

import pytest
from support.featurestore import create_group
from support.jobs import PROCESSING_BUCKET, ROLE, put_script, start_processing

from helpers import prerequisites
from helpers.names import Names
from helpers.prerequisites import NotReady
from helpers.session import Setup

TYPES = {"abalone_id": "String", "event_time": "String", "rings": "Integral"}


def setup_of(aws) -> Setup:
    return Setup("local", "us-east-1", "123456789012", ROLE, "prereq-bucket", Names("prereq"), aws)


def test_each_check_names_the_notebook_to_run_then_passes_once_its_work_is_there(aws):
    setup = setup_of(aws)
    with pytest.raises(NotReady, match="^the bucket prereq-bucket does not exist yet: run 00_setup first$"):
        prerequisites.bucket(setup)
    with pytest.raises(NotReady, match="^the feature group prereq-features does not exist yet: run 00_setup first$"):
        prerequisites.feature_group(setup)
    aws.client("s3").create_bucket(Bucket="prereq-bucket")
    create_group(aws, "prereq-features", types=TYPES, record_id="abalone_id", offline=False, wait=False)

    prerequisites.bucket(setup)
    assert prerequisites.feature_group(setup)["FeatureGroupStatus"] == "Created"  # waited out Creating if need be
    with pytest.raises(NotReady) as stop:
        prerequisites.ingested_records(setup)
    assert str(stop.value) == "the feature group prereq-features holds no records yet: run 02_ingest first"
    assert stop.value._render_traceback_() == [  # what IPython shows instead of a traceback: one line
        "\x1b[0;31mNotReady\x1b[0m: the feature group prereq-features holds no records yet: run 02_ingest first"
    ]


def test_an_ingestion_running_now_is_waited_for(aws, capsys):
    setup = setup_of(aws)
    create_group(aws, "prereq-features", types=TYPES, record_id="abalone_id", offline=False)
    aws.client("s3").create_bucket(Bucket=PROCESSING_BUCKET)
    put_script(
        aws.client("s3"),
        "ingest.py",
        """
        import time, boto3
        time.sleep(2)
        boto3.client("sagemaker-featurestore-runtime").put_record(FeatureGroupName="prereq-features", Record=[
            {"FeatureName": "abalone_id", "ValueAsString": "abalone-00001"},
            {"FeatureName": "event_time", "ValueAsString": "2024-05-01T12:00:00Z"},
            {"FeatureName": "rings", "ValueAsString": "15"}])
        time.sleep(30)
    """,
    )
    start_processing(aws.client("sagemaker"), "prereq-ingest-2024-05-01-12-00-00-000", "ingest.py")

    prerequisites.ingested_records(setup)

    assert capsys.readouterr().out == (
        "Waiting for prereq-ingest-2024-05-01-12-00-00-000 to put the first record into prereq-features...\n"
    )
    aws.client("sagemaker").stop_processing_job(ProcessingJobName="prereq-ingest-2024-05-01-12-00-00-000")
