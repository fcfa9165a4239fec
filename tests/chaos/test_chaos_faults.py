"""Faults: the whole warehouse (stores, catalog, stock and sales of every customer, from Square and
Shopify) built through a sandbox that fails one request in ten, with every kind of fault it knows,
equals the warehouse built through a faultless one; and a shop that is down for the whole sync
fails that customer's partitions, each saying why, while every other customer's complete.

Each build is the backfill `shelfops sync` runs (`run_plan`: one Dagster run per partition, checks
included) over the same seeded world, with pages of six so the sync makes hundreds of calls. The
short form (`make test`) builds two business days and shrinks the retry back-off to tens of
milliseconds, as tests/test_http_sandbox_faults.py does; the full form (`make chaos`) builds every
business day, exporting the old ones in bulk, under the resources' own back-off. Where the HTTP
layer's own fault tests stop (one merchant's pull), these carry on through mapping, the lake,
the checks and DuckDB.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import httpx
import pytest
from chaos_scale import scaled
from conftest import FROZEN_NOW
from warehouse_helpers import Lakehouse, connect_shops, lakehouse

from shelfops_pipeline.http.breaker import SHARED_BREAKERS
from shelfops_pipeline.http.retry import RetryConfig, RetryPolicy
from shelfops_pipeline.sandbox.faults import FaultConfig, Outage
from shelfops_pipeline.sandbox.faults.config import RANDOM_KINDS
from shelfops_pipeline.sources.shopify.assets import shopify_assets, shopify_reader
from shelfops_pipeline.sources.shopify.resources import ShopifyResource
from shelfops_pipeline.sources.square.assets import square_assets, square_reader
from shelfops_pipeline.sources.square.resources import SquareResource
from shelfops_pipeline.warehouse.assets import build_unified_assets
from shelfops_pipeline.warehouse.checks import build_unified_checks
from shelfops_pipeline.warehouse.duckdb_views import TABLES
from shelfops_pipeline.warehouse.jobs import warehouse_jobs
from shelfops_pipeline.warehouse.schedules import hour_key, last_complete_hour
from shelfops_pipeline.warehouse.sync import PartitionOutcome, PartitionRequest, plan, run_plan

pytestmark = pytest.mark.chaos

FAULT_RATE = 0.10
PAGE_SIZE = 6
READERS = [square_reader, shopify_reader]
LAST_HOUR = last_complete_hour(FROZEN_NOW)
# Every call may meet a 429 burst (five in a row) and another fault or two after it.
PATIENT = {"max_attempts": 12, "read_timeout_seconds": 1.0}
QUICK_BACKOFF = RetryConfig(max_attempts=12, initial_backoff_seconds=0.01, max_backoff_seconds=0.2)
# Paged, or (full form) bulk exports for the days older than the op's default week.
ORDERS = {"transactions": {"ops": {"shopify__orders": {"config": {"bulk_after_days": 10_000}}}}}


class QuickSquare(SquareResource):
    """Square's resource with its back-off curve shrunk, so the short form fits in CI."""

    def call_options(self, source: str, account: str) -> dict[str, Any]:
        return {**super().call_options(source, account), "retry": RetryPolicy(QUICK_BACKOFF)}


class QuickShopify(ShopifyResource):
    """Shopify's resource with its back-off curve shrunk, so the short form fits in CI."""

    def call_options(self, source: str, account: str) -> dict[str, Any]:
        return {**super().call_options(source, account), "retry": RetryPolicy(QUICK_BACKOFF)}


def every_kind_of_fault(rate: float) -> FaultConfig:
    """`rate` of requests faulted, shared equally by every random kind."""
    return FaultConfig(**{kind.value: rate / len(RANDOM_KINDS) for kind in RANDOM_KINDS})


@dataclass
class Build:
    """A warehouse after one backfill: its home, what each partition run reported, the faults."""

    home: Path
    house: Lakehouse
    shops: dict[str, str]
    outcomes: list[PartitionOutcome]
    fault_counts: dict[str, int]
    requests_seen: int

    def rows(self, table: str, without_customer: str = "") -> list[tuple[Any, ...]]:
        sql = f"SELECT * FROM shelfops.{table} WHERE customer_id <> ? ORDER BY ALL"
        return self.house.query(sql, without_customer)

    @property
    def failed(self) -> list[PartitionOutcome]:
        return [outcome for outcome in self.outcomes if not outcome.ok]


def _days() -> list[date]:
    days = [FROZEN_NOW.date() - timedelta(days=back) for back in (3, 2)]
    return scaled(days, [FROZEN_NOW.date() - timedelta(days=back) for back in range(9, 0, -1)])


def _requests(customers: Sequence[str]) -> list[PartitionRequest]:
    """Stores, today's catalog, the days' sales, and the last hour's stock of every customer
    (Shopify keeps no stock history, so the last hour is the one both sources can sync)."""
    days = _days()
    requests = plan(
        ["stores", "products", "transactions"], customers, days[0], days[-1], FROZEN_NOW
    )
    return requests + [
        PartitionRequest("inventory_snapshots", str(hour_key(customer, LAST_HOUR)))
        for customer in customers
    ]


