"""RFC 3339 timestamps as the providers write them, and parsing of the ones clients send."""

from datetime import UTC, datetime

from shelfops_pipeline.sandbox.world.ids import unit_fraction
from shelfops_pipeline.timestamps import parse_rfc3339

__all__ = ["parse_rfc3339", "rfc3339", "varied_precision"]


def rfc3339(at: datetime, precision: int = 3) -> str:
    """UTC with 0, 3, 6 or 9 fraction digits, e.g. 2026-05-03T15:04:09.730Z."""
    base = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    micros = f"{at.microsecond:06d}"
    fraction = {0: "", 3: micros[:3], 6: micros, 9: micros + "000"}[precision]
    return f"{base}.{fraction}Z" if fraction else f"{base}Z"


def varied_precision(seed: int, key: str) -> int:
    """Square's replies mix precisions; each object keeps one, chosen by its id."""
    roll = unit_fraction(seed, "precision", key)
    return 3 if roll < 0.6 else 0 if roll < 0.75 else 6 if roll < 0.9 else 9
