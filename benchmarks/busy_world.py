"""The `busy` sandbox world the ingest and peer benchmarks share, frozen at one instant.

Its Shopify-only shop and its Square-only merchant each take about 20,000 orders in the six
complete business days before the frozen clock. Every Shopify day is recent enough to be paged
(not exported in bulk), so the shop's GraphQL points bucket is what bounds a sync.

Why six days of 3,300 orders and not one day of 20,000: the sandbox serves an orders search by
filtering and sorting the shop's whole history (later pages of the same search reuse that), so a
search's first page grows with the history; with 20,000 orders a day a page took about 2 s on
this machine, twice the 1.04 s a page the standard bucket allows, and the benchmark would time
the sandbox instead of the client.
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

from benchmarks.served import RequestLog, Served, serve
from shelfops_pipeline.credentials.connect import connect
from shelfops_pipeline.credentials.keys import ensure_local_key_file, load_keys
from shelfops_pipeline.credentials.models import TokenSet
from shelfops_pipeline.credentials.paths import store_path
from shelfops_pipeline.credentials.secret import Secret
from shelfops_pipeline.credentials.state import OAuthStates
from shelfops_pipeline.credentials.store import CredentialStore
from shelfops_pipeline.sandbox.faults import FaultConfig
from shelfops_pipeline.sandbox.server import Sandbox, build_sandbox
from shelfops_pipeline.sandbox.settings import SandboxSettings
from shelfops_pipeline.sandbox.shopify.bulk import BulkSettings
from shelfops_pipeline.sandbox.shopify.endpoint import GraphQLSettings
from shelfops_pipeline.sandbox.shopify.throttle import ThrottleSettings
from shelfops_pipeline.sandbox.world.entities import Shop, Store
from shelfops_pipeline.sources.square.oauth import SquareApp, SquareOAuth, approve_in_sandbox

SEED = 7
SCALE = "busy"
NOW = datetime(2026, 11, 5, 18, 30, tzinfo=UTC)
NOW_TEXT = "2026-11-05T18:30:00Z"
DAYS = 6
SHOPIFY_SCOPES = ["read_products", "read_inventory", "read_locations", "read_orders"]
# "Limits off": a points bucket and a bulk pace no sync comes near.
UNLIMITED = GraphQLSettings(
    throttle=ThrottleSettings(maximum_available=1e12, restore_rate=1e12),
    bulk=BulkSettings(objects_per_second=1e9),
)
STANDARD = GraphQLSettings()


@dataclass(frozen=True)
class Limits:
    """The sandbox's limits for one run: Shopify's bucket and bulk pace, Square's budget."""

    name: str
    shopify: GraphQLSettings
    square: FaultConfig

    def describe(self) -> str:
        throttle = self.shopify.throttle
        if self.shopify is UNLIMITED:
            shopify = "Shopify unlimited"
        else:
            shopify = (
                f"Shopify bucket {throttle.maximum_available:g} points, "
                f"{throttle.restore_rate:g}/s; bulk {self.shopify.bulk.objects_per_second:g} "
                "objects/s"
            )
        rate = self.square.budget_per_second
        square = f"Square {rate:g} requests/s" if rate else "Square no budget"
        return f"{shopify}; {square}"


LIMITS_OFF = Limits("off", UNLIMITED, FaultConfig())
STANDARD_LIMITS = Limits("standard", STANDARD, FaultConfig())


@dataclass
class Accounts:
    """The two accounts of a busy sandbox the benchmarks sync, and their benchmarked days."""

    sandbox: Sandbox

    @property
    def shop(self) -> Shop:
        """The shop of the customer that sells on Shopify alone."""
        customers = {c.id: c for c in self.sandbox.world.customers}
        return next(
            s for s in self.sandbox.world.shops if not customers[s.customer_id].square_merchant_id
        )

    @property
    def square_customer(self) -> str:
        return next(
            c.id
            for c in self.sandbox.world.customers
            if c.square_merchant_id and not c.shopify_shop
        )

    @property
    def square_merchant(self) -> str:
        customer = next(c for c in self.sandbox.world.customers if c.id == self.square_customer)
        assert customer.square_merchant_id is not None
        return customer.square_merchant_id

    def stores(self, account: str) -> list[Store]:
        return [s for s in self.sandbox.world.stores_of(account) if s.kind != "warehouse"]

    @property
    def shopify_days(self) -> list[date]:
        """The shop's last complete local days, all within the paged window."""
        return _days_before(self.shop.timezone)

    @property
    def square_days(self) -> list[date]:
        zones = [s.timezone for s in self.stores(self.square_merchant)]
        return _days_before(*zones)

    def account(self, source: str) -> tuple[str, str]:
        """(customer id, provider account) of the benchmarked customer of `source`."""
        if source == "shopify":
            return self.shop.customer_id, self.shop.domain
        return self.square_customer, self.square_merchant

    def days(self, source: str) -> list[date]:
        return self.shopify_days if source == "shopify" else self.square_days

    def zones(self, source: str) -> list[str]:
        return [s.timezone for s in self.stores(self.account(source)[1])]

    def shopify_token(self) -> str:
        return self.sandbox.shopify_tokens.custom_apps[self.shop.domain].access_token


