"""Counters of what a sync cost in calls, retries and waiting, for Dagster asset metadata."""

import threading
from collections import Counter

METADATA_PREFIX = "http_"


class CallStats:
    """Running totals for one or more clients; safe to share between threads and tasks."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls = 0
        self.requests = 0
        self.retries = 0
        self.throttled = 0
        self.pages = 0
        self.limiter_wait_seconds = 0.0
        self.backoff_wait_seconds = 0.0
        self.errors: Counter[str] = Counter()

    def record_call(self) -> None:
        """One logical call, however many HTTP requests it takes."""
        with self._lock:
            self.calls += 1

    def record_request(self, limiter_wait_seconds: float) -> None:
        """One HTTP request sent, after waiting this long for the rate limiter."""
        with self._lock:
            self.requests += 1
            self.limiter_wait_seconds += limiter_wait_seconds

    def record_retry(self, backoff_seconds: float) -> None:
        with self._lock:
            self.retries += 1
            self.backoff_wait_seconds += backoff_seconds

    def record_throttled(self) -> None:
        with self._lock:
            self.throttled += 1

    def record_error(self, kind: str) -> None:
        """One failed attempt of the given error kind, retried or not."""
        with self._lock:
            self.errors[kind] += 1

    def record_page(self) -> None:
        with self._lock:
            self.pages += 1

    def as_metadata(self) -> dict[str, int | float]:
        """Flat `http_*` counters, ready for `MaterializeResult(metadata=...)`."""
        with self._lock:
            values: dict[str, int | float] = {
                "calls": self.calls,
                "requests": self.requests,
                "retries": self.retries,
                "throttled": self.throttled,
                "pages": self.pages,
                "limiter_wait_seconds": round(self.limiter_wait_seconds, 3),
                "backoff_wait_seconds": round(self.backoff_wait_seconds, 3),
            }
            values.update({f"errors_{kind}": n for kind, n in sorted(self.errors.items())})
        return {METADATA_PREFIX + name: value for name, value in values.items()}
