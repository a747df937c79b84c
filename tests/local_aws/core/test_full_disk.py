"""A full disk loses nothing acknowledged. With the state directory on a small file system the test fills up,
write requests are refused with ServiceUnavailable (503, in each protocol's shape) before anything of them runs,
reads are answered, every write acknowledged survives a kill -9 and a clean stop, a stop that cannot save says
so and exits non-zero, and once room is made writes are accepted again."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from support import error_of, wait_until
from support.jobs import PROCESSING_BUCKET, processing_output, put_script, start_processing, wait_for_processing
from support.restart import OwnServer, fill_up, state_on_small_disk

import local_aws

ONCE = Config(retries={"total_max_attempts": 1})  # a refusal is seen at once, not retried as SDKs do


@pytest.fixture()
def small_disk(tmp_path: Path) -> Iterator[tuple[OwnServer, Path]]:
    """A server of the test's own whose state directory is a 4 MiB file system."""
    server = OwnServer(tmp_path / "home")
    with state_on_small_disk(server, "4m") as state:
        server.start()
        yield server, state


def refusal(state: Path) -> str:
    return (
        f"local_aws cannot save its state: the file system of {state} is full (No space left on device); "
        "free some space"
    )


def put_until_refused(s3, acknowledged: dict[str, bytes], prefix: str) -> ClientError:
    """Write small objects until the server refuses one; those it acknowledged are added to `acknowledged`."""
    for number in range(500):
        key, body = f"{prefix}-{number}", os.urandom(10_000)
        try:
            s3.put_object(Bucket="kept", Key=key, Body=body)
        except ClientError as err:
            return err
        acknowledged[key] = body
    raise AssertionError("500 objects written on a full disk and none refused")


def assert_kept(s3, acknowledged: dict[str, bytes]) -> None:
    listed = {item["Key"] for item in s3.list_objects_v2(Bucket="kept")["Contents"]}
    assert set(acknowledged) <= listed
    for key, body in acknowledged.items():
        assert s3.get_object(Bucket="kept", Key=key)["Body"].read() == body, key


def test_a_full_disk_refuses_writes_answers_reads_and_loses_nothing_acknowledged(small_disk):
    server, state = small_disk
    s3 = server.client("s3", config=ONCE)
    s3.create_bucket(Bucket="kept")
    acknowledged = {f"before-{n}": os.urandom(20_000) for n in range(5)}
    acknowledged["large"] = os.urandom(1_500_000)  # more than the reserve holds beyond the next save: it grows
    for key, body in acknowledged.items():
        s3.put_object(Bucket="kept", Key=key, Body=body)
    time.sleep(1)

    filler = fill_up(state)
    refused = put_until_refused(s3, acknowledged, "after-fill")  # the reserve takes the first ones
    assert refused.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    assert refused.response["Error"] == {"Code": "ServiceUnavailable", "Message": refusal(state)}
    assert local_aws.status(server.port)["saved_state"]["writes_refused"] == refusal(state)

    # every protocol's write is refused in its own shape, before anything of it runs (the group does not exist)
    for call in (
        lambda: server.client("iam", config=ONCE).create_user(UserName="refused"),  # Query
        lambda: server.client("sagemaker", config=ONCE).create_model_package_group(ModelPackageGroupName="g"),  # JSON
        lambda: server.client("sagemaker-featurestore-runtime", config=ONCE).put_record(  # REST-JSON
            FeatureGroupName="no-such-group", Record=[{"FeatureName": "id", "ValueAsString": "1"}]
        ),
    ):
        assert error_of(call) == ("ServiceUnavailable", refusal(state))
    # reads are answered, POSTs named as reads included
    assert_kept(s3, acknowledged)
    assert {role["RoleName"] for role in server.client("iam").list_roles()["Roles"]} >= {"SageMakerRole"}
    assert server.client("sagemaker").list_model_package_groups()["ModelPackageGroupSummaryList"] == []
    try:  # a POST to a REST route that reads: answered (here, that there is no such group), not refused
        server.client("sagemaker-featurestore-runtime", config=ONCE).batch_get_record(
            Identifiers=[{"FeatureGroupName": "no-such-group", "RecordIdentifiersValueAsString": ["1"]}]
        )
    except ClientError as err:
        assert err.response["Error"]["Code"] != "ServiceUnavailable"

    time.sleep(1.5)  # more than a second after the last acknowledged write
    server.kill()
    s3 = server.start().client("s3", config=ONCE)  # on the disk still full
    assert_kept(s3, acknowledged)
    assert error_of(lambda: s3.put_object(Bucket="kept", Key="still-refused", Body=b"x")) == (
        "ServiceUnavailable",
        refusal(state),
    )

    assert local_aws.stop(server.port)  # a clean stop on the full disk: nothing was left unsaved
    assert server.process.wait(timeout=60) == 0
    s3 = server.start().client("s3", config=ONCE)
    assert_kept(s3, acknowledged)

    filler.unlink()  # room is made: within a save or two, writes are accepted again
    wait_until(lambda: _accepted(s3, "room-made", b"room"), what="a write accepted once room is made", timeout=10)
    acknowledged["room-made"] = b"room"
    assert "writes_refused" not in local_aws.status(server.port)["saved_state"]
    assert local_aws.stop(server.port)
    assert_kept(server.start().client("s3"), acknowledged)


