"""The checks every request passes before local_aws's router or moto sees it.

Web pages. Any page open in the user's browser can send requests to 127.0.0.1, so a request is
answered only when no web page sent it, or local_aws's own origin did:
- its Host must name the loopback address or localhost (127.0.0.1, [::1], localhost, *.localhost,
  any port): a page whose name was re-pointed at 127.0.0.1 (DNS rebinding) still sends its own;
- its Origin, when it has one, must be local_aws's own (http://127.0.0.1:<port>, localhost, [::1]);
- its Sec-Fetch-Site, when it has one, must be same-origin or none: browsers send it on every
  request, also on those that carry no Origin (a cross-site GET, a form);
- admin commands (every POST under /_local_aws/) must carry the admin token
  (local_aws.core.gateway.admin_token); of the GETs, health tells nothing secret and credentials needs its own
  token (local_aws.core.iam.credentials).
No answer grants CORS: every Access-Control-* header (moto's Flask apps add them, S3 bucket CORS
too) is removed, so no preflight ever succeeds. Every answer is sandboxed (Content-Security-Policy:
sandbox): an HTML object stored in S3 and opened in the browser runs as an opaque origin, not as
local_aws's own, so its scripts cannot call the APIs. moto's own admin API (/moto-api/: reset,
state dumps) is closed: local_aws's admin commands replace it. boto3, the AWS CLI and the SDK send
no Origin and no Sec-Fetch-* header, and address 127.0.0.1.

HTTP framing. The body is read whole before anything runs: a Content-Length that is no number of
bytes, a body shorter than it, a malformed chunked body, one that does not arrive within the
request timeout, or a Query-protocol form that is not UTF-8 is refused in AWS's error shape. An
error escaping the app is answered as InternalFailure, never as a traceback or an HTML page.
"""

from __future__ import annotations

import hmac
import io
import logging
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qsl

from local_aws.core.gateway import admin_token, http_errors, wire
from local_aws.core.gateway.errors import (
    AccessDenied,
    AccessDeniedException,
    AwsError,
    IncompleteBody,
    InternalFailure,
    InvalidQueryParameter,
    InvalidRequest,
    RequestTimeout,
)

log = logging.getLogger("local_aws")

App = Callable[[dict, Callable[..., Any]], Iterable[bytes]]
REQUEST_RECEIVED = "local_aws.request_received"  # environ key: called once the request has arrived whole
_LOOPBACK_HOST = re.compile(r"(?P<name>\[::1\]|[a-z0-9.-]+)(?::\d{1,5})?")
_LOOPBACK_NAMES = {"127.0.0.1", "[::1]", "localhost"}
_BROWSER_SITES_SERVED = {"same-origin", "none"}
_SANDBOX = ("Content-Security-Policy", "sandbox")
_DIGITS = re.compile(r"[0-9]+")
_BROKEN_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_CHUNK = 1 << 20
_SPOOL_BYTES = 16 << 20  # bodies larger than this wait on disk, not in memory


