"""Shared fixtures: a small seeded sandbox, frozen in time, served over real loopback HTTP."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from shelfops_pipeline.sandbox.clock import SandboxClock
from shelfops_pipeline.sandbox.runner import serve_in_thread
from shelfops_pipeline.sandbox.server import Sandbox, build_sandbox
from shelfops_pipeline.sandbox.settings import SandboxSettings

# Ten days of history up to here hold both the European (Oct 25) and US (Nov 1) clock changes.
FROZEN_NOW = datetime(2026, 11, 5, 18, 30, tzinfo=UTC)
SEED = 11


@dataclass
class Running:
    sandbox: Sandbox
    base_url: str

    def client(self, merchant_index: int = 0, **headers: str) -> httpx.Client:
        merchant = self.sandbox.world.square_merchants[merchant_index]
        token = self.sandbox.tokens.personal_tokens()[merchant]
        return httpx.Client(
            base_url=f"{self.base_url}/square",
            headers={"Authorization": f"Bearer {token}", "Square-Version": "2025-08-20", **headers},
            timeout=30,
        )


@pytest.fixture(scope="session")
def small_sandbox() -> Iterator[Running]:
    sandbox = build_sandbox(SandboxSettings(seed=SEED, scale="small", frozen_at=FROZEN_NOW))
    with serve_in_thread(sandbox.app) as base_url:
        yield Running(sandbox, base_url)


class MovableClock(SandboxClock):
    """A frozen sandbox clock the test moves (by default starting at the real now)."""

    def __init__(self, start: datetime | None = None) -> None:
        moment = start or datetime.now(UTC)
        super().__init__(moment)
        self.moment = moment

    def now(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)
