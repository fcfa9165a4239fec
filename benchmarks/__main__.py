"""`python -m benchmarks` (`make bench`): sandbox startup and paging, rate-limit efficiency, one
warehouse day at two scales, and the webhook receiver."""

import subprocess
from datetime import UTC, datetime

import click
import httpx

from benchmarks.rate_limit import measure_rate_limit
from benchmarks.report import table, write_json
from benchmarks.sandbox_process import SandboxFailure
from benchmarks.sandbox_startup import ScaleFigures, measure_scale
from benchmarks.shopify_pacing import measure_backfill, measure_pacing
from benchmarks.warehouse_day import BenchmarkFailure, measure_warehouse_days, within_bound
from benchmarks.warehouse_day import report as warehouse_report
from benchmarks.warehouse_day import write_json as write_warehouse_json
from benchmarks.webhooks import measure_webhooks
from benchmarks.webhooks import report as webhooks_report
from benchmarks.webhooks import write_json as write_webhooks_json
from shelfops_pipeline.sandbox.world.config import SCALES

SEED = 7
FROZEN_NOW = datetime(2026, 11, 5, 18, 30, tzinfo=UTC)


def _scales(ctx: click.Context, param: click.Parameter, value: str) -> list[str]:
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in names if name not in SCALES]
    if unknown or not names:
        raise click.BadParameter(f"choose from {', '.join(SCALES)}; got {value!r}")
    return names


@click.command()
@click.option(
    "--scales",
    default="demo,small,large",
    show_default=True,
    callback=_scales,
    help="Comma-separated sandbox scales to measure.",
)
@click.option(
    "--repeat", type=click.IntRange(1, 20), default=3, show_default=True,
    help="Startups per scale; the table shows their median.",
)  # fmt: skip
def bench(scales: list[str], repeat: int) -> None:
    """Start `shelfops sandbox serve` at each scale; fail when startup exceeds its bound."""
    results: list[ScaleFigures] = []
    for scale in scales:
        click.echo(f"measuring scale {scale} ({repeat} startups)...", err=True)
        try:
            results.append(measure_scale(scale, SEED, FROZEN_NOW, repeat))
        except (
            SandboxFailure,
            httpx.HTTPError,
            subprocess.SubprocessError,
            OSError,
            RuntimeError,
        ) as error:
            raise click.ClickException(f"scale {scale}: {error}") from error
    click.echo(table(results))
    click.echo(f"results written to {write_json(results, SEED, FROZEN_NOW, repeat)}")
    click.echo(
        "measuring rate-limit efficiency (Square pull under a 20 requests/s budget)...", err=True
    )
    rate = measure_rate_limit(20.0, SEED)
    click.echo(
        f"rate limit: {rate.requests} requests in {rate.seconds:.2f} s against a bound of "
        f"{rate.bound_seconds:.2f} s (ratio {rate.ratio:.3f}, limit 1.05); "
        f"{rate.throttled} throttled ({rate.throttled_share:.1%}, limit 1%)"
    )
    if not rate.within_bound:
        raise click.ClickException("the Square client missed its rate-limit efficiency bound")
    click.echo("measuring Shopify pacing (standard-plan bucket: 2000 points, 100/s)...", err=True)
    pacing = measure_pacing(SEED)
    click.echo(
        f"shopify pacing: {pacing.orders} orders in {pacing.requests} requests, "
        f"{pacing.seconds:.2f} s against a bound of {pacing.bound_seconds:.2f} s "
        f"(({pacing.charged_cost:g} points needed - {pacing.initial_bucket:g} in the bucket) / "
        f"{pacing.restore_rate:g}/s; ratio {pacing.ratio:.3f}, limit 1.10); "
        f"{pacing.throttled} THROTTLED (limit 0); {pacing.requested_cost:g} points requested"
    )
    if not pacing.within_bound:
        raise click.ClickException("the Shopify client missed its pacing bound or was throttled")
    click.echo("measuring a Shopify full-history backfill, bulk against paged...", err=True)
    backfill = measure_backfill(SEED)
    click.echo(
        f"shopify backfill: bulk operation {backfill.orders_bulk} orders in "
        f"{backfill.bulk_seconds:.2f} s; paged {backfill.orders_paged} orders in "
        f"{backfill.paged_seconds:.2f} s"
    )
    if not backfill.equal_counts:
        raise click.ClickException("the Shopify bulk backfill and the paged read differ in orders")
    click.echo("measuring one warehouse day at small and large (sandbox limits off)...", err=True)
    try:
        days = measure_warehouse_days()
    except (BenchmarkFailure, OSError, RuntimeError) as error:
        raise click.ClickException(f"warehouse day: {error}") from error
    click.echo("warehouse day (`shelfops sync`: stores, catalog, one day of sales, with checks):")
    click.echo(warehouse_report(days))
    click.echo(f"results written to {write_warehouse_json(days)}")
    if not within_bound(days[0], days[-1]):
        raise click.ClickException("the warehouse's memory grew past its bound from small to large")
    click.echo("measuring the webhook receiver and delivery to `transactions`...", err=True)
    try:
        hooks = measure_webhooks()
    except (RuntimeError, OSError, httpx.HTTPError, subprocess.SubprocessError) as error:
        raise click.ClickException(f"webhooks: {error}") from error
    click.echo("webhooks (durable commits, signed Square events):")
    click.echo(webhooks_report(hooks))
    click.echo(f"results written to {write_webhooks_json(hooks)}")
    if not hooks.within_goals:
        raise click.ClickException("the webhook receiver missed a goal (see the figures above)")
    slow = [r for r in results if not r.within_bound]
    if slow:
        raise click.ClickException(
            "sandbox startup over its bound: "
            + ", ".join(
                f"{r.scale} {r.startup_seconds:.2f} s > {r.bound_seconds:g} s" for r in slow
            )
        )


if __name__ == "__main__":
    bench(prog_name="python -m benchmarks")
