"""`python -m benchmarks.sync_child`: one benchmark sync in its own process, so its peak memory is
its own. It runs what `shelfops sync` runs (the same plan, jobs, assets and checks, one Dagster run
per partition) with the resources pointed at the benchmark's sandbox and the warehouse's clock
set to the sandbox's frozen one (`shelfops sync` itself always takes the real clock).

It writes a JSON report: each partition's outcome, and each step's seconds from the run's event
log, which says where the time went (extract, map and write, checks).
"""

import json
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import click
import dagster as dg

from shelfops_pipeline.definitions import readers
from shelfops_pipeline.sources.shopify.assets import shopify_assets
from shelfops_pipeline.sources.shopify.resources import ShopifyResource
from shelfops_pipeline.sources.square.assets import square_assets
from shelfops_pipeline.sources.square.resources import SquareResource
from shelfops_pipeline.warehouse.assets import build_unified_assets
from shelfops_pipeline.warehouse.checks import build_unified_checks
from shelfops_pipeline.warehouse.jobs import warehouse_jobs
from shelfops_pipeline.warehouse.resources import WarehouseResource
from shelfops_pipeline.warehouse.sync import TABLES, PartitionOutcome, plan, run_plan

STEP_END = {dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE}


def definitions(home: str, square_url: str, shopify_url: str, as_of: str) -> dg.Definitions:
    """The code location's assets, checks and jobs; resources aimed at the benchmark."""
    return dg.Definitions(
        assets=[*square_assets, *shopify_assets, *build_unified_assets(readers)],
        asset_checks=build_unified_checks(readers),
        jobs=warehouse_jobs,
        resources={
            "square": SquareResource(base_url=square_url, shelfops_home=home),
            "shopify": ShopifyResource(base_url=shopify_url, shelfops_home=home),
            "warehouse": WarehouseResource(shelfops_home=home, as_of=as_of),
        },
    )


def step_seconds(instance: dg.DagsterInstance, run_id: str) -> dict[str, float]:
    """Seconds from each step's start to its end, from the run's event log."""
    started: dict[str, float] = {}
    seconds: dict[str, float] = {}
    for record in instance.all_logs(run_id):
        event = record.dagster_event
        if event is None or event.step_key is None:
            continue
        if event.event_type == dg.DagsterEventType.STEP_START:
            started[event.step_key] = record.timestamp
        elif event.event_type in STEP_END and event.step_key in started:
            seconds[event.step_key] = record.timestamp - started[event.step_key]
    return seconds


def _report(instance: dg.DagsterInstance, outcome: PartitionOutcome) -> dict[str, Any]:
    return {
        "job": outcome.request.job_name,
        "partition": outcome.request.partition_key,
        "ok": outcome.ok,
        "failure": outcome.failure,
        "failed_checks": outcome.failed_checks,
        "steps": step_seconds(instance, outcome.run_id),
    }


@click.command()
@click.option("--home", required=True, type=click.Path(file_okay=False))
@click.option("--square-url", required=True)
@click.option("--shopify-url", required=True)
@click.option("--as-of", required=True, help="The sandbox's frozen now (RFC 3339).")
@click.option("--customer", "customers", multiple=True, required=True)
@click.option("--start", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--end", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--table", "tables", multiple=True, type=click.Choice(TABLES), required=True)
@click.option("--report", required=True, type=click.Path(dir_okay=False))
def main(
    home: str, square_url: str, shopify_url: str, as_of: str, customers: tuple[str, ...],
    start: datetime, end: datetime, tables: tuple[str, ...], report: str,
) -> None:  # fmt: skip
    """Sync TABLES for CUSTOMERS over START..END and write a JSON report to REPORT."""
    started = time.perf_counter()
    defs = definitions(home, square_url, shopify_url, as_of)
    requests = plan(tables, list(customers), start.date(), end.date(), _now(as_of))
    with dg.DagsterInstance.ephemeral(tempdir=str(Path(home) / "dagster")) as instance:
        instance.add_dynamic_partitions("customers", list(customers))
        loaded = time.perf_counter() - started
        outcomes = run_plan(defs, requests, instance)
        runs = [_report(instance, outcome) for outcome in outcomes]
    Path(report).write_text(json.dumps({"load_seconds": loaded, "runs": runs}, indent=1) + "\n")
    if not all(outcome.ok for outcome in outcomes):
        raise click.ClickException("a partition failed; see the report")


def _now(as_of: str) -> datetime:
    return WarehouseResource(as_of=as_of).now()


if __name__ == "__main__":
    main(prog_name="python -m benchmarks.sync_child")
