"""Deliver signed webhooks the way a provider does: POST, retry on a schedule, sometimes twice.

Provider-neutral: a signer supplies the provider's headers (signature, retry markers) and a
schedule its retry timing; the engine owns attempts, timeouts, duplicates and the counts.
"""

import asyncio
import contextlib
import enum
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Protocol, Self

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_before_delay

from shelfops_pipeline.sandbox.world.ids import unit_fraction

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class WebhookMessage:
    """One event ready to send: the exact bytes that get signed and posted, and facts about the
    event (its account, when it happened) that the provider's signer writes into headers."""

    event_id: str
    topic: str
    body: bytes
    attributes: Mapping[str, str] = field(default_factory=dict)


class Failure(enum.Enum):
    """Why an attempt was not acknowledged; signers turn it into the provider's retry reason."""

    HTTP_ERROR = "http_error"
    TIMEOUT = "timeout"
    CONNECTION_ERROR = "connection_error"


@dataclass(frozen=True)
class DeliveryAttempt:
    """One POST of a message: the original (retry 0), a retry, or a duplicate of the original."""

    message: WebhookMessage
    retry_number: int
    retry_reason: Failure | None
    first_attempt_at: datetime


class WebhookSigner(Protocol):
    """The provider's headers for one attempt, signature included."""

    def headers(self, attempt: DeliveryAttempt) -> dict[str, str]: ...


@dataclass(frozen=True)
class RetrySchedule:
    """Waits between attempts, in units of `unit_seconds`, and how long retrying goes on.

    Retry k waits `first_delays[k - 1]` units after the previous attempt, then `then_every`
    units each; no retry starts later than `horizon` units after the original.
    """

    first_delays: tuple[float, ...]
    then_every: float
    horizon: float
    unit_seconds: float

    def delay_seconds(self, retry_number: int) -> float:
        units = (
            self.first_delays[retry_number - 1]
            if retry_number <= len(self.first_delays)
            else self.then_every
        )
        return units * self.unit_seconds

    @property
    def horizon_seconds(self) -> float:
        return self.horizon * self.unit_seconds


@dataclass(frozen=True)
class DeliveryConfig:
    """Where to deliver and how patiently; `seed` makes the duplicate deliveries repeatable."""

    target_url: str
    schedule: RetrySchedule
    timeout_seconds: float = 10.0
    duplicate_rate: float = 0.0
    seed: int = 0
    max_in_flight: int = 8


@dataclass(frozen=True)
class DeliveryStats:
    """Counts so far: events acknowledged, retry attempts, duplicate sends, events abandoned."""

    submitted: int = 0
    delivered: int = 0
    retried: int = 0
    duplicates: int = 0
    given_up: int = 0

    @property
    def unacknowledged(self) -> int:
        """Events given up on or still waiting for an acknowledgement."""
        return self.submitted - self.delivered

    def summary(self) -> str:
        return (
            f"{self.submitted} events: {self.delivered} delivered, {self.retried} retried, "
            f"{self.duplicates} duplicates, {self.given_up} given up, "
            f"{self.unacknowledged - self.given_up} still pending"
        )


@dataclass(frozen=True)
class _Outcome:
    acknowledged: bool
    failure: Failure | None
    description: str


class _Unacknowledged(Exception):
    """An attempt failed; tenacity retries on it until the schedule's horizon."""


def utc_now() -> datetime:
    return datetime.now(UTC)


