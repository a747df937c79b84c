"""Who signed a request: every AWS API call is authenticated as AWS authenticates it, with Signature Version 4.

local_aws listens on loopback, which every user of the machine can reach, and runs jobs as the user who
started it, so no call is served on a key's word. A request's signature is recomputed with botocore's own
SigV4 code (the canonical request, the string to sign and the signature, with the request's X-Amz-Date
and SignedHeaders), with the secret of the key it names:

- the key pair the server issued its user (local_aws.core.iam.access_keys): the account's administrator;
- a session moto's STS issued (a job's or a Studio kernel's credentials, any AssumeRole session), whose
  X-Amz-Security-Token must be the session's and which ends at its expiration;
- an IAM user's active access key (CreateAccessKey).

Any other key, a wrong secret, a missing or foreign session token, an expired session, a request signed
more than 15 minutes from now, an unsigned call and an expired presigned URL are refused before anything
runs, with the code, message and HTTP status the service's protocol answers them with on AWS (S3's XML,
the JSON protocols', the Query protocol's). The payload's hash is S3's X-Amz-Content-Sha256 (a SHA-256,
UNSIGNED-PAYLOAD or a STREAMING-* value, taken as given; a streaming body's chunk signatures are not
checked), or for every other service the body's own. A presigned URL (query-string SigV4: X-Amz-Algorithm,
X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders, X-Amz-Signature) is checked the same
way, with its X-Amz-Expires instead of the 15 minutes.

Verification is cheap: signing keys are derived once per secret, day, region and service; the keys moto
issued are looked up once (then a dictionary lookup per request checks they are still active); a request
of the issued key never touches moto.

The requests that are not AWS API calls (/_local_aws/...) never come here: health needs nothing, the
credentials endpoint its own token, admin commands the admin token (local_aws.core.gateway.http_guard).
"""

from __future__ import annotations

import base64
import datetime as dt
import hmac
import logging
import re
import threading
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from functools import lru_cache
from hashlib import sha1, sha256
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from botocore.auth import UNSIGNED_PAYLOAD, HmacV1Auth, S3SigV4Auth, SigV4Auth
from botocore.awsrequest import HTTPHeaders  # for SigV2's canonical string

from local_aws.core.gateway import errors, http_errors, wire
from local_aws.core.gateway.errors import AwsError
from local_aws.core.iam import access_keys
from local_aws.core.iam.authorization import Principal
from local_aws.core.moto import iam as moto_iam

log = logging.getLogger("local_aws")

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_SKEW_SECONDS = 15 * 60  # AWS refuses a request signed further from its own time than this
MAX_PRESIGNED_SECONDS = 7 * 24 * 3600  # the longest X-Amz-Expires S3 takes
_AMZ_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z")
_PRESIGNED_PARAMETERS = (
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Signature",
    "X-Amz-Date",
    "X-Amz-SignedHeaders",
    "X-Amz-Expires",
)
_INVALID_TOKEN = "The security token included in the request is invalid."
_EXPIRED_TOKEN = "The security token included in the request is expired"
_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your AWS Secret "
    "Access Key and signing method. Consult the service documentation for details."
)
_S3_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your key and signing method."
)


@dataclass(frozen=True)
class _Key:
    """What verifying a key needs: its secret, who it is, and for an STS session its token and end."""

    secret: str = field(repr=False)
    principal: Principal | None  # None: the account's administrator
    token: str | None = field(default=None, repr=False)
    expires_at: float | None = None  # epoch seconds


@dataclass
class _Signed:
    """A request's SigV4 signature, as its Authorization header or presigned URL gives it."""

    access_key_id: str
    region: str
    service: str
    amz_date: str  # ISO 8601 basic, as signed
    signed_at: float  # the same, in epoch seconds
    signed_headers: str
    signature: str
    token: str
    query: list[tuple[str, str]]  # the query string's parameters, decoded (a presigned URL's signature left out)
    expires: int | None = None  # a presigned URL's X-Amz-Expires (SigV4) or Expires (SigV2, epoch seconds)
    version: int = 4  # 2: an S3 URL presigned with SigV2 (AWSAccessKeyId, Signature, Expires)


