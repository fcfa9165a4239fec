"""When and how long to retry a provider call: one tenacity policy built from `RetryConfig`.

Retried: errors marked `retryable` (timeouts, dropped connections, 5xx, undecodable bodies,
429s). A `Retry-After` the server sent is honoured; otherwise exponential back-off with full
jitter. A 401 is retried once, right after refreshing the token. Everything else (400, 403, 404,
422, an open circuit) fails at once. Retries stop at `max_attempts` or when the next wait would
overrun `max_elapsed_seconds`, and the last error is raised with the attempts it took.
"""

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, wait_random_exponential

from shelfops_pipeline.http.errors import ApiError, AuthRejected
from shelfops_pipeline.http.stats import CallStats

logger = logging.getLogger(__name__)

T = TypeVar("T")
Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]
RefreshAuth = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class RetryConfig:
    """The retry budget of one call: attempts, total time, and the back-off curve."""

    max_attempts: int = 6
    max_elapsed_seconds: float = 300.0
    initial_backoff_seconds: float = 1.0
    max_backoff_seconds: float = 60.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts {self.max_attempts} must be at least 1")
        if self.max_elapsed_seconds <= 0:
            raise ValueError(f"max_elapsed_seconds {self.max_elapsed_seconds} must be > 0")
        if not 0 < self.initial_backoff_seconds <= self.max_backoff_seconds:
            raise ValueError(
                f"back-off must satisfy 0 < initial ({self.initial_backoff_seconds} s) "
                f"<= max ({self.max_backoff_seconds} s)"
            )


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` value (seconds, maybe fractional, or an HTTP date)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        seconds = (moment - (now or datetime.now(UTC))).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def retry_after_from_headers(headers: Mapping[str, str]) -> float | None:
    """The wait a reply asks for: `retry-after-ms` (some SDKs) first, then `Retry-After`."""
    try:
        seconds = float(headers.get("retry-after-ms", "")) / 1000
    except ValueError:
        return parse_retry_after(headers.get("retry-after"))
    return max(0.0, seconds) if math.isfinite(seconds) else None


class RetryPolicy:
    """Runs one call's attempts under the configured budget, logging each retry at WARNING."""

    def __init__(
        self,
        config: RetryConfig | None = None,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.config = config or RetryConfig()
        self._clock = clock
        self._sleep = sleep
        self._backoff = wait_random_exponential(
            multiplier=self.config.initial_backoff_seconds, max=self.config.max_backoff_seconds
        )

    async def run(
        self,
        attempt: Callable[[int], Awaitable[T]],
        *,
        label: str,
        stats: CallStats,
        refresh_auth: RefreshAuth | None = None,
    ) -> T:
        """`await attempt(n)` for n = 1, 2, ... until it succeeds or the budget is spent."""
        start = self._clock()
        attempts = 0
        refresh = _OneRefresh(refresh_auth)

        async def counted() -> T:
            nonlocal attempts
            attempts += 1
            await refresh.run_if_due()
            return await attempt(attempts)

        def stop(state: RetryCallState) -> bool:
            elapsed = self._clock() - start
            return (
                state.attempt_number >= self.config.max_attempts
                or elapsed + state.upcoming_sleep > self.config.max_elapsed_seconds
            )

        def log_retry(state: RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome else None
            stats.record_retry(state.upcoming_sleep)
            logger.warning(
                "%s: attempt %d of %d failed (%s); retrying in %.2f s",
                label,
                state.attempt_number,
                self.config.max_attempts,
                error.summary if isinstance(error, ApiError) else repr(error),
                state.upcoming_sleep,
            )

        retrying = AsyncRetrying(
            retry=retry_if_exception(refresh.should_retry),
            wait=self._wait,
            stop=stop,
            before_sleep=log_retry,
            sleep=self._sleep,
            reraise=True,
        )
        try:
            return await retrying(counted)
        except ApiError as error:
            error.attempts = attempts
            error.elapsed_seconds = self._clock() - start
            if refresh.spent and isinstance(error, AuthRejected) and error.status == 401:
                error.detail += " (refused again after refreshing the token)"
            raise

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, AuthRejected):
            return 0.0
        if isinstance(error, ApiError) and error.retry_after is not None:
            return error.retry_after
        return float(self._backoff(state))


class _OneRefresh:
    """Allows exactly one token refresh per call, run just before the attempt that follows a 401."""

    def __init__(self, refresh_auth: RefreshAuth | None) -> None:
        self._refresh_auth = refresh_auth
        self._due = False
        self.spent = False

    def should_retry(self, error: BaseException) -> bool:
        if isinstance(error, AuthRejected) and error.status == 401:
            if self._refresh_auth is None or self.spent:
                return False
            self._due = self.spent = True
            return True
        return isinstance(error, ApiError) and error.retryable

    async def run_if_due(self) -> None:
        if self._due and self._refresh_auth is not None:
            self._due = False
            await self._refresh_auth()