def _accepted(s3, key: str, body: bytes) -> bool:
    try:
        s3.put_object(Bucket="kept", Key=key, Body=body)
    except ClientError as err:
        assert err.response["Error"]["Code"] == "ServiceUnavailable"
        return False
    return True


def test_a_stop_that_cannot_save_says_so_and_exits_non_zero(small_disk, tmp_path: Path):
    server, state = small_disk
    s3, sm = server.client("s3", config=ONCE), server.client("sagemaker")
    for bucket in ("kept", PROCESSING_BUCKET):
        s3.create_bucket(Bucket=bucket)
    go = tmp_path / "go"
    put_script(
        s3,
        "late_output.py",
        f"""
        import os, time
        while not os.path.exists({str(go)!r}):
            time.sleep(0.05)
        with open("/opt/ml/processing/output/model.bin", "wb") as out:
            out.write(os.urandom(3_000_000))
        """,
    )
    output = processing_output("output", f"s3://{PROCESSING_BUCKET}/output")
    start_processing(sm, "late-output", "late_output.py", outputs=[output])  # it waits for `go`
    time.sleep(1)
    acknowledged: dict[str, bytes] = {}
    filler = fill_up(state)
    put_until_refused(s3, acknowledged, "after-fill")
    go.touch()  # the job ends: its 3 MB output, written by local_aws itself, is more than the disk has left
    assert wait_for_processing(sm, "late-output")["ProcessingJobStatus"] == "Completed"

    stop = [sys.executable, "-m", "local_aws", "stop", "--port", str(server.port)]
    stopping = subprocess.Popen(stop, env=server.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert server.process.wait(timeout=120) == 1  # (waited for here, its parent, so that `stop` sees it end)
    _, stderr = stopping.communicate(timeout=60)
    assert stopping.returncode == 1, stderr
    assert stderr.startswith("local_aws: local_aws stopped without saving all of its state. ")
    assert refusal(state) in stderr
    assert re.search(r"Not saved: what changed in (\w+, )*moto(, \w+)* since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d", stderr)
    assert "stopped without saving all of its state" in server.output()

    filler.unlink()
    server.start()
    assert_kept(server.client("s3"), acknowledged)  # what was acknowledged was saved before the stop


def test_state_this_version_cannot_read_is_set_aside_and_start_says_so(tmp_path: Path):
    port = local_aws.free_port()
    env = {**os.environ, "LOCAL_AWS_HOME": str(tmp_path)}
    state = tmp_path / str(port) / "state"
    (state / "moto.files").mkdir(parents=True)
    (state / "FORMAT").write_text("0")  # written by a local_aws of another saved-state FORMAT
    (state / "moto.pickle").write_bytes(b"not what this version writes")
    (state / "moto.files" / "body").write_bytes(b"an object")

    def cli(command: str) -> subprocess.CompletedProcess:
        run = [sys.executable, "-m", "local_aws", command, "--port", str(port)]
        return subprocess.run(run, env=env, capture_output=True, text=True, timeout=120)

    try:
        started = cli("start")
        assert started.returncode == 0, started
        assert f"the files are kept in {state / 'unreadable'}" in started.stderr
        assert "  moto: saved in FORMAT 0; this version reads FORMAT 1" in started.stderr
        aside = {path.name.rsplit(".", 1)[0] for path in (state / "unreadable").iterdir()}
        assert aside == {"FORMAT", "moto.pickle", "moto.files"}  # all of it, nothing deleted
        health = local_aws.status(port)["saved_state"]
        assert health["set_aside_at_start"] == ["moto: saved in FORMAT 0; this version reads FORMAT 1"]
        assert cli("stop").returncode == 0

        (state / "moto.pickle").write_bytes(b"a snapshot that no longer loads")  # in this version's FORMAT
        started = cli("start")
        assert "  moto: UnpicklingError: " in started.stderr, started
        aside = [path.name for path in (state / "unreadable").iterdir()]
        assert sum(name.startswith("moto.pickle.") for name in aside) == 2, aside
        assert (state / "FORMAT").exists()  # only that store was set aside
    finally:
        local_aws.stop(port)
