"""`shelfops demo` (`make demo`), the main job: serve the sandbox, connect the demo's Square
merchants and Shopify shops through OAuth, fill the warehouse from both through Dagster with its
checks, and show what it holds.

Every run goes through the code location's own jobs and resources and is recorded in the Dagster
instance (`$DAGSTER_HOME`, default `$SHELFOPS_HOME/dagster`), so `make ui` shows it afterwards.
Each partition is replaced whole, so running the demo again gives the same warehouse.
"""

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import click

from shelfops_pipeline.credentials.errors import CredentialError
from shelfops_pipeline.credentials.keys import load_keys
from shelfops_pipeline.credentials.paths import DEFAULT_HOME
from shelfops_pipeline.credentials.store import CredentialStore
from shelfops_pipeline.definitions import defs
from shelfops_pipeline.demo.merchants import (
    DEMO_SCALE,
    DEMO_SEED,
    connect_merchants,
    serve_demo_sandbox,
)
from shelfops_pipeline.demo.summary import SALES_BY_STORE_AND_DAY, sales_table, summarize
from shelfops_pipeline.warehouse.cli import echo_failure
from shelfops_pipeline.warehouse.customers import register
from shelfops_pipeline.warehouse.instance import local_instance
from shelfops_pipeline.warehouse.resources import WarehouseResource
from shelfops_pipeline.warehouse.schedules import day_key, hour_key, last_complete_hour
from shelfops_pipeline.warehouse.sync import (
    PartitionOutcome,
    PartitionRequest,
    latest_checks,
    run_plan,
)

DAYS = 7
ACCOUNT_KINDS = {"square": "Square merchant", "shopify": "Shopify shop"}


@contextmanager
def environment(values: Mapping[str, str]) -> Iterator[None]:
    """Set variables for the block and restore the previous ones after it."""
    previous = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def last_complete_day(timezones: Sequence[str], now: datetime) -> date:
    """The latest business day that has ended in every one of the zones."""
    return min(now.astimezone(ZoneInfo(zone)).date() for zone in timezones) - timedelta(days=1)


def store_timezones(warehouse: WarehouseResource, customer_ids: Sequence[str]) -> list[str]:
    zones: set[str] = set()
    for customer_id in customer_ids:
        stores = warehouse.read("stores", {"customer_id": customer_id})
        if stores is not None:
            zones.update(stores.column("timezone").to_pylist())
    return sorted(zones)


def sales_requests(
    customer_ids: Sequence[str], last_day: date, now: datetime
) -> list[PartitionRequest]:
    """Today's catalog, the last DAYS business days of sales, the last complete hour of stock."""
    today = now.astimezone(UTC).date()
    days = [last_day - timedelta(days=back) for back in reversed(range(DAYS))]
    hour = last_complete_hour(now)
    return [
        *(PartitionRequest("products", str(day_key(c, today))) for c in customer_ids),
        *(PartitionRequest("transactions", str(day_key(c, d))) for c in customer_ids for d in days),
        *(PartitionRequest("inventory_snapshots", str(hour_key(c, hour))) for c in customer_ids),
    ]


def _materialize(
    customer_ids: Sequence[str], warehouse: WarehouseResource
) -> list[PartitionOutcome]:
    with local_instance() as instance:
        register(instance, customer_ids)
        click.echo(f"materializing through Dagster, runs recorded in {instance.root_directory}")
        stores = [PartitionRequest("stores", c) for c in customer_ids]
        outcomes = run_plan(defs, stores, instance, on_outcome=echo_failure)
        zones = store_timezones(warehouse, customer_ids)
        if not zones:
            return outcomes
        now = datetime.now(UTC)
        requests = sales_requests(customer_ids, last_complete_day(zones, now), now)
        return outcomes + run_plan(defs, requests, instance, on_outcome=echo_failure)


def _report(outcomes: Sequence[PartitionOutcome], warehouse: WarehouseResource) -> None:
    for job in dict.fromkeys(o.request.job_name for o in outcomes):
        runs = [o for o in outcomes if o.request.job_name == job]
        click.echo(f"  {job:<17} {sum(o.ok for o in runs)} of {len(runs)} partition runs ok")
    checks = latest_checks(outcomes)
    failed = sorted({c.name for c in checks if not c.passed})
    click.echo(
        f"checks: {sum(c.passed for c in checks)} of {len(checks)} passed"
        + (f"; failing: {', '.join(failed)}" if failed else "")
    )
    summary = summarize(warehouse.database)
    click.echo("rows per table: " + ", ".join(f"{t} {n:,}" for t, n in summary.rows.items()))
    click.echo("\nnet sales per store and business day (after discounts and returns, before tax):")
    click.echo(sales_table(summary))
    click.echo(f"\nDuckDB file:  {warehouse.database.resolve()}  (views in schema `shelfops`)")
    click.echo(f"Parquet lake: {warehouse.lake.resolve()}")
    home = warehouse.home.resolve()
    prefix = "" if home == DEFAULT_HOME.resolve() else f"SHELFOPS_HOME={home} "
    click.echo("\nAsk it yourself (or paste the SQL into `duckdb <file>`):")
    click.echo(f'  {prefix}.venv/bin/shelfops query "{SALES_BY_STORE_AND_DAY}"')


@click.command()
def demo() -> None:
    """Connect the sandbox's Square merchants and Shopify shops and fill the warehouse from both:
    last 7 days and the last hour."""
    warehouse = WarehouseResource()
    try:
        store = CredentialStore(keys=load_keys())
    except CredentialError as error:
        raise click.ClickException(f"{error}; `shelfops keys init` creates a local key") from None
    with serve_demo_sandbox() as sandbox:
        click.echo(
            f"sandbox serving at {sandbox.square_url} (seed {DEMO_SEED}, scale {DEMO_SCALE}, "
            "real clock)"
        )
        connections = connect_merchants(sandbox, store)
        for connection in connections:
            click.echo(
                f"connected {connection.customer_id} to {ACCOUNT_KINDS[connection.source]} "
                f"{connection.account} (OAuth, approved by script)"
            )
        customer_ids = list(dict.fromkeys(c.customer_id for c in connections))
        with environment(sandbox.env()):
            outcomes = _materialize(customer_ids, warehouse)
    warehouse.publish()
    _report(outcomes, warehouse)
    broken = [o for o in outcomes if not o.ok]
    if broken:
        raise click.ClickException(f"{len(broken)} run(s) failed or failed a check; see above")