def _resources(house: Lakehouse, base_url: str, patient: bool) -> dict[str, Any]:
    """Both providers' resources; `patient` ones page small and retry longer than the defaults.
    The short form shrinks their back-off curve either way."""
    square = house.resources["square"]
    square_type, shopify_type = scaled(
        (QuickSquare, QuickShopify), (SquareResource, ShopifyResource)
    )
    policy = {"page_size": PAGE_SIZE, **PATIENT} if patient else {}
    return {
        "warehouse": house.warehouse,
        "square": square_type(
            base_url=square.base_url,
            shelfops_home=str(house.home),
            client_id=square.client_id,
            client_secret=square.client_secret,
            requests_per_second=1000,
            burst=1000,
            **policy,
        ),
        "shopify": shopify_type(
            base_url=f"{base_url}/shopify/{{handle}}", shelfops_home=str(house.home), **policy
        ),
    }


def build(home: Path, faults: FaultConfig, patient: bool = True) -> Build:
    """Backfill every customer's partitions through a sandbox with `faults`."""
    with lakehouse(home, faults=faults) as house:
        base_url = house.resources["square"].base_url.removesuffix("/square")
        shops = connect_shops(house, base_url)
        customers = sorted(set(house.customers) | set(shops))
        house.instance.add_dynamic_partitions("customers", customers)
        defs = dg.Definitions(
            assets=[*square_assets, *shopify_assets, *build_unified_assets(READERS)],
            asset_checks=build_unified_checks(READERS),
            jobs=warehouse_jobs,
            resources=_resources(house, base_url, patient),
        )
        outcomes = run_plan(
            defs, _requests(customers), house.instance, run_configs=scaled(ORDERS, {})
        )
        log = httpx.get(f"{base_url}/_sandbox/faults").json()
    return Build(home, house, shops, outcomes, log["counts"], log["requests_seen"])


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Build:
    built = build(tmp_path_factory.mktemp("clean"), FaultConfig())
    assert not built.failed, [(o.request, o.failure, o.failed_checks) for o in built.failed]
    assert sum(built.fault_counts.values()) == 0
    return built


def test_the_warehouse_built_through_every_kind_of_fault_equals_the_faultless_one(
    clean: Build, tmp_path: Path
) -> None:
    faulty = build(tmp_path, every_kind_of_fault(FAULT_RATE))
    assert not faulty.failed, [(o.request, o.failure, o.failed_checks) for o in faulty.failed]
    counts = faulty.fault_counts
    assert all(counts[kind.value] > 0 for kind in RANDOM_KINDS), counts
    # A 429 burst is drawn once and then answers the next few requests of that caller too.
    repeats = counts["burst_429"] - counts["burst_429"] // FaultConfig().burst_length
    drawn = sum(counts.values()) - repeats
    assert 0.05 < drawn / (faulty.requests_seen - repeats) < 0.2, counts
    for table in TABLES:
        expected = clean.rows(table)
        assert expected, f"the faultless build wrote no {table}"
        assert faulty.rows(table) == expected, table
    sources = {
        row[0]
        for row in clean.house.query("SELECT DISTINCT source_system FROM shelfops.transactions")
    }
    assert sources == {"square", "shopify"}


def _customer(outcome: PartitionOutcome) -> str:
    return outcome.request.partition_key.split("|")[0]


@pytest.fixture
def closed_circuits(clean: Build) -> Iterator[None]:
    """Breakers are per process: close the ones an outage opened, for the tests that follow."""
    yield
    for domain in clean.shops.values():
        SHARED_BREAKERS.breaker("shopify", domain).record_success()


def test_a_shop_down_for_the_whole_sync_fails_only_its_customers_partitions(
    clean: Build, tmp_path: Path, closed_circuits: None
) -> None:
    down = next(customer for customer in clean.shops if customer not in clean.house.customers)
    domain = clean.shops[down]
    handle = domain.split(".", 1)[0]
    outage = Outage(
        f"/shopify/{handle}/admin/api/",
        FROZEN_NOW - timedelta(hours=1),
        FROZEN_NOW + timedelta(hours=1),
    )
    # The resources' own retry budget, page sizes and circuit, as an operator runs them.
    built = build(tmp_path, FaultConfig(outages=(outage,)), patient=False)

    failed = {outcome.request.partition_key for outcome in built.failed}
    planned = {outcome.request.partition_key for outcome in built.outcomes}
    assert failed == {key for key in planned if key.split("|")[0] == down}
    assert built.fault_counts["outage"] > 0
    stores = next(o for o in built.failed if o.request.table == "stores")
    assert stores.failure is not None
    assert (
        f"shopify/locations for {down} failed: shopify call for account {domain}" in stores.failure
    )
    assert "HTTP 503" in stores.failure and "status page" in stores.failure
    for outcome in built.failed:
        if outcome is not stores:
            assert outcome.failure is not None
            assert (
                f"shopify/locations has no partition for customer {down}; materialize it first"
                in outcome.failure
            ), outcome.failure
    for table in TABLES:
        assert built.rows(table, without_customer=down) == clean.rows(table, without_customer=down)
