"""A small sandbox frozen at FROZEN_NOW, its Square customers connected through the OAuth flow,
and the warehouse's assets, checks and resources pointed at it and at a temporary SHELFOPS_HOME.

The sandbox's clock is frozen, so the tokens it issues expire 30 days after FROZEN_NOW in its own
time and never in practice; the token refresher compares expiries with the real clock, so each
stored expiry is moved to the same lifetime from the real now, as if the token had just been
issued. The warehouse takes FROZEN_NOW as now (`WarehouseResource.as_of`), like the sandbox.
"""

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pytest
from conftest import FROZEN_NOW, SEED
from credential_helpers import ENV_VARS

from shelfops_pipeline.credentials.connect import connect
from shelfops_pipeline.credentials.keys import ensure_local_key_file
from shelfops_pipeline.credentials.models import TokenSet
from shelfops_pipeline.credentials.paths import HOME_ENV, store_path
from shelfops_pipeline.credentials.secret import Secret
from shelfops_pipeline.credentials.state import OAuthStates
from shelfops_pipeline.credentials.store import CredentialStore
from shelfops_pipeline.sandbox.faults import FaultConfig
from shelfops_pipeline.sandbox.runner import serve_in_thread
from shelfops_pipeline.sandbox.server import Sandbox, build_sandbox
from shelfops_pipeline.sandbox.settings import SandboxSettings
from shelfops_pipeline.sandbox.shopify.endpoint import GraphQLSettings
from shelfops_pipeline.sources.shopify.resources import ShopifyResource
from shelfops_pipeline.sources.square.assets import square_assets, square_reader
from shelfops_pipeline.sources.square.oauth import SquareApp, SquareOAuth, approve_in_sandbox
from shelfops_pipeline.sources.square.resources import SquareResource
from shelfops_pipeline.warehouse.assets import build_unified_assets
from shelfops_pipeline.warehouse.checks import build_unified_checks
from shelfops_pipeline.warehouse.resources import WarehouseResource
from shelfops_pipeline.warehouse.sources import SourceReader

QUIET = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}


def asset_named(assets: Sequence[dg.AssetsDefinition], key: str) -> dg.AssetsDefinition:
    return next(a for a in assets if a.key.to_user_string() == key)


