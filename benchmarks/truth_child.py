"""`python -m benchmarks.truth_child`: the sandbox's ground truth for some customers and dates,
as JSON lines (the columns of `shelfops sandbox truth --format jsonl`), computed in its own
process so the benchmark's timed work keeps its core. One process for all dates, because the
truth of neighbouring dates shares the orders it generates.
"""

import json
from datetime import datetime
from pathlib import Path

import click

from shelfops_pipeline.sandbox.server import build_sandbox
from shelfops_pipeline.sandbox.settings import SandboxSettings
from shelfops_pipeline.sandbox.timestamps import parse_rfc3339
from shelfops_pipeline.sandbox.truth import truth_lines


@click.command()
@click.option("--seed", type=int, required=True)
@click.option("--scale", required=True)
@click.option("--now", required=True, help="The frozen instant (RFC 3339).")
@click.option("--date", "dates", multiple=True, required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--customer", "customers", multiple=True, required=True)
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
def main(
    seed: int, scale: str, now: str, dates: tuple[datetime, ...], customers: tuple[str, ...],
    out: Path,
) -> None:  # fmt: skip
    """Write the truth lines of CUSTOMERS on DATES to OUT."""
    world = build_sandbox(
        SandboxSettings(seed=seed, scale=scale, frozen_at=parse_rfc3339(now))
    ).world
    wanted = set(customers)
    with out.open("w") as file:
        for day in dates:
            for line in truth_lines(world, day.date()):
                if line.customer_id in wanted:
                    file.write(json.dumps(line.as_text()) + "\n")


if __name__ == "__main__":
    main(prog_name="python -m benchmarks.truth_child")
