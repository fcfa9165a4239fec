"""The Square client over the shared HTTP layer pulls exactly the seeded world, faults or not."""

import asyncio
import json
from collections.abc import Mapping
from datetime import timedelta

import httpx
import pytest
from conftest import FROZEN_NOW, SEED

from shelfops_pipeline.http.client import Timeouts
from shelfops_pipeline.http.errors import AuthRejected
from shelfops_pipeline.http.retry import RetryConfig, RetryPolicy
from shelfops_pipeline.http.stats import CallStats
from shelfops_pipeline.sandbox.faults import FaultConfig
from shelfops_pipeline.sandbox.runner import serve_in_thread
from shelfops_pipeline.sandbox.server import Sandbox, build_sandbox
from shelfops_pipeline.sandbox.settings import SandboxSettings
from shelfops_pipeline.sources.square.client import SquareClient, square_api_client

EVERY_FAULT = FaultConfig(
    error_500=0.02, error_502=0.02, error_503=0.02, burst_429=0.01, burst_length=2,
    slow=0.01, slow_seconds=3.0, drop=0.01, truncate=0.01,
)  # fmt: skip
FAST_RETRY = RetryPolicy(
    RetryConfig(max_attempts=8, initial_backoff_seconds=0.01, max_backoff_seconds=0.2)
)


async def _pull(
    sandbox: Sandbox, base_url: str, merchant: str, stats: CallStats
) -> dict[str, object]:
    token = sandbox.tokens.personal_tokens()[merchant]

    async def auth() -> Mapping[str, str]:
        return {"Authorization": f"Bearer {token}"}

    api = square_api_client(
        f"{base_url}/square", merchant, auth, retry=FAST_RETRY, stats=stats,
        timeouts=Timeouts(read=1.0),
    )  # fmt: skip
    async with api:
        client = SquareClient(api, page_size=20)
        locations = await client.locations()
        ids = [loc.id for loc in locations]
        items = [i async for page in client.catalog_changes(None) for i in page]
        counts = [c async for page in client.inventory_counts(ids) for c in page]
        start = sandbox.world.history_start
        orders = [
            o async for page in client.orders(ids, "updated_at", start, FROZEN_NOW) for o in page
        ]
        changes = [
            c async for page in client.inventory_changes(ids, FROZEN_NOW - timedelta(hours=6), FROZEN_NOW)
            for c in page
        ]  # fmt: skip
        again = await client.orders_by_id([o.id for o in orders[:150]] + ["unknown"])
    return {
        "locations": sorted(loc.id for loc in locations),
        "items": sorted((i.id, i.is_deleted, len(i.variations)) for i in items),
        "counts": sorted((c.variation_id, c.location_id, c.quantity) for c in counts),
        "orders": sorted(
            (o.id, o.state, len(o.line_items), len(o.return_line_items)) for o in orders
        ),
        "changes": sorted(c.id for c in changes),
        "again": sorted(o.id for o in again),
    }


def _serve(faults: FaultConfig) -> tuple[Sandbox, object]:
    sandbox = build_sandbox(
        SandboxSettings(seed=SEED, scale="small", frozen_at=FROZEN_NOW, faults=faults)
    )
    return sandbox, serve_in_thread(sandbox.app)


def test_a_full_pull_equals_the_world_and_survives_ten_percent_faults() -> None:
    clean, clean_server = _serve(FaultConfig())
    merchant = clean.world.square_merchants[0]
    with clean_server as base_url:  # type: ignore[attr-defined]
        expected = asyncio.run(_pull(clean, base_url, merchant, CallStats()))
    world = clean.world
    live = {i.id for i in world.items(merchant) if i.created_at <= FROZEN_NOW}
    assert {i for i, _, _ in expected["items"]} == live  # type: ignore[union-attr]
    assert len(expected["orders"]) > 300 and len(expected["again"]) == 150  # type: ignore[arg-type]

    faulty, faulty_server = _serve(EVERY_FAULT)
    stats = CallStats()
    with faulty_server as base_url:  # type: ignore[attr-defined]
        got = asyncio.run(_pull(faulty, base_url, merchant, stats))
        log = faulty.fault_log.counts()
    assert got == expected
    assert sum(log.values()) > 0 and stats.retries >= sum(log.values())


def test_a_revoked_token_is_one_clear_error() -> None:
    sandbox, server = _serve(FaultConfig())
    merchant = sandbox.world.square_merchants[0]

    async def auth() -> Mapping[str, str]:
        return {"Authorization": "Bearer EAAAnot-a-real-token"}

    async def call(base_url: str) -> None:
        async with square_api_client(f"{base_url}/square", merchant, auth, retry=FAST_RETRY) as api:
            await SquareClient(api).locations()

    with server as base_url, pytest.raises(AuthRejected) as caught:  # type: ignore[attr-defined]
        asyncio.run(call(base_url))
    message = str(caught.value)
    assert merchant in message and "401" in message and "not-a-real-token" not in message


def test_orders_search_sends_at_most_ten_locations_per_request() -> None:

    seen: list[list[str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        seen.append(body["location_ids"])
        assert body["query"]["sort"]["sort_field"] == "CLOSED_AT"
        return httpx.Response(200, json={})

    async def pull() -> None:
        async def auth() -> Mapping[str, str]:
            return {"Authorization": "Bearer t"}

        transport = httpx.MockTransport(handler)
        async with square_api_client(
            "https://connect.squareup.com", "M1", auth, transport=transport
        ) as api:
            start = FROZEN_NOW - timedelta(days=1)
            async for _ in SquareClient(api).orders(
                [f"L{i}" for i in range(23)], "closed_at", start, FROZEN_NOW
            ):
                pass

    asyncio.run(pull())
    assert [len(ids) for ids in seen] == [10, 10, 3]