class _Stamped:
    """The part of a botocore request its string_to_sign reads: when it was signed."""

    def __init__(self, amz_date: str):
        self.context = {"timestamp": amz_date}


_issued: _Key | None = None
_issued_id = ""
_keys: dict[str, _Key] = {}  # access key id -> the key moto issued (checked active at each use)
_signing_keys: dict[tuple[str, str, str, str], bytes] = {}
_lock = threading.Lock()


def issue_keys(home: Path) -> None:
    """Once the server holds its port: the key pair of its home, kept there for its user only."""
    global _issued, _issued_id
    pair = access_keys.issue(home)
    _issued, _issued_id = _Key(pair.secret_access_key, None), pair.access_key_id
    log.info("API requests must be signed with the key pair in %s (or keys STS or IAM issued)", home / "credentials")


def forget_keys() -> None:
    with _lock:
        _keys.clear()


def principal_of(environ: dict) -> Principal | None:
    """Who signed this AWS API request: None for the account's administrator (the issued key pair), else the
    role session or IAM user the key belongs to. Raises the AwsError the request's protocol answers when the
    request is unsigned, or its signature, key or session cannot be accepted."""
    try:
        signed = _signature(environ)
        now = time.time()
        if signed.expires is None:
            _check_skew(environ, signed, now)
        elif signed.version == 2:
            _check_v2_not_expired(signed, now)
        else:
            _check_not_expired(environ, signed, now)
        key = _key(signed.access_key_id)
        if key is None:
            raise _unknown_key(environ, signed)
        _check_session(environ, signed, key, now)
        _check_signature(environ, signed, key)
    except AwsError as error:
        log.warning(
            "refused %s %s: %s: %s",
            environ.get("REQUEST_METHOD"),
            environ.get("PATH_INFO"),
            error.code,
            error.message,
        )
        raise
    return key.principal


# -- reading the signature --------------------------------------------------------------------------------
def _signature(environ: dict) -> _Signed:
    query = _query(environ.get("QUERY_STRING", ""))
    authorization = environ.get("HTTP_AUTHORIZATION", "").strip()
    if authorization:
        return _from_header(environ, authorization, query)
    names = {name for name, _ in query}
    if names & {"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature"}:
        return _from_query(environ, query)
    if {"AWSAccessKeyId", "Signature"} <= names:
        return _from_v2_query(environ, query)
    raise _refusal(
        environ,
        "",
        s3=errors.AccessDenied("Access Denied"),  # what S3 answers an anonymous request for anything private
        json=errors.MissingAuthenticationTokenException("Missing Authentication Token"),
        query=errors.MissingAuthenticationToken("Request is missing Authentication Token"),
    )


def _query(text: str) -> list[tuple[str, str]]:
    pairs = []
    for part in text.split("&"):
        if part:
            name, _, value = part.partition("=")
            pairs.append((unquote(name), unquote(value)))
    return pairs


