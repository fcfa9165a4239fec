"""Opaque page cursors bound to the request they continue and to the instant paging began."""

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shelfops_pipeline.sandbox.square.errors import SquareError


@dataclass(frozen=True)
class PageState:
    offset: int
    started_at: datetime


def fingerprint(request: dict[str, Any]) -> str:
    """A short hash of the request without its cursor: Square requires the same query each page."""
    canonical = json.dumps({k: v for k, v in request.items() if k != "cursor"}, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def encode_cursor(request: dict[str, Any], state: PageState) -> str:
    payload = {"o": state.offset, "t": state.started_at.timestamp(), "f": fingerprint(request)}
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def decode_cursor(request: dict[str, Any], cursor: str | None, now: datetime) -> PageState:
    if not cursor:
        return PageState(0, now)
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = json.loads(raw)
        state = PageState(int(payload["o"]), datetime.fromtimestamp(float(payload["t"]), UTC))
        matches = payload["f"] == fingerprint(request)
    except (ValueError, KeyError, TypeError) as error:
        raise SquareError(
            "INVALID_CURSOR", "The pagination cursor is not valid.", "cursor"
        ) from error
    if not matches:
        raise SquareError(
            "INVALID_CURSOR",
            "The cursor belongs to a different query; resend the original request with the cursor.",
            "cursor",
        )
    if state.offset < 0:
        raise SquareError("INVALID_CURSOR", "The pagination cursor is not valid.", "cursor")
    return state
