"""Deterministic identifiers shaped like the providers' own, derived from the seed and a path."""

import hashlib
import uuid

_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_MIXED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def _digest(seed: int, parts: tuple[object, ...]) -> bytes:
    text = ":".join(str(p) for p in (seed, *parts))
    return hashlib.blake2b(text.encode(), digest_size=32).digest()


def _encode(digest: bytes, alphabet: str, length: int) -> str:
    # One digest byte per character: a slight bias toward early letters is harmless in test ids.
    return "".join(alphabet[byte % len(alphabet)] for byte in digest[:length])


def upper_id(seed: int, length: int, *parts: object) -> str:
    """An id like Square's location, merchant and catalog ids (A-Z, 0-9)."""
    return _encode(_digest(seed, parts), _UPPER, length)


def mixed_id(seed: int, length: int, *parts: object) -> str:
    """An id like Square's order and payment ids (mixed case)."""
    return _encode(_digest(seed, parts), _MIXED, length)


def stable_uuid(seed: int, *parts: object) -> str:
    return str(uuid.UUID(bytes=_digest(seed, parts)[:16], version=4))


def unit_fraction(seed: int, *parts: object) -> float:
    """A deterministic number in [0, 1) for cheap per-object decisions."""
    return int.from_bytes(_digest(seed, parts)[:8], "big") / 2**64


def numeric_id(seed: int, digits: int, *parts: object) -> int:
    """A positive integer id like Shopify's (the number inside `gid://shopify/Order/...`)."""
    number = int.from_bytes(_digest(seed, parts)[:8], "big")
    return 10 ** (digits - 1) + number % (9 * 10 ** (digits - 1))