def _from_header(environ: dict, authorization: str, query: list[tuple[str, str]]) -> _Signed:
    algorithm, _, rest = authorization.partition(" ")
    fields = {}
    for part in rest.split(","):
        name, equals, value = part.strip().partition("=")
        if equals:
            fields[name] = value.strip()
    missing = [name for name in ("Credential", "SignedHeaders", "Signature") if not fields.get(name)]
    if algorithm != ALGORITHM:
        raise _refusal(
            environ,
            "",
            s3=errors.InvalidRequest(
                "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256."
            ),
            json=errors.IncompleteSignatureException(_incomplete(missing or ["Credential"])),
            query=errors.IncompleteSignature(_incomplete(missing or ["Credential"])),
        )
    access_key_id, region, service = _scope(fields.get("Credential", ""))
    if missing or not access_key_id:
        why = _incomplete(missing) if missing else "Credential should be <key>/<date>/<region>/<service>/aws4_request."
        raise _refusal(
            environ,
            service,
            s3=errors.AuthorizationHeaderMalformed(f"The authorization header is malformed; {why}"),
            json=errors.IncompleteSignatureException(why),
            query=errors.IncompleteSignature(why),
        )
    amz_date = environ.get("HTTP_X_AMZ_DATE", "").strip() or _from_http_date(environ.get("HTTP_DATE", ""))
    signed_at = _epoch(amz_date)
    if signed_at is None:
        why = "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
        raise _refusal(
            environ,
            service,
            s3=errors.AccessDenied("AWS authentication requires a valid Date or x-amz-date header"),
            json=errors.IncompleteSignatureException(why),
            query=errors.IncompleteSignature(why),
        )
    return _Signed(
        access_key_id,
        region,
        service,
        amz_date,
        signed_at,
        fields["SignedHeaders"],
        fields["Signature"],
        environ.get("HTTP_X_AMZ_SECURITY_TOKEN", ""),
        query,
    )


def _from_query(environ: dict, query: list[tuple[str, str]]) -> _Signed:
    """A presigned URL's signature."""
    params = dict(query)
    access_key_id, region, service = _scope(params.get("X-Amz-Credential", ""))
    signed_at = _epoch(params.get("X-Amz-Date", ""))
    expires = params.get("X-Amz-Expires", "")
    if (
        any(not params.get(name) for name in _PRESIGNED_PARAMETERS)
        or params["X-Amz-Algorithm"] != ALGORITHM
        or not access_key_id
        or signed_at is None
    ):
        why = (
            "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, "
            "X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."
        )
        raise _refusal(
            environ,
            service,
            s3=errors.AuthorizationQueryParametersError(why),
            json=errors.IncompleteSignatureException(why),
            query=errors.IncompleteSignature(why),
        )
    if not expires.isdigit() or not 0 < int(expires) <= MAX_PRESIGNED_SECONDS:
        why = (
            "X-Amz-Expires must be less than a week (in seconds) that is 604800"
            if expires.isdigit()
            else "X-Amz-Expires should be a number"
        )
        raise _refusal(
            environ,
            service,
            s3=errors.AuthorizationQueryParametersError(why),
            json=errors.IncompleteSignatureException(why),
            query=errors.IncompleteSignature(why),
        )
    assert signed_at is not None
    return _Signed(
        access_key_id,
        region,
        service,
        params["X-Amz-Date"],
        signed_at,
        params["X-Amz-SignedHeaders"],
        params["X-Amz-Signature"],
        params.get("X-Amz-Security-Token", ""),
        [(name, value) for name, value in query if name != "X-Amz-Signature"],
        int(expires),
    )


def _from_v2_query(environ: dict, query: list[tuple[str, str]]) -> _Signed:
    """An S3 URL presigned with SigV2, as boto3's generate_presigned_url makes them by default for S3."""
    params = dict(query)
    expires = params.get("Expires", "")
    if not expires.isdigit():
        raise errors.AccessDenied(
            "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters"
        )
    return _Signed(
        params["AWSAccessKeyId"],
        "",
        "s3",
        "",
        0.0,
        "",
        params["Signature"],
        params.get("x-amz-security-token", ""),
        query,
        int(expires),
        version=2,
    )


def _scope(credential: str) -> tuple[str, str, str]:
    """(access key id, region, service) of a credential scope <key>/<date>/<region>/<service>/aws4_request."""
    parts = credential.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request" or not all(parts):
        return "", "", parts[3] if len(parts) == 5 else ""
    return parts[0], parts[2], parts[3]


def _incomplete(missing: list[str]) -> str:
    return " ".join(f"Authorization header requires '{name}' parameter." for name in missing)


