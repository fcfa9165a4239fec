"""Parsing the RFC 3339 timestamps providers send: offsets, `Z`, and up to nanosecond fractions."""

from datetime import UTC, datetime


def parse_rfc3339(text: str) -> datetime:
    """An aware UTC datetime; fractions past microseconds are cut, never rounded up a second."""
    value = text.strip()
    if "." in value:
        head, _, rest = value.partition(".")
        digits = len(rest) - len(rest.lstrip("0123456789"))
        value = f"{head}.{rest[:digits][:6].ljust(6, '0')}{rest[digits:]}"
    parsed = datetime.fromisoformat(value.replace("z", "Z"))
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp {text!r} has no UTC offset")
    return parsed.astimezone(UTC)
