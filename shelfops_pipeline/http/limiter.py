"""Client-side rate limits: one token bucket per (source, account, budget), steered by the server.

A bucket holds up to `capacity` tokens and refills at `rate` per second; a call spends `cost`
tokens (1 for REST, the query cost for GraphQL). The server corrects it three ways: a 429 drains
it and, with `Retry-After`, pauses it, so concurrent callers stop too; where no rate is
published (Square) an adaptive bucket slows down on each 429 and creeps back on successes; and
where the server reports its own bucket (Shopify's call-limit header, GraphQL `throttleStatus`)
`observe` adopts that state.
"""

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

logger = logging.getLogger(__name__)

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

TOKEN_EPSILON = 1e-9


@dataclass(frozen=True)
class LimiterConfig:
    """How fast one budget may be spent; `adaptive` learns a lower rate from 429s."""

    rate_per_second: float = 10.0
    capacity: float = 10.0
    adaptive: bool = True
    min_rate_per_second: float = 0.2
    slowdown_factor: float = 0.5
    recovery_per_success: float = 0.02

    def __post_init__(self) -> None:
        if self.rate_per_second <= 0 or self.capacity <= 0:
            raise ValueError(
                f"limiter rate {self.rate_per_second}/s and capacity {self.capacity} must be > 0"
            )
        if not 0 < self.min_rate_per_second <= self.rate_per_second:
            raise ValueError(
                f"minimum rate {self.min_rate_per_second}/s must be in (0, {self.rate_per_second}]"
            )
        if not 0 < self.slowdown_factor < 1:
            raise ValueError(f"slowdown factor {self.slowdown_factor} must be in (0, 1)")
        if self.recovery_per_success < 0:
            raise ValueError(f"recovery per success {self.recovery_per_success} must be >= 0")


@dataclass(frozen=True)
class LimitKey:
    """Whose budget: e.g. ("shopify", "demo-shop", "graphql_points")."""

    source: str
    account: str
    budget: str = "requests"


class TokenBucket:
    """An async token bucket whose rate and fill the server can correct while it runs."""

    # Hand-written: no well-kept library offers a limiter fed by server replies and headers.
    def __init__(
        self, config: LimiterConfig, *, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep
    ) -> None:
        self._config = config
        self._clock = clock
        self._sleep = sleep
        # A thread lock, never held across an await, so one bucket may serve several event loops.
        self._lock = threading.Lock()
        self._ceiling = config.rate_per_second
        self._rate = config.rate_per_second
        self._capacity = config.capacity
        self._tokens = config.capacity
        self._updated = clock()
        self._paused_until = float("-inf")
        self._last_slowdown = float("-inf")

    @property
    def rate(self) -> float:
        return self._rate

    @property
    def capacity(self) -> float:
        return self._capacity

    @property
    def available(self) -> float:
        with self._lock:
            self._refill(self._clock())
            return self._tokens

    async def acquire(self, cost: float = 1.0) -> float:
        """Wait until `cost` tokens are free and spend them; returns the seconds waited.

        A cost above the capacity waits for a full bucket and leaves it in debt.
        """
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                self._refill(now)
                delay = self._paused_until - now
                if delay <= 0:
                    need = min(cost, self._capacity)
                    if self._tokens + TOKEN_EPSILON >= need:
                        self._tokens -= cost
                        return waited
                    delay = (need - self._tokens) / self._rate
            await self._sleep(delay)
            waited += delay

    def throttled(self, retry_after: float | None) -> None:
        """The server refused a call (429): empty the bucket, pause it, and slow down if adaptive."""
        with self._lock:
            now = self._clock()
            self._refill(now)
            self._tokens = min(self._tokens, 0.0)
            if retry_after is not None:
                self._paused_until = max(self._paused_until, now + retry_after)
            # One slowdown per bucket period, so a burst of concurrent 429s counts once.
            if self._config.adaptive and now - self._last_slowdown >= self._capacity / self._rate:
                slower = max(
                    self._config.min_rate_per_second, self._rate * self._config.slowdown_factor
                )
                logger.info("rate limited: slowing from %.2f/s to %.2f/s", self._rate, slower)
                self._rate = slower
                self._last_slowdown = now

    def succeeded(self) -> None:
        """A call went through; an adaptive bucket creeps back towards its configured rate."""
        if not self._config.adaptive:
            return
        with self._lock:
            step = self._ceiling * self._config.recovery_per_success
            self._refill(self._clock())
            self._rate = min(self._ceiling, self._rate + step)

    def observe(
        self, *, available: float, capacity: float, restore_rate: float | None = None
    ) -> None:
        """Adopt the server's view of this bucket: what is left, its size and its refill rate."""
        with self._lock:
            now = self._clock()
            self._refill(now)
            self._capacity = capacity
            if restore_rate is not None and restore_rate > 0:
                self._rate = self._ceiling = restore_rate
            self._tokens = min(available, capacity)

    def _refill(self, now: float) -> None:
        elapsed = max(0.0, now - self._updated)
        self._tokens = min(self._capacity, self._tokens + elapsed * self._rate)
        self._updated = now


class LimiterRegistry:
    """One bucket per key for the whole process, so every client of an account shares it."""

    def __init__(self, *, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep) -> None:
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._buckets: dict[LimitKey, TokenBucket] = {}

    def bucket(self, key: LimitKey, config: LimiterConfig | None = None) -> TokenBucket:
        """The bucket for `key`, made from `config` on first use; later configs are ignored."""
        with self._lock:
            found = self._buckets.get(key)
            if found is None:
                found = TokenBucket(config or LimiterConfig(), clock=self._clock, sleep=self._sleep)
                self._buckets[key] = found
            return found


SHARED_LIMITERS = LimiterRegistry()
