"""Posting an alert: JSON to SHELFOPS_ALERT_WEBHOOK_URL when it is set, else a log line.

The URL is a secret (a Slack webhook URL carries its token in the path), so it never appears in a
log line or an error: httpx's own request line is filtered, and failures name only the status or
the kind of error. A post has a short timeout and a few retries (tenacity) on dropped connections,
timeouts, 429 and 5xx; whatever happens, `post_alert` returns and never raises into its caller.
"""

import logging
import os

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)

from shelfops_pipeline.alerts.alert import Alert
from shelfops_pipeline.http.urls import is_loopback

logger = logging.getLogger(__name__)

ALERT_URL_ENV = "SHELFOPS_ALERT_WEBHOOK_URL"
TIMEOUT = httpx.Timeout(5.0, connect=3.0)
ATTEMPTS = 3
HIDDEN_PATH = "/[alert webhook path]"


class UnusableUrl(ValueError):
    """The configured URL cannot be posted to; the message never quotes it."""


def configured_url() -> str | None:
    return os.environ.get(ALERT_URL_ENV, "").strip() or None


def checked(url: str) -> httpx.URL:
    """`url` parsed; https, or plain http only to a loopback host (a test receiver)."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        raise UnusableUrl("it is not a URL") from None
    if parsed.scheme == "https" and parsed.host:
        return parsed
    if parsed.scheme == "http" and is_loopback(parsed.host):
        return parsed
    raise UnusableUrl("it must be an https URL (plain http only to a loopback host)")


def _secret_path() -> str:
    url = configured_url()
    try:
        return httpx.URL(url).path if url else ""
    except httpx.InvalidURL:
        return ""


class HideAlertUrl(logging.Filter):
    """Replaces the alert webhook's path in httpx's request log line (it logs every URL at INFO)."""

    def filter(self, record: logging.LogRecord) -> bool:
        secret = _secret_path()
        if len(secret) > 1 and isinstance(record.args, tuple):
            record.args = tuple(
                str(arg).replace(secret, HIDDEN_PATH) if secret in str(arg) else arg
                for arg in record.args
            )
        return True


logging.getLogger("httpx").addFilter(HideAlertUrl())


def _transient(error: BaseException) -> bool:
    if isinstance(error, httpx.HTTPStatusError):
        return error.response.status_code == 429 or error.response.status_code >= 500
    return isinstance(error, httpx.TransportError)


def _reason(error: BaseException) -> str:
    """What went wrong, without the URL (httpx puts it in HTTPStatusError's message)."""
    if isinstance(error, httpx.HTTPStatusError):
        return f"HTTP {error.response.status_code}"
    return type(error).__name__


def _log_retry(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    logger.warning(
        "alert post attempt %d failed (%s); retrying",
        state.attempt_number,
        _reason(error) if error else "no reply",
    )


def _send(url: httpx.URL, alert: Alert) -> None:
    with httpx.Client(timeout=TIMEOUT, trust_env=False, follow_redirects=False) as client:
        for attempt in Retrying(
            stop=stop_after_attempt(ATTEMPTS),
            wait=wait_random_exponential(multiplier=0.25, max=2.0),
            retry=retry_if_exception(_transient),
            before_sleep=_log_retry,
            reraise=True,
        ):
            with attempt:
                client.post(url, json=alert.body()).raise_for_status()


def post_alert(alert: Alert) -> bool:
    """Post `alert` to the configured webhook (True when it was accepted), or log it.

    Never raises: an alert that cannot be delivered is logged in full instead.
    """
    url = configured_url()
    if url is None:
        logger.log(alert.level, "%s (set %s to post alerts)", alert.text, ALERT_URL_ENV)
        return False
    try:
        _send(checked(url), alert)
    except UnusableUrl as error:
        logger.error("%s is not usable: %s; the alert was: %s", ALERT_URL_ENV, error, alert.text)
        return False
    except Exception as error:  # an alert must never fail the run or sensor that raised it
        logger.error("alert not delivered (%s); it was: %s", _reason(error), alert.text)
        return False
    logger.info("alert posted: %s", alert.title)
    return True