def _from_http_date(text: str) -> str:
    """A Date header (RFC 7231) as SigV4 signs it (ISO 8601 basic); "" when there is none or it cannot be read."""
    try:
        return parsedate_to_datetime(text).astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ") if text else ""
    except (TypeError, ValueError):
        return ""


@lru_cache(maxsize=1024)  # many requests are signed in the same second
def _epoch(amz_date: str) -> float | None:
    match = _AMZ_DATE.fullmatch(amz_date)
    if match is None:
        return None
    try:
        return dt.datetime(*map(int, match.groups()), tzinfo=dt.UTC).timestamp()
    except ValueError:
        return None


def _iso(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _basic(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y%m%dT%H%M%SZ")


# -- the checks ---------------------------------------------------------------------------------------------
def _check_skew(environ: dict, signed: _Signed, now: float) -> None:
    if abs(now - signed.signed_at) <= MAX_SKEW_SECONDS:
        return
    if signed.signed_at < now:
        why = (
            f"Signature expired: {signed.amz_date} is now earlier than {_basic(now - MAX_SKEW_SECONDS)} "
            f"({_basic(now)} - 15 min.)"
        )
    else:
        why = (
            f"Signature not yet current: {signed.amz_date} is still later than {_basic(now + MAX_SKEW_SECONDS)} "
            f"({_basic(now)} + 15 min.)"
        )
    raise _refusal(
        environ,
        signed.service,
        s3=errors.RequestTimeTooSkewed(
            "The difference between the request time and the current time is too large.",
            RequestTime=signed.amz_date,
            ServerTime=_iso(now),
            MaxAllowedSkewMilliseconds=str(MAX_SKEW_SECONDS * 1000),
        ),
        json=errors.InvalidSignatureException(why),
        query=errors.SignatureDoesNotMatch(why),
    )


def _check_not_expired(environ: dict, signed: _Signed, now: float) -> None:
    """A presigned URL is valid from its X-Amz-Date for X-Amz-Expires seconds."""
    assert signed.expires is not None
    ends = signed.signed_at + signed.expires
    if now <= ends:
        return
    why = (
        f"Signature expired: {signed.amz_date} is now earlier than {_basic(now - signed.expires)} "
        f"({_basic(now)} - {signed.expires} sec.)"
    )
    expired = {"X-Amz-Expires": str(signed.expires), "Expires": _iso(ends), "ServerTime": _iso(now)}
    raise _refusal(
        environ,
        signed.service,
        s3=errors.AccessDenied("Request has expired", **expired),
        json=errors.InvalidSignatureException(why),
        query=errors.SignatureDoesNotMatch(why),
    )


def _check_v2_not_expired(signed: _Signed, now: float) -> None:
    """A SigV2 presigned URL is valid until its Expires."""
    assert signed.expires is not None
    if now > signed.expires:
        raise errors.AccessDenied("Request has expired", Expires=_iso(signed.expires), ServerTime=_iso(now))


def _key(access_key_id: str) -> _Key | None:
    """The issued key, or one moto's STS or IAM issued and still holds active; None for any other key."""
    if _issued is not None and access_key_id == _issued_id:
        return _issued
    known = _keys.get(access_key_id)
    if known is not None:
        if moto_iam.key_active(access_key_id):
            return known
        with _lock:
            _keys.pop(access_key_id, None)
        return None
    found = moto_iam.issued_key(access_key_id)  # a scan of moto's sessions: once per key
    if found is None:
        return None
    key = _Key(
        found.secret_access_key,
        Principal(found.owner.arn, found.owner.identity_arn),
        found.session_token,
        found.expiration.timestamp() if found.expiration else None,
    )
    with _lock:
        if len(_keys) > 10_000:
            _keys.clear()
        _keys[access_key_id] = key
    return key


def _unknown_key(environ: dict, signed: _Signed) -> AwsError:
    return _refusal(
        environ,
        signed.service,
        s3=errors.InvalidAccessKeyId(
            "The AWS Access Key Id you provided does not exist in our records.", AWSAccessKeyId=signed.access_key_id
        ),
        json=errors.UnrecognizedClientException(_INVALID_TOKEN),
        query=errors.InvalidClientTokenId(_INVALID_TOKEN),
    )


def _check_session(environ: dict, signed: _Signed, key: _Key, now: float) -> None:
    """A session's key goes with its own token only, and only until it expires; a long-term key with none."""
    if key.token is None:
        valid = not signed.token
    else:
        if not signed.token:  # a session's key without its token is no key AWS knows
            raise _unknown_key(environ, signed)
        valid = hmac.compare_digest(signed.token.encode(), key.token.encode())
    if not valid:
        raise _refusal(
            environ,
            signed.service,
            s3=errors.InvalidToken("The provided token is malformed or otherwise invalid."),
            json=errors.UnrecognizedClientException(_INVALID_TOKEN),
            query=errors.InvalidClientTokenId(_INVALID_TOKEN),
        )
    if key.expires_at is not None and now >= key.expires_at:
        s3_expired = errors.ExpiredToken("The provided token has expired.")
        s3_expired.status = 400  # S3 answers an expired session 400, IAM and STS 403
        raise _refusal(
            environ,
            signed.service,
            s3=s3_expired,
            json=errors.ExpiredTokenException(_EXPIRED_TOKEN),
            query=errors.ExpiredToken(_EXPIRED_TOKEN),
        )


def _check_signature(environ: dict, signed: _Signed, key: _Key) -> None:
    if signed.version == 2:
        return _check_v2_signature(environ, signed, key)
    signer = _signer(signed.service, signed.region)
    canonical = "\n".join(
        (
            environ.get("REQUEST_METHOD", "GET").upper(),
            signer._normalize_url_path(_raw_path(environ)),
            signer._canonical_query_string_params(signed.query),
            _canonical_headers(environ, signed.signed_headers) + "\n",
            signed.signed_headers,
            _payload_hash(environ, signed),
        )
    )
    string_to_sign = signer.string_to_sign(_Stamped(signed.amz_date), canonical)
    signing_key = _signing_key(key.secret, signed.amz_date[:8], signed.region, signed.service)
    expected = hmac.new(signing_key, string_to_sign.encode(), sha256).hexdigest()
    if hmac.compare_digest(expected.encode(), signed.signature.encode()):
        return
    raise _refusal(
        environ,
        signed.service,
        s3=errors.SignatureDoesNotMatch(
            _S3_MISMATCH,
            AWSAccessKeyId=signed.access_key_id,
            StringToSign=string_to_sign,
            SignatureProvided=signed.signature,
            CanonicalRequest=canonical,
        ),
        json=errors.InvalidSignatureException(_MISMATCH),
        query=errors.SignatureDoesNotMatch(_MISMATCH),
    )


class _V2Signer(HmacV1Auth):
    """botocore's SigV2 signer, reading the time from a presigned URL's Expires rather than the clock."""

    def __init__(self, expires: str):
        super().__init__(None)
        self._expires = expires

    def _get_date(self) -> str:
        return self._expires


def _check_v2_signature(environ: dict, signed: _Signed, key: _Key) -> None:
    """An S3 URL presigned with SigV2: HMAC-SHA1 over the method, Content-MD5, Content-Type, Expires, the
    x-amz-* headers (a session's token among them, from the URL) and the resource, as botocore signs it."""
    headers = HTTPHeaders()
    for name, value in environ.items():
        if name.startswith("HTTP_X_AMZ_") or name == "HTTP_CONTENT_MD5":
            headers[name[5:].lower().replace("_", "-")] = value
    if environ.get("CONTENT_TYPE"):
        headers["content-type"] = environ["CONTENT_TYPE"]
    for name, value in signed.query:
        if name.lower().startswith("x-amz-") and name.lower() not in headers:
            headers[name.lower()] = value
    query = environ.get("QUERY_STRING", "")
    resource = urlsplit(f"{_raw_path(environ)}?{query}" if query else _raw_path(environ))
    string_to_sign = _V2Signer(str(signed.expires)).canonical_string(
        environ.get("REQUEST_METHOD", "GET"), resource, headers
    )
    expected = base64.b64encode(hmac.new(key.secret.encode(), string_to_sign.encode(), sha1).digest()).decode()
    if not hmac.compare_digest(expected.encode(), signed.signature.encode()):
        raise errors.SignatureDoesNotMatch(
            _S3_MISMATCH,
            AWSAccessKeyId=signed.access_key_id,
            StringToSign=string_to_sign,
            SignatureProvided=signed.signature,
        )


@lru_cache(maxsize=64)
def _signer(service: str, region: str) -> SigV4Auth:
    """botocore's signer for the scope (no credentials: it only computes the canonical request and string to sign);
    S3's leaves the path as sent, the others' normalize it and encode it once more, as botocore signs them."""
    return (S3SigV4Auth if service == "s3" else SigV4Auth)(None, service, region)


def _raw_path(environ: dict) -> str:
    """The path as the client sent it, still percent-encoded (what it signed)."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        path = raw.split("?", 1)[0]
        return urlsplit(path).path if "://" in path else path
    return quote(environ.get("PATH_INFO", "/").encode("latin-1"), safe="/~")


def _canonical_headers(environ: dict, names: str) -> str:
    """The signed headers as SigV4 canonicalizes them (botocore's canonical_headers, without building the
    HTTPHeaders it takes: half the cost of a verification): `name:value`, values trimmed and inner runs of spaces
    made one, sorted by name, one a line; repeated headers arrive joined by commas, as botocore joins them."""
    lines = []
    for name in sorted(set(names.split(";"))):
        if name == "content-type":
            value = environ.get("CONTENT_TYPE", "")
        elif name == "content-length":
            value = environ.get("CONTENT_LENGTH", "")
        else:
            value = environ.get("HTTP_" + name.upper().replace("-", "_"), "")
        lines.append(f"{name}:{' '.join(value.split())}")
    return "\n".join(lines)


def _payload_hash(environ: dict, signed: _Signed) -> str:
    """S3: the X-Amz-Content-Sha256 the client sent (UNSIGNED-PAYLOAD for a presigned URL without one); every
    other service: the body's SHA-256."""
    if signed.service != "s3":
        return sha256(wire.read_body(environ)).hexdigest()
    if signed.expires is not None:
        return dict(signed.query).get("X-Amz-Content-Sha256", UNSIGNED_PAYLOAD)
    declared = environ.get("HTTP_X_AMZ_CONTENT_SHA256")
    if declared is None:
        raise errors.InvalidRequest("Missing required header for this request: x-amz-content-sha256")
    return declared


def _signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    """SigV4's signing key, derived once per secret, day, region and service."""
    cache_key = (secret, date, region, service)
    key = _signing_keys.get(cache_key)
    if key is None:
        key = hmac.new(f"AWS4{secret}".encode(), date.encode(), sha256).digest()
        for part in (region, service, "aws4_request"):
            key = hmac.new(key, part.encode(), sha256).digest()
        with _lock:
            if len(_signing_keys) > 4096:
                _signing_keys.clear()
            _signing_keys[cache_key] = key
    return key


# -- refusals in each protocol's words ------------------------------------------------------------------
def _refusal(environ: dict, service: str, *, s3: AwsError, json: AwsError, query: AwsError) -> AwsError:
    """The error for the request's protocol: S3's (REST-XML), the JSON protocols' or the Query protocol's."""
    if service == "s3":
        return s3
    shape = http_errors.request_shape(environ)
    return json if shape == "json" else query if shape == "query" else s3
