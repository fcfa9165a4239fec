"""Pausing Python's cycle collector while a partition's pages are decoded, parsed and written.

Decoded JSON (dicts, lists, strings, numbers) and the frozen records parsed from it hold no
reference cycles: reference counting frees each page as soon as it is written. Yet a page of 1000
Square orders allocates a few hundred thousand containers, and each allocation threshold crossed
runs a collector pass, the oldest generation's over the whole process (Dagster's definitions and
instance included), to free nothing. On the benchmark's week of Square orders, those passes took
about 0.55 s of the extract; paused, the collector catches up once when the block ends.
"""

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run the block with the cycle collector off, then turn it back on (a no-op when it is off)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