@dataclass
class Lakehouse:
    sandbox: Sandbox
    home: Path
    instance: dg.DagsterInstance
    resources: dict[str, Any]
    customers: dict[str, str]
    readers: list[SourceReader] = field(default_factory=lambda: [square_reader])

    @property
    def world(self) -> Any:
        return self.sandbox.world

    @property
    def warehouse(self) -> WarehouseResource:
        return self.resources["warehouse"]

    def definitions(
        self, readers: Sequence[SourceReader] | None = None
    ) -> tuple[list[dg.AssetsDefinition], list[dg.AssetChecksDefinition]]:
        chosen = list(readers or self.readers)
        return [*square_assets, *build_unified_assets(chosen)], build_unified_checks(chosen)

    def materialize(
        self,
        keys: Sequence[str],
        partition: str | Mapping[str, str],
        readers: Sequence[SourceReader] | None = None,
        run_config: Mapping[str, Any] | None = None,
        raise_on_error: bool = True,
    ) -> dg.ExecuteInProcessResult:
        """Materialize `keys` (and their checks) for one partition, in this process."""
        assets, checks = self.definitions(readers)
        key = partition if isinstance(partition, str) else dg.MultiPartitionKey(dict(partition))
        selected = [asset_named(assets, k) for k in keys]
        return dg.materialize(
            [*assets, *checks],
            selection=dg.AssetSelection.assets(*selected)
            | dg.AssetSelection.checks_for_assets(*selected),
            partition_key=key,
            resources=self.resources,
            instance=self.instance,
            run_config={**QUIET, **(run_config or {})},
            raise_on_error=raise_on_error,
        )

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Read the warehouse as an analyst does: through the DuckDB views."""
        self.warehouse.publish()
        connection = duckdb.connect(str(self.warehouse.database), read_only=True)
        try:
            return connection.execute(sql, list(params)).fetchall()
        finally:
            connection.close()

    def access_tokens(self) -> list[str]:
        store = CredentialStore(store_path(self.home))
        return [connection.access_token.reveal() for connection in store.list()]


def day_key(customer: str, day: date) -> dict[str, str]:
    return {"customer": customer, "date": day.isoformat()}


def _connect_all(sandbox: Sandbox, square_url: str, home: Path) -> dict[str, str]:
    app = sandbox.tokens.application
    store = CredentialStore(store_path(home))
    connected = {}
    for customer in sandbox.world.customers:
        merchant = customer.square_merchant_id
        if merchant is None:
            continue
        oauth_app = SquareApp(app.client_id, Secret(app.client_secret), square_url)
        with SquareOAuth(oauth_app) as square:
            connection = connect(
                square,
                store,
                OAuthStates(store.path),
                customer.id,
                lambda url, m=merchant: approve_in_sandbox(url, m),
                timeout_seconds=10,
            )
        assert connection.expires_at is not None
        lifetime = connection.expires_at - FROZEN_NOW
        store.update_tokens(
            connection.id,
            TokenSet(
                connection.access_token, datetime.now(UTC) + lifetime, connection.refresh_token
            ),
        )
        connected[customer.id] = merchant
    return connected


@contextmanager
def lakehouse(
    home: Path, shopify: GraphQLSettings | None = None, faults: FaultConfig | None = None
) -> Iterator[Lakehouse]:
    """The sandbox served on loopback, every Square customer connected, nothing synced yet.

    `shopify` replaces the sandbox's Shopify GraphQL settings (e.g. to make bulk exports fail);
    `faults` makes its Square and Shopify APIs misbehave (OAuth, which connects, never does).
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(HOME_ENV, str(home))
        for name in ENV_VARS:
            patch.delenv(name, raising=False)
        ensure_local_key_file(home)
        settings = SandboxSettings(
            seed=SEED, scale="small", frozen_at=FROZEN_NOW, faults=faults or FaultConfig()
        )
        sandbox = build_sandbox(replace(settings, shopify=shopify) if shopify else settings)
        with serve_in_thread(sandbox.app) as base_url:
            square_url = f"{base_url}/square"
            customers = _connect_all(sandbox, square_url, home)
            app = sandbox.tokens.application
            resources = {
                "square": SquareResource(
                    base_url=square_url,
                    shelfops_home=str(home),
                    client_id=app.client_id,
                    client_secret=app.client_secret,
                    requests_per_second=1000,
                    burst=1000,
                    max_attempts=2,
                ),
                "warehouse": WarehouseResource(
                    shelfops_home=str(home), as_of=FROZEN_NOW.isoformat()
                ),
            }
            # A tempdir of our own: the default one is left for the garbage collector to remove.
            with dg.DagsterInstance.ephemeral(tempdir=str(home / "dagster")) as instance:
                instance.add_dynamic_partitions("customers", sorted(customers))
                yield Lakehouse(sandbox, home, instance, resources, customers)


def connect_shops(house: Lakehouse, base_url: str) -> dict[str, str]:
    """Connect every shop with its custom app's token and add the Shopify resource: the
    customer id of each shop, to its domain."""
    store = CredentialStore(store_path(house.home))
    connected = {}
    for shop in house.world.shops:
        app = house.sandbox.shopify_tokens.custom_apps[shop.domain]
        store.upsert_connection(
            customer_id=shop.customer_id,
            source="shopify",
            account=shop.domain,
            scopes=["read_products", "read_inventory", "read_locations", "read_orders"],
            tokens=TokenSet(Secret(app.access_token), None),
        )
        connected[shop.customer_id] = shop.domain
    house.resources["shopify"] = ShopifyResource(
        base_url=f"{base_url}/shopify/{{handle}}", shelfops_home=str(house.home)
    )
    return connected
