"""The live feeds' tick loop: a tick whose events cannot be built is logged, and the next tick
asks again for the whole window since the last tick that succeeded, so no event is skipped."""

import asyncio
import logging
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import pytest

from shelfops_pipeline.sandbox.webhook_delivery import WebhookMessage, event_batches

START = datetime(2026, 11, 5, 18, 30, tzinfo=UTC)


def test_a_failed_tick_is_retried_over_the_whole_window(caplog: pytest.LogCaptureFixture) -> None:
    ticks = iter(START + timedelta(seconds=5 * n) for n in range(10))
    asked: list[tuple[datetime, datetime]] = []

    def source(start: datetime, end: datetime) -> Iterable[WebhookMessage]:
        asked.append((start, end))
        if len(asked) == 1:
            raise ValueError("the world could not build this window")
        return []

    async def two_batches() -> None:
        batches = event_batches(source, lambda: next(ticks), interval_seconds=0)
        await anext(batches)
        await anext(batches)
        await batches.aclose()

    with caplog.at_level(logging.ERROR):
        asyncio.run(two_batches())
    first, second, third = (START + timedelta(seconds=5 * n) for n in range(1, 4))
    assert asked == [(START, first), (START, second), (second, third)]
    assert "could not be built" in caplog.text
