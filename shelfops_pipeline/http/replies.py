"""What one exchange meant: a usable reply, or which ApiError with which detail.

Statuses map onto the hierarchy in `errors`; the detail is the provider's own words (Square's
`errors[].code/detail`, Shopify's `errors` string or field map, OAuth's `error_description`),
cut short and with the caller's secrets scrubbed out. A failed exchange with no reply (timeout,
refused or dropped connection, broken encoding) gets a detail saying which.
"""

from dataclasses import dataclass
from typing import Any

import httpx

from shelfops_pipeline.http.errors import (
    ApiError,
    AuthRejected,
    BadRequest,
    NotFound,
    PayloadInvalid,
    RateLimited,
    UpstreamUnavailable,
)
from shelfops_pipeline.http.retry import retry_after_from_headers
from shelfops_pipeline.http.urls import scrub

DETAIL_LIMIT = 300
RETRY_AFTER_STATUSES = (429, 503)
RETRIED_TRANSPORT_ERRORS = (httpx.NetworkError, httpx.RemoteProtocolError, httpx.ProxyError)


@dataclass(frozen=True)
class Verdict:
    """The error an exchange ends in, before it is given its call's source, account and path."""

    error_class: type[ApiError]
    status: int | None
    detail: str
    retry_after: float | None = None


def reply_verdict(response: httpx.Response, secrets: list[str]) -> Verdict:
    """The error a non-2xx reply stands for; 408 and 5xx are the provider's trouble, not ours."""
    status = response.status_code
    retry_after = None
    if status in RETRY_AFTER_STATUSES:
        retry_after = retry_after_from_headers(response.headers)
    detail = scrub(describe_error_reply(response), secrets)
    return Verdict(error_class_for_status(status), status, detail, retry_after)


def exchange_verdict(
    error: httpx.HTTPError, kind: str, timeout: httpx.Timeout, secrets: list[str]
) -> Verdict:
    """The error an exchange that got no usable reply stands for."""
    name = type(error).__name__
    if isinstance(error, httpx.ConnectTimeout):
        detail = f"no connection within {timeout.connect:g} s ({name})"
        return Verdict(UpstreamUnavailable, None, detail)
    if isinstance(error, httpx.TimeoutException):
        detail = f"no reply within the {kind} timeout of {timeout.read:g} s ({name})"
        return Verdict(UpstreamUnavailable, None, detail)
    if isinstance(error, RETRIED_TRANSPORT_ERRORS):
        detail = f"connection failed ({name}: {scrub(str(error), secrets)})"
        return Verdict(UpstreamUnavailable, None, detail)
    if isinstance(error, httpx.DecodingError):
        return Verdict(PayloadInvalid, None, f"the body could not be decoded ({name})")
    detail = f"the request could not be sent ({name}: {scrub(str(error), secrets)})"
    return Verdict(BadRequest, None, detail)


def error_class_for_status(status: int) -> type[ApiError]:
    if status == 429:
        return RateLimited
    if status in (401, 403):
        return AuthRejected
    if status == 404:
        return NotFound
    if status == 408 or status >= 500:
        return UpstreamUnavailable
    return BadRequest


def describe_error_reply(response: httpx.Response) -> str:
    """The provider's own words for a failed reply, cut to a log-friendly length."""
    try:
        body = response.json()
    except ValueError:
        body = None
    detail = _detail_from_body(body) or response.reason_phrase or "no detail given"
    return detail if len(detail) <= DETAIL_LIMIT else detail[: DETAIL_LIMIT - 1] + "…"


def _detail_from_body(body: Any) -> str:
    if not isinstance(body, dict):
        return ""
    errors = body.get("errors")
    if isinstance(errors, str):
        return errors
    if isinstance(errors, dict):
        return "; ".join(f"{field}: {_joined(message)}" for field, message in errors.items())
    if isinstance(errors, list):
        return "; ".join(_describe_one(error) for error in errors[:3])
    if isinstance(body.get("error"), str):
        return ": ".join(
            str(part) for part in (body["error"], body.get("error_description")) if part
        )
    return ""


def _joined(message: Any) -> str:
    return ", ".join(map(str, message)) if isinstance(message, list) else str(message)


def _describe_one(error: Any) -> str:
    if not isinstance(error, dict):
        return str(error)
    extensions = error.get("extensions")
    code = error.get("code") or (extensions.get("code") if isinstance(extensions, dict) else None)
    text = error.get("detail") or error.get("message") or ""
    return f"{code}: {text}" if code and text else str(code or text)