@dataclass
class BusyWorld(Accounts):
    """One served busy sandbox and its request log."""

    log: RequestLog
    served: Served

    @property
    def base_url(self) -> str:
        return self.served.base_url

    def warm(self) -> None:
        """Generate the accounts' order history before any client is timed."""
        world = self.sandbox.world
        for account in (self.shop.domain, self.square_merchant):
            for store in self.stores(account):
                for day in world.business_days():
                    world.orders_of_store_day(store.id, day)
        query = "query { orders(first: 1) { nodes { id } } }"
        headers = {"X-Shopify-Access-Token": self.shopify_token()}
        url = f"{self.base_url}/shopify/{self.shop.handle}/admin/api/2026-10/graphql.json"
        httpx.post(url, json={"query": query}, headers=headers, timeout=120).raise_for_status()

    def connect(self, home: Path) -> None:
        """Our pipeline's connections in `home`: the shop's custom-app token, and the Square
        merchant through the OAuth flow (expiry moved to the real clock, as the refresher reads
        it)."""
        ensure_local_key_file(home)
        store = CredentialStore(store_path(home), keys=load_keys(home))
        store.upsert_connection(
            customer_id=self.shop.customer_id, source="shopify", account=self.shop.domain,
            scopes=SHOPIFY_SCOPES, tokens=TokenSet(Secret(self.shopify_token()), None),
        )  # fmt: skip
        app = self.sandbox.tokens.application
        oauth_app = SquareApp(app.client_id, Secret(app.client_secret), f"{self.base_url}/square")
        with SquareOAuth(oauth_app) as square:
            connection = connect(
                square, store, OAuthStates(store.path), self.square_customer,
                lambda url: approve_in_sandbox(url, self.square_merchant), timeout_seconds=30,
            )  # fmt: skip
        if connection.expires_at is not None:
            lifetime = connection.expires_at - NOW
            tokens = TokenSet(
                connection.access_token, datetime.now(UTC) + lifetime, connection.refresh_token
            )
            store.update_tokens(connection.id, tokens)


def _days_before(*zones: str) -> list[date]:
    """The last DAYS local dates that have ended in every zone by NOW."""
    last = min(NOW.astimezone(ZoneInfo(zone)).date() for zone in zones) - timedelta(days=1)
    return [last - timedelta(days=back) for back in reversed(range(DAYS))]


def day_start(day: date, *zones: str) -> datetime:
    """The earliest UTC instant at which `day` begins in any of `zones`."""
    return min(datetime.combine(day, time(0), ZoneInfo(zone)).astimezone(UTC) for zone in zones)


def settings(limits: Limits) -> SandboxSettings:
    base = SandboxSettings(seed=SEED, scale=SCALE, frozen_at=NOW)
    return replace(base, shopify=limits.shopify, faults=limits.square)


@contextmanager
def busy_world(
    limits: Limits, ca_file: Path | None = None, keep_bodies: bool = False
) -> Iterator[BusyWorld]:
    """A fresh busy sandbox under `limits`, served (with TLS when `ca_file` is given), warmed."""
    sandbox = build_sandbox(settings(limits))
    log = RequestLog(sandbox.app, keep_bodies=keep_bodies)
    with serve(log, ca_file) as served:
        world = BusyWorld(sandbox, log, served)
        world.warm()
        yield world


def child_env(home: Path) -> dict[str, str]:
    """The environment of a child that uses `home` as its data directory."""
    return {
        **os.environ,
        "SHELFOPS_HOME": str(home),
        "DAGSTER_HOME": str(home / "dagster"),
        "DAGSTER_DISABLE_TELEMETRY": "1",
    }
