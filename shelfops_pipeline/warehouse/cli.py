"""`shelfops sync` (backfill a date range through Dagster) and `shelfops query` (ask DuckDB)."""

from datetime import UTC, date, datetime

import click
import dagster as dg
import duckdb
import pyarrow as pa

from shelfops_pipeline.cli_types import CustomerId
from shelfops_pipeline.definitions import defs, readers
from shelfops_pipeline.warehouse.customers import connected_customers, register
from shelfops_pipeline.warehouse.instance import local_instance
from shelfops_pipeline.warehouse.partitions import HISTORY_START
from shelfops_pipeline.warehouse.resources import WarehouseResource
from shelfops_pipeline.warehouse.sync import (
    TABLES,
    PartitionOutcome,
    full_refresh_config,
    plan,
    run_plan,
)

DEFAULT_TABLES = ("stores", "products", "transactions")
FIRST_DAY = date.fromisoformat(HISTORY_START)
QUERY_HINT = "the tables are views in schema `shelfops`, e.g. SELECT * FROM shelfops.stores"


def _where(outcome: PartitionOutcome) -> str:
    request = outcome.request
    return f"{request.job_name} {request.partition_key} (run {outcome.run_id[:8]})"


def echo_failure(outcome: PartitionOutcome) -> None:
    """One line on stderr for a failed run or a failed ERROR-severity check; nothing otherwise."""
    if not outcome.ok:
        reason = outcome.failure or f"checks failed: {', '.join(outcome.failed_checks)}"
        click.echo(f"  FAILED  {_where(outcome)}: {reason}", err=True)


def echo_outcome(outcome: PartitionOutcome) -> None:
    if outcome.ok:
        warned = f"; warnings: {', '.join(outcome.warnings)}" if outcome.warnings else ""
        click.echo(f"  ok      {_where(outcome)}{warned}")
    echo_failure(outcome)


def _reason(message: str) -> str:
    """The sentence of a Dagster config error that says what is wrong, without its trace."""
    last = message.split("Stack Trace:")[0].strip().splitlines()[-1]
    return last.split("Error: ", 1)[-1]


def _business_day(ctx: click.Context, param: click.Parameter, value: datetime) -> date:
    """A day that has partitions: from the first one up to today (UTC), which has begun."""
    day = value.date()
    today = datetime.now(UTC).date()
    if day < FIRST_DAY:
        raise click.BadParameter(
            f"{day} is before the first business day partition; give {FIRST_DAY} or later",
            ctx,
            param,
        )
    if day > today:
        raise click.BadParameter(
            f"{day} has not begun yet; give today ({today} UTC) or earlier", ctx, param
        )
    return day


@click.command()
@click.option(
    "--start",
    type=click.DateTime(["%Y-%m-%d"]),
    required=True,
    callback=_business_day,
    help="First business day, e.g. 2026-11-01.",
)
@click.option(
    "--end",
    type=click.DateTime(["%Y-%m-%d"]),
    required=True,
    callback=_business_day,
    help="Last business day (included).",
)
@click.option(
    "--customer",
    "customer_ids",
    multiple=True,
    type=CustomerId(),
    help="Only this customer (repeat for several); default every connected customer.",
)
@click.option(
    "--table",
    "tables",
    multiple=True,
    type=click.Choice(TABLES),
    default=DEFAULT_TABLES,
    show_default=True,
    help="Which unified tables to rebuild (repeat for several).",
)
@click.option(
    "--full-refresh",
    is_flag=True,
    help="Catalog: fetch every item instead of the changes since the last sync.",
)
def sync(
    start: date, end: date, customer_ids: tuple[str, ...], tables: tuple[str, ...],
    full_refresh: bool,
) -> None:  # fmt: skip
    """Backfill business days START..END through Dagster, one run per partition.

    Each partition runs its table's asset job (source assets, unified table, checks) in this
    process and is recorded in the Dagster instance ($DAGSTER_HOME, default
    $SHELFOPS_HOME/dagster), so the UI shows the runs. A customer's backfill touches only that
    customer's partitions; a failed partition does not stop the others.
    """
    now = datetime.now(UTC)
    if start > end:
        raise click.BadParameter(
            f"{start} is after --end {end}; give a start on or before the end",
            param_hint="--start",
        )
    connected = connected_customers()
    not_connected = [c for c in customer_ids if c not in connected]
    if not_connected:
        raise click.ClickException(
            f"{', '.join(not_connected)} has no active connection; run "
            "`shelfops connect square --customer ID` first"
        )
    customers = list(customer_ids) or connected
    if not customers:
        raise click.ClickException(
            "no customer is connected; run `shelfops connect square --customer ID` first"
        )
    try:
        requests = plan(tables, customers, start, end, now)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--start/--end") from None
    catalog = full_refresh_config(r.raw.products for r in readers) if full_refresh else {}
    with local_instance() as instance:
        register(instance, customers)
        click.echo(
            f"syncing {', '.join(tables)} for {len(customers)} customer(s), {start}..{end}: "
            f"{len(requests)} partition runs, recorded in {instance.root_directory}"
        )
        try:
            outcomes = run_plan(
                defs, requests, instance, run_configs={"products": catalog}, on_outcome=echo_outcome
            )
        except dg.DagsterInvalidConfigError as error:
            # Raised before a run starts (a variable the resources read is not set, say): every
            # partition would fail alike, so stop at the first.
            reasons = "; ".join(_reason(e.message) for e in error.errors) or str(error)
            raise click.ClickException(f"the runs cannot start: {reasons}") from None
    if not WarehouseResource().publish():
        click.echo("note: the DuckDB file is busy; its views are refreshed by the next sync")
    failed = [o for o in outcomes if not o.ok]
    click.echo(f"{len(outcomes) - len(failed)} of {len(outcomes)} partitions synced")
    if failed:
        raise click.ClickException(f"{len(failed)} partition(s) failed; see the lines above")


def _first_line(error: Exception) -> str:
    """DuckDB's message without the `LINE 1: ...` excerpt and suggestions it adds below it."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


@click.command()
@click.argument("sql")
def query(sql: str) -> None:
    """Run SQL against the warehouse ($SHELFOPS_HOME/warehouse.duckdb), read-only.

    The tables are views in the `shelfops` schema, e.g. `SELECT * FROM shelfops.stores`.
    """
    if not sql.strip():
        raise click.BadParameter(f"no SQL given; {QUERY_HINT}", param_hint="SQL")
    database = WarehouseResource().database
    if not database.exists():
        raise click.ClickException(f"{database} does not exist yet; run `make demo` first")
    connection = duckdb.connect(str(database), read_only=True)
    try:
        relation = connection.sql(sql)
        if relation is not None:
            # Through Arrow and pandas: DuckDB's own rendering elides rows past the first twenty,
            # and its `df()` turns decimals into floats; Arrow keeps them exact Decimals.
            click.echo(relation.to_arrow_table().to_pandas().to_string(index=False))
    except duckdb.Error as error:
        raise click.ClickException(f"{_first_line(error)}; {QUERY_HINT}") from None
    except (pa.ArrowException, ValueError, OverflowError) as error:
        # Types pandas has no column for (UNION) or dates past its range ('infinity'::DATE).
        raise click.ClickException(
            f"the result cannot be shown ({_first_line(error)}); cast the column in the SQL, "
            "e.g. CAST(x AS VARCHAR)"
        ) from None
    finally:
        connection.close()
