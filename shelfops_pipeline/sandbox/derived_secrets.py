"""Secrets derived from the world seed, so a seeded sandbox hands out the same credentials on
every run (and a different seed, different ones)."""

import hashlib
import hmac


def derived_secret_bytes(seed: int, purpose: str) -> bytes:
    """64 bytes that only this seed and purpose produce; callers format them as they need."""
    key = f"shelfops-sandbox-seed:{seed}".encode()
    return hmac.new(key, purpose.encode(), hashlib.sha512).digest()
