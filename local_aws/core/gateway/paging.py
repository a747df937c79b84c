"""One NextToken scheme for every List*/Get* call that pages.

A token is opaque to clients, as on AWS: URL-safe base64 of where the next page starts and of the
operation (plus, where a token belongs to one resource, that resource) it continues. Where items
have an identity (`key`), the next page starts after the last item returned, wherever it now is, so
an item created or deleted meanwhile (newest-first listings grow at the front) neither repeats nor
skips one; without it, or once that item is gone, at the offset reached. A token that does not
decode, or continues another operation or resource, is refused with the service's validation error,
naming the token and the fix.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from local_aws.core.gateway.context import RequestContext
from local_aws.core.gateway.errors import validation_error


class Page(NamedTuple):
    items: list
    next_token: str | None

    def answer(self, body: dict[str, Any]) -> dict[str, Any]:
        """The response body with NextToken added when more items remain."""
        if self.next_token:
            body["NextToken"] = self.next_token
        return body


def page(
    items: Sequence,
    request: dict,
    ctx: RequestContext,
    default_size: int,
    scope: str = "",
    size: int | None = None,
    key: Callable[[Any], str] | None = None,
) -> Page:
    """The page of `items` the request's NextToken and MaxResults ask for (MaxResults checked by the
    model already; `size` overrides it where a call counts differently). `key` names an item."""
    start, after = _position(request.get("NextToken"), ctx, scope)
    if after is not None and key is not None:
        start = next((index + 1 for index, item in enumerate(items) if key(item) == after), start)
    size = size if size is not None else (request.get("MaxResults") or default_size)
    end = start + size
    chosen = list(items[start:end])
    if end >= len(items):
        return Page(chosen, None)
    last = key(chosen[-1]) if key is not None and chosen else None
    return Page(chosen, _encode({"o": end, "k": last, "s": f"{ctx.operation}/{scope}"}))


def _encode(payload: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()


def _position(token: str | None, ctx: RequestContext, scope: str) -> tuple[int, str | None]:
    """(offset, key of the last item returned) a NextToken continues from; (0, None) without one."""
    if not token:
        return 0, None
    try:
        payload = json.loads(base64.urlsafe_b64decode(token.encode()))
        position = payload["o"] if payload["s"] == f"{ctx.operation}/{scope}" else None
        after = payload.get("k")
    except (binascii.Error, ValueError, TypeError, KeyError, AttributeError, UnicodeError):
        position, after = None, None
    if not isinstance(position, int) or position < 0 or not isinstance(after, (str, type(None))):
        raise validation_error(
            ctx.service,
            f"Invalid NextToken {token!r}: pass the NextToken of the previous "
            f"{ctx.operation} response unchanged, or leave it out to start over.",
        )
    return position, after


# A List call's time bounds: request member -> (the item's attribute, whether items must come after it).
_TIME_BOUNDS = {
    "CreationTimeAfter": ("created", True),
    "CreationTimeBefore": ("created", False),
    "LastModifiedTimeAfter": ("last_modified", True),
    "LastModifiedTimeBefore": ("last_modified", False),
}


def within_time_bounds(items: list, request: dict) -> list:
    """The items (with `created` and `last_modified`) inside the request's CreationTime*/LastModifiedTime* bounds."""
    for member, (attr, after) in _TIME_BOUNDS.items():
        if request.get(member) is not None:
            bound = timestamp(request[member])
            items = [i for i in items if (getattr(i, attr) > bound if after else getattr(i, attr) < bound)]
    return items


def timestamp(value: Any) -> dt.datetime:
    """A timestamp member as the JSON protocol sends it (epoch seconds), or ISO 8601."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, (int, float)):
        return dt.datetime.fromtimestamp(value, dt.UTC)
    parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