class WebhookDispatcher:
    """Delivers submitted messages concurrently to one endpoint until each is acknowledged or
    abandoned. Use as an async context manager; leaving it cancels unfinished deliveries."""

    def __init__(
        self,
        config: DeliveryConfig,
        signer: WebhookSigner,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._config = config
        self._signer = signer
        self._clock = clock
        self._slots = asyncio.Semaphore(config.max_in_flight)
        self._tasks: set[asyncio.Task[None]] = set()
        self._client: httpx.AsyncClient | None = None
        self._counts = {name: 0 for name in DeliveryStats.__dataclass_fields__}

    async def __aenter__(self) -> Self:
        # Redirects are not followed: Square counts a 3xx as a failed delivery.
        self._client = httpx.AsyncClient(
            timeout=self._config.timeout_seconds, follow_redirects=False
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()

    @property
    def stats(self) -> DeliveryStats:
        return DeliveryStats(**self._counts)

    def submit(self, message: WebhookMessage) -> None:
        """Start delivering `message` in the background."""
        self._counts["submitted"] += 1
        task = asyncio.create_task(self._deliver(message), name=f"webhook-{message.event_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def wait(self, timeout_seconds: float | None = None) -> bool:
        """Wait until every submitted message is settled; False if `timeout_seconds` ran out."""
        if not self._tasks:
            return True
        _, pending = await asyncio.wait(set(self._tasks), timeout=timeout_seconds)
        return not pending

    async def _deliver(self, message: WebhookMessage) -> None:
        first_attempt_at = self._clock()
        last_failure: Failure | None = None
        retrying = AsyncRetrying(
            wait=self._wait_seconds,
            stop=stop_before_delay(self._config.schedule.horizon_seconds),
            retry=retry_if_exception_type(_Unacknowledged),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    retry_number = attempt.retry_state.attempt_number - 1
                    outcome = await self._post(
                        DeliveryAttempt(message, retry_number, last_failure, first_attempt_at)
                    )
                    if retry_number:
                        self._counts["retried"] += 1
                    if not outcome.acknowledged:
                        last_failure = outcome.failure
                        raise _Unacknowledged(outcome.description)
        except _Unacknowledged as failure:
            self._counts["given_up"] += 1
            logger.warning(
                "webhook %s %s given up after the retry horizon: %s",
                message.topic,
                message.event_id,
                failure,
            )
            return
        self._counts["delivered"] += 1
        if self._sends_duplicate(message):
            self._counts["duplicates"] += 1
            await self._post(DeliveryAttempt(message, 0, None, first_attempt_at), duplicate=True)

    def _wait_seconds(self, state: RetryCallState) -> float:
        return self._config.schedule.delay_seconds(state.attempt_number)

    def _sends_duplicate(self, message: WebhookMessage) -> bool:
        roll = unit_fraction(self._config.seed, "duplicate-delivery", message.event_id)
        return roll < self._config.duplicate_rate

    async def _post(self, attempt: DeliveryAttempt, duplicate: bool = False) -> _Outcome:
        if self._client is None:
            raise RuntimeError("WebhookDispatcher must be entered with `async with` first")
        headers = self._signer.headers(attempt)
        timeout = self._config.timeout_seconds
        async with self._slots:
            try:
                # httpx's timeout bounds each phase; the provider's limit is on the whole reply.
                async with asyncio.timeout(timeout):
                    response = await self._client.post(
                        self._config.target_url, content=attempt.message.body, headers=headers
                    )
            except (TimeoutError, httpx.TimeoutException):
                outcome = _Outcome(False, Failure.TIMEOUT, f"no reply within {timeout:g} s")
            except httpx.TransportError as error:
                outcome = _Outcome(
                    False, Failure.CONNECTION_ERROR, f"connection error ({type(error).__name__})"
                )
            else:
                acknowledged = response.is_success
                failure = None if acknowledged else Failure.HTTP_ERROR
                outcome = _Outcome(acknowledged, failure, f"HTTP {response.status_code}")
        logger.info(
            "webhook %s %s attempt %d%s: %s",
            attempt.message.topic,
            attempt.message.event_id,
            attempt.retry_number + 1,
            " (duplicate)" if duplicate else "",
            outcome.description,
        )
        return outcome


async def deliver_all(
    messages: Iterable[WebhookMessage],
    config: DeliveryConfig,
    signer: WebhookSigner,
    clock: Callable[[], datetime] = utc_now,
    max_wait_seconds: float | None = None,
) -> DeliveryStats:
    """Send every message and wait until all are settled or `max_wait_seconds` has passed."""
    async with WebhookDispatcher(config, signer, clock) as dispatcher:
        for message in messages:
            dispatcher.submit(message)
        await dispatcher.wait(max_wait_seconds)
        return dispatcher.stats


MessageSource = Callable[[datetime, datetime], Iterable[WebhookMessage]]


@dataclass(frozen=True)
class LiveWebhooks:
    """A live feed: every `interval_seconds`, the events of (last tick, now] go to the target."""

    config: DeliveryConfig
    signer: WebhookSigner
    interval_seconds: float = 5.0


async def event_batches(
    source: MessageSource, clock: Callable[[], datetime], interval_seconds: float
) -> AsyncIterator[list[WebhookMessage]]:
    """Every `interval_seconds`, the events of (last tick, now]; forever, until cancelled."""
    last = clock()
    while True:
        await asyncio.sleep(interval_seconds)
        now = clock()
        try:
            messages = list(source(last, now))
        except Exception:
            # A bad tick must not stop the feed (or the server hosting it); the next tick retries.
            logger.exception("webhook events for (%s, %s] could not be built", last, now)
            continue
        yield messages
        last = now


async def _trickle(
    source: MessageSource,
    dispatcher: WebhookDispatcher,
    clock: Callable[[], datetime],
    interval_seconds: float,
) -> None:
    async for messages in event_batches(source, clock, interval_seconds):
        for message in messages:
            dispatcher.submit(message)


@contextlib.asynccontextmanager
async def live_webhooks(
    source: MessageSource, live: LiveWebhooks, clock: Callable[[], datetime]
) -> AsyncIterator[WebhookDispatcher]:
    """Run the live feed in the background while the block runs (e.g. a server's lifespan)."""
    async with WebhookDispatcher(live.config, live.signer, clock) as dispatcher:
        task = asyncio.create_task(
            _trickle(source, dispatcher, clock, live.interval_seconds), name="webhook-trickle"
        )
        logger.info("live webhooks to %s every %g s", live.config.target_url, live.interval_seconds)
        try:
            yield dispatcher
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            logger.info("live webhooks stopped: %s", dispatcher.stats.summary())
