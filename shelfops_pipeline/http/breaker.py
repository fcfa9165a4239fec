"""Circuit breakers per (source, account): stop calling a provider that keeps failing.

Closed: calls pass; `failure_threshold` consecutive failed attempts (5xx, timeouts, dropped or
garbled replies) open it. Open: calls fail fast with `CircuitOpen` until `cool_down_seconds`
pass. Half-open: one trial call goes through; success closes the circuit, failure reopens it.
Any reply that is not the provider's fault (2xx, 4xx, 429) counts as success. Breakers are kept
per account, so one merchant's outage never blocks or slows another's sync. Listeners hear when a
closed circuit opens (for alerts); a listener that fails is logged and never fails the call.
"""

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from shelfops_pipeline.http.errors import ApiError, CircuitOpen

logger = logging.getLogger(__name__)

Clock = Callable[[], float]


@dataclass(frozen=True)
class CircuitOpened:
    """A closed circuit just opened: which account, after how many failures, the last one."""

    source: str
    account: str
    failures: int
    last_failure: str
    cool_down_seconds: float


OpenListener = Callable[[CircuitOpened], None]


@dataclass(frozen=True)
class BreakerConfig:
    failure_threshold: int = 5
    cool_down_seconds: float = 30.0

    def __post_init__(self) -> None:
        if self.failure_threshold < 1:
            raise ValueError(f"failure_threshold {self.failure_threshold} must be at least 1")
        if self.cool_down_seconds <= 0:
            raise ValueError(f"cool_down_seconds {self.cool_down_seconds} must be > 0")


class CircuitState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """The circuit of one (source, account); thread safe, with an injectable monotonic clock."""

    # Hand-written: no breaker library is among our dependencies, and ours raises CircuitOpen.
    def __init__(
        self,
        source: str,
        account: str,
        config: BreakerConfig | None = None,
        *,
        clock: Clock = time.monotonic,
        on_open: OpenListener | None = None,
    ) -> None:
        self.source = source
        self.account = account
        self.config = config or BreakerConfig()
        self._clock = clock
        self._on_open = on_open
        self._lock = threading.Lock()
        self._state = CircuitState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._trial_running = False
        self._last_failure = ""

    @property
    def state(self) -> CircuitState:
        with self._lock:
            if self._state is CircuitState.OPEN and self._cool_down_left() <= 0:
                return CircuitState.HALF_OPEN
            return self._state

    def admit(self, method: str, path: str) -> None:
        """Let a call through, or raise CircuitOpen naming the account and the last failure."""
        with self._lock:
            if self._state is CircuitState.OPEN:
                if self._cool_down_left() > 0:
                    raise self._refusal(method, path, "open")
                self._state = CircuitState.HALF_OPEN
                self._trial_running = False
                logger.info("%s circuit for account %s half-open", self.source, self.account)
            if self._state is CircuitState.HALF_OPEN:
                if self._trial_running:
                    raise self._refusal(method, path, "half-open with a trial call under way")
                self._trial_running = True

    def record_success(self) -> None:
        with self._lock:
            if self._state is not CircuitState.CLOSED:
                logger.info("%s circuit for account %s closed again", self.source, self.account)
            self._state = CircuitState.CLOSED
            self._failures = 0
            self._trial_running = False

    def record_failure(self, error: ApiError) -> None:
        opened = None
        with self._lock:
            self._failures += 1
            self._last_failure = error.summary
            reopen = self._state is CircuitState.HALF_OPEN
            if reopen or self._failures >= self.config.failure_threshold:
                if self._state is not CircuitState.OPEN:
                    logger.warning(
                        "%s circuit for account %s opened for %.1f s after %d consecutive "
                        "failures; last: %s",
                        self.source,
                        self.account,
                        self.config.cool_down_seconds,
                        self._failures,
                        self._last_failure,
                    )
                if self._state is CircuitState.CLOSED:
                    opened = CircuitOpened(
                        self.source,
                        self.account,
                        self._failures,
                        self._last_failure,
                        self.config.cool_down_seconds,
                    )
                self._state = CircuitState.OPEN
                self._opened_at = self._clock()
                self._trial_running = False
        # Outside the lock: a listener may take its time (an alert post) or call back in.
        if opened is not None and self._on_open is not None:
            self._on_open(opened)

    def release(self) -> None:
        """A call ended without a verdict (cancelled); a half-open circuit may trial again."""
        with self._lock:
            self._trial_running = False

    def _cool_down_left(self) -> float:
        return self._opened_at + self.config.cool_down_seconds - self._clock()

    def _refusal(self, method: str, path: str, how: str) -> CircuitOpen:
        return CircuitOpen(
            source=self.source,
            account=self.account,
            method=method,
            path=path,
            status=None,
            detail=(
                f"not sent: the {self.source} circuit for account {self.account} is {how} after "
                f"{self._failures} consecutive failures"
            ),
            last_failure=self._last_failure,
            half_open_in_seconds=max(0.0, self._cool_down_left()),
        )


class BreakerRegistry:
    """One breaker per (source, account) for the whole process, and who hears them open."""

    def __init__(self, *, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._breakers: dict[tuple[str, str], CircuitBreaker] = {}
        self._listeners: list[OpenListener] = []

    def add_open_listener(self, listener: OpenListener) -> None:
        """Call `listener` whenever one of this registry's closed circuits opens."""
        with self._lock:
            self._listeners.append(listener)

    def remove_open_listener(self, listener: OpenListener) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def _opened(self, event: CircuitOpened) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(event)
            except Exception:  # a listener's failure must not fail the provider call
                logger.exception("an open-circuit listener failed for %s", event.account)

    def breaker(
        self, source: str, account: str, config: BreakerConfig | None = None
    ) -> CircuitBreaker:
        """The breaker for (source, account), made from `config` on first use."""
        with self._lock:
            key = (source, account)
            found = self._breakers.get(key)
            if found is None:
                found = CircuitBreaker(
                    source, account, config, clock=self._clock, on_open=self._opened
                )
                self._breakers[key] = found
            return found


SHARED_BREAKERS = BreakerRegistry()
