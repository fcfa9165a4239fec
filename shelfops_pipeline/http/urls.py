"""Which base URLs a client may call, and how URLs and texts look once secrets are taken out."""

import ipaddress
import logging
import re
from collections.abc import Iterable

import httpx

LOOPBACK_RULE = "https, or plain http only on loopback (127.0.0.0/8, ::1, localhost)"
REDACTED = "[redacted]"
SECRET_QUERY_KEY = re.compile(r"token|secret|password|passwd|signature|hmac|key|code|auth", re.I)
SHORTEST_SECRET = 4


def check_base_url(base_url: str) -> httpx.URL:
    """The parsed base URL; ValueError unless it is https, or http on a loopback host."""
    try:
        url = httpx.URL(base_url)
    except httpx.InvalidURL as error:
        raise ValueError(f"base URL is not a URL ({error}); expected {LOOPBACK_RULE}") from None
    if not url.host:
        raise ValueError(f"base URL has no host; expected an absolute URL using {LOOPBACK_RULE}")
    if url.scheme == "https" or (url.scheme == "http" and is_loopback(url.host)):
        return url
    raise ValueError(
        f"base URL {url.scheme}://{url.host} is refused: tokens may only travel over "
        f"{LOOPBACK_RULE}"
    )


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def redacted_target(url: httpx.URL) -> str:
    """Path and query of `url`, with the values of secret-looking parameters replaced."""
    if not url.query:
        return url.path
    params = [
        (key, REDACTED if SECRET_QUERY_KEY.search(key) else value)
        for key, value in url.params.multi_items()
    ]
    query = str(httpx.QueryParams(params)).replace("%5Bredacted%5D", REDACTED)
    return f"{url.path}?{query}"


def redacted_url(url: httpx.URL) -> str:
    return f"{url.scheme}://{url.netloc.decode('ascii')}{redacted_target(url)}"


class RedactUrlArguments(logging.Filter):
    """Redacts secret query values in the URL arguments of another library's log records."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                redacted_url(arg) if isinstance(arg, httpx.URL) else arg for arg in record.args
            )
        return True


def scrub(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret (and the token part of `Bearer <token>` values) replaced."""
    for secret in secrets:
        _, _, token = secret.partition(" ")
        for value in (secret, token):
            if len(value) >= SHORTEST_SECRET:
                text = text.replace(value, REDACTED)
    return text
