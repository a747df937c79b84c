"""S3 object bodies are saved once each, as files beside moto's snapshot: an overwritten body's file
goes, and after a reset (which deletes the saved state) new objects are saved again and come back; an
object uploaded in parts is saved too (moto keeps its parts, their bodies closed)."""

from __future__ import annotations

import io
import os

from boto3.s3.transfer import TransferConfig

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


def test_an_object_uploaded_in_parts_is_saved_and_comes_back(own_server):
    s3 = own_server.client("s3")
    s3.create_bucket(Bucket="saved")
    body, part = os.urandom(11 << 20), 5 << 20
    s3.upload_fileobj(
        io.BytesIO(body), "saved", "big", Config=TransferConfig(multipart_threshold=part, multipart_chunksize=part)
    )
    s3.put_object(Bucket="saved", Key="after", Body=b"after")  # moto's state is saved after it too
    assert local_aws.stop(own_server.port)  # raises when the stop could not save everything

    s3 = own_server.start().client("s3")
    assert s3.get_object(Bucket="saved", Key="big")["Body"].read() == body
    first = s3.head_object(Bucket="saved", Key="big", PartNumber=1)
    assert (first["ContentLength"], first["PartsCount"]) == (part, 3)
    assert s3.get_object(Bucket="saved", Key="after")["Body"].read() == b"after"
