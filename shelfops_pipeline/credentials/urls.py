"""Where secrets may be sent: https anywhere, plain http only to this machine."""

import ipaddress
import re

import httpx

from shelfops_pipeline.credentials.errors import InsecureURL

# One DNS label (RFC 1123): letters, digits and inner hyphens, at most 63 characters.
HOST_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_host_name(host: str) -> bool:
    """An IP address, or a DNS name (IDNA-encoded, as httpx keeps it) no client would refuse."""
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    labels = host.removesuffix(".").split(".")
    return len(host) <= 253 and all(HOST_LABEL.fullmatch(label) for label in labels)


def refuse_user_info(url: str, what: str) -> None:
    """InsecureURL for a URL with user info (an '@'), without echoing it: it may hold a
    password."""
    if "@" in url:
        raise InsecureURL(f"the {what} must not carry user info; pass credentials as options")


def http_url_problem(url: str) -> str | None:
    """What keeps `url` from being an http(s) URL a client can reach, as the end of a sentence
    about it; None when nothing does."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return "is not a URL, e.g. https://example.com"
    if parsed.scheme not in ("http", "https") or not parsed.host:
        return "is not an http(s) URL, e.g. https://example.com"
    if not is_host_name(parsed.raw_host.decode("ascii")):
        return "has no valid host name; give letters, digits, hyphens and dots, or an IP address"
    if parsed.port is not None and not 1 <= parsed.port <= 65535:
        return f"has port {parsed.port}; give one from 1 to 65535"
    return None


def secure_base_url(url: str, what: str) -> str:
    """`url` without a trailing slash; InsecureURL unless it is https or http on loopback."""
    refuse_user_info(url, what)
    problem = http_url_problem(url)
    if problem is not None:
        raise InsecureURL(f"the {what} {url!r} {problem}")
    parsed = httpx.URL(url)
    if any(mark in str(parsed) for mark in "?#"):  # even an empty one would end up in paths
        raise InsecureURL(f"the {what} {url!r} must not carry a query or a fragment")
    if parsed.scheme == "https" or is_loopback(parsed.host):
        return str(parsed).rstrip("/")
    raise InsecureURL(
        f"refusing the {what} {url!r}: secrets go only to https URLs or to http on loopback "
        "(127.0.0.1, ::1, localhost)"
    )
