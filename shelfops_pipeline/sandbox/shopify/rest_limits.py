"""The REST Admin API's leaky bucket: per app and shop, 40 requests leaking 2 per second on the
standard plan (api-notes section 7).

Every call pours one request in; a call that does not fit gets 429 with Shopify's body and a
fractional `Retry-After`. Shopify sends the same Retry-After on every 429, the leak rate's
figure (`2.0` on the standard plan; `4.0` was measured on Advanced, 80 at 4 per second), and
leaves `X-Shopify-Shop-Api-Call-Limit` off the 429.
"""

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from shelfops_pipeline.sandbox.shopify.admin_errors import AdminApiError

CALL_LIMIT_HEADER = "X-Shopify-Shop-Api-Call-Limit"


@dataclass(frozen=True)
class RestLimits:
    """A plan's REST bucket: how many requests it holds and how many leak out per second."""

    bucket_size: int = 40
    leak_per_second: float = 2.0

    def __post_init__(self) -> None:
        if self.bucket_size < 1 or self.leak_per_second <= 0:
            raise ValueError("a REST bucket needs a size >= 1 and a positive leak rate")


class _Bucket:
    def __init__(self, now: float) -> None:
        self.level = 0.0
        self.updated = now


class RestCallLimiter:
    """One leaky bucket per (app, shop); safe to share between server threads."""

    # Hand-written: none of our dependencies ships a leaky bucket, and this is a dozen lines.
    def __init__(
        self, limits: RestLimits | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limits = limits or RestLimits()
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str], _Bucket] = {}

    def pour(self, app_id: str, shop: str) -> dict[str, str]:
        """Count one call; the header to send with it, or AdminApiError 429 when it spills."""
        limits = self.limits
        now = self._clock()
        with self._lock:
            bucket = self._buckets.setdefault((app_id, shop), _Bucket(now))
            bucket.level = max(0.0, bucket.level - (now - bucket.updated) * limits.leak_per_second)
            bucket.updated = now
            if bucket.level + 1 > limits.bucket_size:
                raise self._spilled()
            bucket.level += 1
            used = min(limits.bucket_size, math.ceil(bucket.level))
        return {CALL_LIMIT_HEADER: f"{used}/{limits.bucket_size}"}

    def _spilled(self) -> AdminApiError:
        rate = self.limits.leak_per_second
        message = (
            f"Exceeded {rate:g} calls per second for api client. "
            "Reduce request rates to resume uninterrupted service."
        )
        return AdminApiError(429, message, headers={"Retry-After": f"{rate:.1f}"})
