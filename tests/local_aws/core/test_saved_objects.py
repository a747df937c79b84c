"""S3 object bodies are saved once each, as files beside moto's snapshot: an overwritten body's file
goes, and after a reset (which deletes the saved state) new objects are saved again and come back."""

from __future__ import annotations

import local_aws


def bodies(own_server) -> set[bytes]:
    folder = own_server.server_home / "state" / "moto.files"
    return {path.read_bytes() for path in folder.iterdir()} if folder.is_dir() else set()


def test_overwritten_bodies_go_and_a_reset_leaves_nothing_stale(own_server):
    s3 = own_server.client("s3")
    s3.create_bucket(Bucket="saved")
    s3.put_object(Bucket="saved", Key="k", Body=b"first")
    s3.put_object(Bucket="saved", Key="k", Body=b"second")
    own_server.stop()
    assert bodies(own_server) == {b"second"}

    own_server.start()
    assert own_server.client("s3").get_object(Bucket="saved", Key="k")["Body"].read() == b"second"
    local_aws.reset(own_server.port)
    s3 = own_server.client("s3")
    s3.create_bucket(Bucket="saved")
    s3.put_object(Bucket="saved", Key="k", Body=b"second")  # the same body as before the reset
    own_server.stop()
    own_server.start()
    assert own_server.client("s3").get_object(Bucket="saved", Key="k")["Body"].read() == b"second"
