"""Shopify's GraphQL leaky bucket: points per app and shop, restored continuously in real time.

A query must find its requested cost in the bucket or it is THROTTLED; once it ran, the
difference between requested and actual cost flows back. The bucket refills on the monotonic
clock, not the sandbox clock: a frozen world still recovers its rate limit.
"""

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ThrottleSettings:
    """The standard plan by default: 2000 points, restoring 100 a second."""

    maximum_available: float = 2000.0
    restore_rate: float = 100.0


class _Bucket:
    def __init__(self, settings: ThrottleSettings, now: float) -> None:
        self.available = settings.maximum_available
        self.updated = now


class ThrottleBuckets:
    """One bucket per (app, shop); thread-safe."""

    def __init__(
        self, settings: ThrottleSettings | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.settings = settings or ThrottleSettings()
        self._clock = clock
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._lock = threading.Lock()

    def _bucket(self, key: tuple[str, str]) -> _Bucket:
        now = self._clock()
        bucket = self._buckets.setdefault(key, _Bucket(self.settings, now))
        elapsed = max(0.0, now - bucket.updated)
        bucket.available = min(
            self.settings.maximum_available, bucket.available + elapsed * self.settings.restore_rate
        )
        bucket.updated = now
        return bucket

    def take(self, key: tuple[str, str], cost: int) -> bool:
        """Take `cost` points if the bucket holds them; False (nothing taken) otherwise."""
        with self._lock:
            bucket = self._bucket(key)
            if bucket.available < cost:
                return False
            bucket.available -= cost
            return True

    def refund(self, key: tuple[str, str], points: int) -> None:
        with self._lock:
            bucket = self._bucket(key)
            bucket.available = min(self.settings.maximum_available, bucket.available + points)

    def status(self, key: tuple[str, str]) -> dict[str, float | int]:
        """`throttleStatus` as Shopify reports it."""
        with self._lock:
            bucket = self._bucket(key)
            return {
                "maximumAvailable": float(self.settings.maximum_available),
                "currentlyAvailable": math.floor(bucket.available),
                "restoreRate": float(self.settings.restore_rate),
            }
