"""Where secrets may be sent: https anywhere, plain http only to this machine."""

import ipaddress

import httpx

from shelfops_pipeline.credentials.errors import InsecureURL


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def secure_base_url(url: str, what: str) -> str:
    """`url` without a trailing slash; InsecureURL unless it is https or http on loopback."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as error:
        raise InsecureURL(f"the {what} {url!r} is not a URL") from error
    if parsed.userinfo:
        raise InsecureURL(f"the {what} must not carry user info; pass credentials as options")
    if parsed.query or parsed.fragment:
        raise InsecureURL(f"the {what} {url!r} must not carry a query or a fragment")
    if parsed.scheme == "https" and parsed.host:
        return str(parsed).rstrip("/")
    if parsed.scheme == "http" and is_loopback(parsed.host):
        return str(parsed).rstrip("/")
    raise InsecureURL(
        f"refusing the {what} {url!r}: secrets go only to https URLs or to http on loopback "
        "(127.0.0.1, ::1, localhost)"
    )
