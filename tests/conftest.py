"""Shared fixtures: a small seeded sandbox, frozen in time, served over real loopback HTTP; a fresh
SHELFOPS_HOME with its own encryption key."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import credential_helpers
import httpx
import pytest
import shopify_oauth_helpers

from shelfops_pipeline.credentials.keys import generate_key
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


@pytest.fixture
def home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A fresh SHELFOPS_HOME with its own encryption key, and none of the provider variables the
    environment may hold. Modules that want it for every test say `usefixtures("home")`."""
    path = tmp_path / "home"
    credential_helpers.isolate(monkeypatch, path)
    shopify_oauth_helpers.isolate(monkeypatch, path)
    monkeypatch.setenv("SHELFOPS_ENCRYPTION_KEYS", generate_key())
    return path


@pytest.fixture(scope="session")
def small_sandbox() -> Iterator[Running]:
    sandbox = build_sandbox(SandboxSettings(seed=SEED, scale="small", frozen_at=FROZEN_NOW))
    with serve_in_thread(sandbox.app) as base_url:
        yield Running(sandbox, base_url)
