"""`python -m benchmarks` (`make bench`): every benchmark, one table, `bench/results.json` (and
the same table as Markdown in `bench/results.md`, for the README).

Groups run in a fixed order; `--only` picks some (for development). A group that fails is
recorded as an error measure and the others still run; the exit status is 1 when any group
failed, and with `--strict` also when a goal was missed.
"""

import logging
import tempfile
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import click

from benchmarks import suite_busy, suite_limits
from benchmarks.results import DEFAULT_OUTPUT, Measure, markdown, table, write

Group = Callable[[suite_busy.BusyContext | None], list[Measure]]
BUSY_GROUPS = ("square_beside_peer", "shopify_limits_off", "shopify_e2e")


def _plain(run: Callable[[], list[Measure]]) -> Group:
    return lambda context: run()


def _busy(run: Callable[[suite_busy.BusyContext], list[Measure]]) -> Group:
    def group(context: suite_busy.BusyContext | None) -> list[Measure]:
        assert context is not None
        return run(context)

    return group


GROUPS: dict[str, Group] = {
    "startup": _plain(suite_limits.startup),
    "square_rate_limit": _plain(suite_limits.square_rate_limit),
    "shopify_paging": _plain(suite_limits.shopify_paging),
    "shopify_bulk": _plain(suite_limits.shopify_bulk),
    "warehouse_day": _plain(suite_limits.memory_small_large),
    "square_beside_peer": _busy(suite_busy.square),
    "shopify_limits_off": _busy(suite_busy.shopify_limits_off),
    "shopify_e2e": _busy(suite_busy.shopify_standard),
    "webhooks": _plain(suite_limits.receiver),
}


@click.command()
@click.option(
    "--only",
    "only",
    multiple=True,
    type=click.Choice(list(GROUPS)),
    help="Run only this group (repeatable); default: all, in order.",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_OUTPUT,
    show_default=True,
    help="Where to write the results.",
)
@click.option("--strict", is_flag=True, help="Exit 1 when any goal is missed.")
def bench(only: tuple[str, ...], output: Path, strict: bool) -> None:
    """Run the benchmarks and write one results file."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    chosen = [name for name in GROUPS if not only or name in only]
    started_at, started = datetime.now(UTC), time.perf_counter()
    measures: list[Measure] = []
    failed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="shelfops-bench-") as folder:
        context = None
        if any(name in BUSY_GROUPS for name in chosen):
            context = suite_busy.BusyContext(Path(folder), suite_busy.TruthJob(Path(folder)))
        for name in chosen:
            click.echo(f"[{time.perf_counter() - started:6.0f} s] {name}...", err=True)
            try:
                measures += GROUPS[name](context)
            # Any failure of one group is recorded and the others still run.
            except Exception as error:
                failed.append(name)
                click.echo(traceback.format_exc(), err=True)
                measures.append(
                    Measure(f"{name}.error", None, "", note=f"{type(error).__name__}: {error}")
                )
        if context is not None:
            context.truth.close()
        peers = context.peer_report() if context is not None else {}
    seconds = time.perf_counter() - started
    path = write(output, measures, started_at, seconds, {"groups": chosen, "peers": peers})
    path.with_suffix(".md").write_text(markdown(measures) + "\n")
    click.echo(table(measures))
    click.echo(
        f"\n{len(measures)} measures in {seconds / 60:.1f} min; written to {path} "
        f"(and as Markdown, for the README, to {path.with_suffix('.md').name})"
    )
    missed = [m.name for m in measures if m.met is False]
    if missed:
        click.echo(f"goals missed: {', '.join(missed)}")
    if failed or (strict and missed):
        raise SystemExit(1)


if __name__ == "__main__":
    bench(prog_name="python -m benchmarks")
