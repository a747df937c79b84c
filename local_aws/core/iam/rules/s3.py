"""S3: the action a REST request is, and the bucket or object ARN it acts on.

Named as the Service Authorization Reference names them: GET of a key is s3:GetObject (HEAD too),
listing a bucket s3:ListBucket, a copy needs s3:GetObject on its source as well, a multi-object
delete s3:DeleteObject on each key, a subresource (?tagging, ?acl, ?location, ...) its own action.
"""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qsl, unquote

from local_aws.core.gateway import wire
from local_aws.core.iam.authorization import Call, Need

_LOOPBACK_HOSTS = ("127.0.0.1", "localhost")
_KEY = re.compile(rb"<Key>(.*?)</Key>", re.DOTALL)

# subresource -> action, per method, on a bucket and on an object; None: the plain request
_BUCKET = {
    "GET": {
        "location": "GetBucketLocation",
        "tagging": "GetBucketTagging",
        "acl": "GetBucketAcl",
        "policy": "GetBucketPolicy",
        "versioning": "GetBucketVersioning",
        "cors": "GetBucketCORS",
        "uploads": "ListBucketMultipartUploads",
        "versions": "ListBucketVersions",
        "lifecycle": "GetLifecycleConfiguration",
        "notification": "GetBucketNotification",
        "encryption": "GetEncryptionConfiguration",
        None: "ListBucket",
    },
    "PUT": {
        "tagging": "PutBucketTagging",
        "policy": "PutBucketPolicy",
        "acl": "PutBucketAcl",
        "versioning": "PutBucketVersioning",
        "cors": "PutBucketCORS",
        "lifecycle": "PutLifecycleConfiguration",
        "notification": "PutBucketNotification",
        "encryption": "PutEncryptionConfiguration",
        None: "CreateBucket",
    },
    "DELETE": {
        "tagging": "PutBucketTagging",
        "policy": "DeleteBucketPolicy",
        "cors": "PutBucketCORS",
        "lifecycle": "PutLifecycleConfiguration",
        "encryption": "PutEncryptionConfiguration",
        None: "DeleteBucket",
    },
}
_OBJECT = {
    "GET": {
        "tagging": "GetObjectTagging",
        "acl": "GetObjectAcl",
        "uploadId": "ListMultipartUploadParts",
        None: "GetObject",
    },
    "PUT": {"tagging": "PutObjectTagging", "acl": "PutObjectAcl", None: "PutObject"},
    "POST": {"select": "GetObject", None: "PutObject"},  # ?uploads, ?uploadId: a multipart upload
    "DELETE": {"uploadId": "AbortMultipartUpload", "tagging": "DeleteObjectTagging", None: "DeleteObject"},
}


def bucket_and_key(environ: dict) -> tuple[str, str]:
    """(bucket, key) of a path-style or virtual-hosted request ("" when it names none)."""
    host = environ.get("HTTP_HOST", "").rsplit(":", 1)[0]
    path = unquote(environ.get("PATH_INFO", "").lstrip("/"))
    if host not in _LOOPBACK_HOSTS and "." in host:
        return host.split(".", 1)[0], path
    bucket, _, key = path.partition("/")
    return bucket, key


def s3_needs(call: Call) -> list[Need]:
    environ = call.environ
    method = "GET" if environ["REQUEST_METHOD"] == "HEAD" else environ["REQUEST_METHOD"]
    query = {name for name, _ in parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)}
    bucket, key = bucket_and_key(environ)
    if not bucket:
        return [Need("s3:ListAllMyBuckets")]
    if not key:
        if method == "POST" and "delete" in query:
            keys = [unescape(k.decode()) for k in _KEY.findall(wire.read_body(environ))]
            return [Need("s3:DeleteObject", f"arn:aws:s3:::{bucket}/{k}") for k in keys]
        return [Need(f"s3:{_action(_BUCKET, method, query)}", f"arn:aws:s3:::{bucket}")]
    needs = [Need(f"s3:{_action(_OBJECT, method, query)}", f"arn:aws:s3:::{bucket}/{key}")]
    source = environ.get("HTTP_X_AMZ_COPY_SOURCE")
    if method == "PUT" and source:
        needs.append(Need("s3:GetObject", f"arn:aws:s3:::{unquote(source).lstrip('/').split('?', 1)[0]}"))
    return needs


def _action(table: dict[str, dict], method: str, query: set[str]) -> str:
    actions = table.get(method, {})
    return next((actions[name] for name in actions if name is not None and name in query), actions.get(None, method))