class HttpGuard:
    """WSGI middleware in front of the router: refuses web pages, foreign hosts and malformed requests."""

    def __init__(self, app: App, port: int, token: str, token_file: Path, request_timeout: float):
        self.app = app
        self.token = token
        self.token_file = token_file
        self.request_timeout = request_timeout
        self.origins = {f"http://{host}:{port}" for host in ("127.0.0.1", "localhost", "[::1]")}
        self.own_origin = f"http://127.0.0.1:{port}"

    def __call__(self, environ: dict, start_response: Callable[..., Any]) -> Iterable[bytes]:
        start_response = _without_cors(start_response)
        refusal = self._refusal(environ)
        if refusal is not None:
            denied = AccessDeniedException if http_errors.request_shape(environ) == "json" else AccessDenied
            error: AwsError | None = denied(refusal)
        else:
            error = self._receive(environ) or _form_problem(environ)
        if error is not None:
            log.warning("refused %s %s: %s", environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"), error.message)
            return http_errors.answer(environ, start_response, error)
        try:
            return self.app(environ, start_response)
        except Exception:
            log.exception("internal error")
            failure = InternalFailure("local_aws failed on this request; its log has the details.")
            return http_errors.answer(environ, start_response, failure, sys.exc_info())

    def _refusal(self, environ: dict) -> str | None:
        """Why the request is refused for who sent it, or None."""
        host = environ.get("HTTP_HOST", "")
        if not _is_loopback(host):
            return (
                f"local_aws answers only requests addressed to 127.0.0.1, localhost or [::1]: Host "
                f"{host or '(none)'} is refused (a web page reaching local_aws by DNS rebinding)."
            )
        origin = environ.get("HTTP_ORIGIN")
        if origin is not None and origin.lower() not in self.origins:
            return f"local_aws refuses requests from web pages: Origin {origin} is not {self.own_origin}."
        site = environ.get("HTTP_SEC_FETCH_SITE")
        if site is not None and site.lower() not in _BROWSER_SITES_SERVED:
            return f"local_aws refuses requests from web pages: Sec-Fetch-Site is {site}, not same-origin or none."
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "")
        if path.startswith("/moto-api"):
            return f"{path}: moto's admin API is closed in local_aws; use `python -m local_aws reset|stop`."
        if (
            path.startswith("/_local_aws/")
            and method != "GET"
            and not hmac.compare_digest(environ.get(admin_token.ENVIRON_KEY, "").encode(), self.token.encode())
        ):
            return (
                f"{method} {path} is an admin command and needs local_aws's admin token in the "
                f"{admin_token.HEADER} header (local_aws.reset(), flush() and stop() send it; the token is "
                f"in {self.token_file})."
            )
        return None

    def _receive(self, environ: dict) -> AwsError | None:
        """Read the whole body now, so a malformed, short or slow one is refused before anything runs."""
        chunked = bool(environ.pop("wsgi.input_terminated", False))
        length = environ.get("CONTENT_LENGTH", "").strip()
        if not chunked and length and not _DIGITS.fullmatch(length):
            return InvalidRequest(f"Content-Length {length!r} is not a number of bytes.")
        expected = None if chunked else int(length or 0)
        small = expected is not None and expected <= _SPOOL_BYTES
        body: IO[bytes] = io.BytesIO() if small else tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)
        stream = environ["wsgi.input"]
        read = getattr(stream, "read1", stream.read)  # read1: returns what has arrived, never waits for more
        received, deadline = 0, time.monotonic() + self.request_timeout
        try:
            while expected is None or received < expected:
                data = read(_CHUNK if expected is None else min(_CHUNK, expected - received))
                if not data:
                    break
                body.write(data)
                received += len(data)
                if time.monotonic() > deadline:
                    raise TimeoutError
        except TimeoutError:
            return RequestTimeout(
                "Your socket connection to the server was not read from or written to within "
                f"the timeout period ({self.request_timeout:g} s): the request body did not "
                "arrive in time."
            )
        except OSError as exc:  # werkzeug's reader of a chunked body: a malformed chunk; or a reset connection
            return InvalidRequest(f"The request body cannot be read: {exc}.")
        if expected is not None and received < expected:
            return IncompleteBody(
                "You did not provide the number of bytes specified by the Content-Length HTTP "
                f"header: {received} of {expected} arrived before the connection ended."
            )
        body.seek(0)
        environ["wsgi.input"] = body
        environ["CONTENT_LENGTH"] = str(received)
        if chunked:
            environ.pop("HTTP_TRANSFER_ENCODING", None)  # the body now has a length
        environ.get(REQUEST_RECEIVED, lambda: None)()
        return None


def _is_loopback(host: str) -> bool:
    match = _LOOPBACK_HOST.fullmatch(host.strip().lower())
    return match is not None and (match["name"] in _LOOPBACK_NAMES or match["name"].endswith(".localhost"))


def _form_problem(environ: dict) -> AwsError | None:
    """A Query-protocol form (POST / as x-www-form-urlencoded) that is not UTF-8 or has a broken %-escape."""
    if (
        environ.get("REQUEST_METHOD") != "POST"
        or environ.get("PATH_INFO") != "/"
        or not environ.get("CONTENT_TYPE", "").lower().startswith("application/x-www-form-urlencoded")
        or wire.signing_scope(environ)[0] == "s3"
    ):
        return None
    raw = wire.read_body(environ)
    try:
        text = raw.decode("utf-8")
        parse_qsl(text, keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        return InvalidQueryParameter(
            "The AWS query string is malformed: the form is not UTF-8 (nor is every %-escaped byte sequence in it)."
        )
    if _BROKEN_ESCAPE.search(text):
        return InvalidQueryParameter("The AWS query string is malformed: a '%' is not followed by two hex digits.")
    return None


def _without_cors(start_response: Callable[..., Any]) -> Callable[..., Any]:
    """start_response with every Access-Control-* header left out (no origin is ever granted anything)
    and the answer sandboxed (a document from local_aws is never local_aws's origin in a browser)."""

    def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        kept = [
            (name, value)
            for name, value in headers
            if not name.lower().startswith("access-control-") and name.lower() != "content-security-policy"
        ]
        return start_response(status, [*kept, _SANDBOX], exc_info)

    return start
