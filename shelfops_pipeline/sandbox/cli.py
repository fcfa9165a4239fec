"""`shelfops sandbox ...`: serve the emulated APIs, list their tokens, print the ground truth."""

import csv
import json
import logging
import sys
from datetime import date, datetime

import click
import uvicorn

from shelfops_pipeline.sandbox.faults import FaultConfig
from shelfops_pipeline.sandbox.server import build_sandbox
from shelfops_pipeline.sandbox.settings import SandboxSettings
from shelfops_pipeline.sandbox.timestamps import parse_rfc3339
from shelfops_pipeline.sandbox.truth import COLUMNS, truth_lines
from shelfops_pipeline.sandbox.world.config import SCALES

DEFAULT_PORT = 8750


class _Instant(click.ParamType):
    name = "RFC3339"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            return parse_rfc3339(str(value))
        except ValueError:
            self.fail(
                f"{value!r} is not a timestamp with an offset, e.g. 2026-11-05T12:00:00Z",
                param,
                ctx,
            )


def world_options(command: click.decorators.FC) -> click.decorators.FC:
    """The options that pick one world; serve, tokens and truth must be given the same ones."""
    options = [
        click.option("--seed", type=int, default=7, show_default=True, help="World seed."),
        click.option(
            "--scale", type=click.Choice(sorted(SCALES)), default="demo", show_default=True,
            help="demo: seconds to generate; small: tests; large: about a million lines.",
        ),
        click.option("--days", type=click.IntRange(1, 3650), default=None,
                     help="Days of order history before now (default: the scale's)."),
        click.option("--now", "frozen_at", type=_Instant(), default=None,
                     help="Freeze the sandbox clock at this instant, for repeatable runs."),
    ]  # fmt: skip
    for option in reversed(options):
        command = option(command)
    return command


@click.group()
def sandbox() -> None:
    """The local Square (and Shopify) sandbox used by the demo, the tests and the benchmarks."""


@sandbox.command()
@world_options
@click.option("--port", type=click.IntRange(0, 65535), default=DEFAULT_PORT, show_default=True)
@click.option(
    "--fault",
    "faults",
    multiple=True,
    metavar="KIND=RATE",
    help="Inject a fault, e.g. 503=0.02, slow=0.01, drop=0.005, truncate=0.01, burst_429=0.01.",
)
@click.option(
    "--budget",
    default=None,
    metavar="N/s[,burst=B]",
    help="Per-merchant request budget; over it requests get 429 RATE_LIMITED.",
)
@click.option(
    "--outage",
    "outages",
    multiple=True,
    metavar="PATH=START..END",
    help="Answer 503 on paths under PATH between two RFC 3339 instants.",
)
@click.option(
    "--retry-after/--no-retry-after", default=False, help="Send Retry-After on 429 and 503."
)
@click.option("--log-level", type=click.Choice(["debug", "info", "warning"]), default="info")
def serve(
    seed: int, scale: str, days: int | None, frozen_at: datetime | None, port: int,
    faults: tuple[str, ...], budget: str | None, outages: tuple[str, ...], retry_after: bool,
    log_level: str,
) -> None:  # fmt: skip
    """Serve the sandbox on 127.0.0.1 until interrupted."""
    try:
        fault_config = FaultConfig.from_cli(faults, budget, outages, retry_after)
    except ValueError as error:
        raise click.UsageError(str(error)) from error
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    settings = SandboxSettings(
        seed=seed, scale=scale, frozen_at=frozen_at, days=days, faults=fault_config
    )
    built = build_sandbox(settings)
    world = built.world
    click.echo(
        f"sandbox: seed {seed}, scale {scale}, {len(world.stores)} Square stores, history from "
        f"{world.start_date} ({'frozen at ' + str(world.now()) if frozen_at else 'real clock'})"
    )
    click.echo(
        f"sandbox: Square API at http://127.0.0.1:{port}/square/v2/ ; tokens: shelfops sandbox tokens --seed {seed} --scale {scale}"
    )
    uvicorn.run(
        built.app, host="127.0.0.1", port=port, log_level=log_level, access_log=log_level == "debug"
    )


@sandbox.command()
@world_options
def tokens(seed: int, scale: str, days: int | None, frozen_at: datetime | None) -> None:
    """Print the sandbox app's OAuth credentials and each merchant's personal access token as JSON."""
    built = build_sandbox(SandboxSettings(seed=seed, scale=scale, frozen_at=frozen_at, days=days))
    personal = built.tokens.personal_tokens()
    application = built.tokens.application
    listing = {
        "application": {
            "client_id": application.client_id,
            "client_secret": application.client_secret,
        },
        "merchants": [
            {
                "customer_id": c.id,
                "name": c.name,
                "merchant_id": c.square_merchant_id,
                "access_token": personal[c.square_merchant_id],
                "location_ids": [s.id for s in built.world.stores_of(c.square_merchant_id)],
            }
            for c in built.world.customers
            if c.square_merchant_id
        ],
    }
    click.echo(json.dumps(listing, indent=2))


@sandbox.command()
@world_options
@click.option(
    "--date",
    "business_date",
    type=click.DateTime(["%Y-%m-%d"]),
    required=True,
    help="Business date in the stores' own time zones.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["csv", "jsonl"]),
    default="csv",
    show_default=True,
)
def truth(
    seed: int, scale: str, days: int | None, frozen_at: datetime | None,
    business_date: datetime, output_format: str,
) -> None:  # fmt: skip
    """Print the transactions lines a correct pipeline must produce for one business date."""
    built = build_sandbox(SandboxSettings(seed=seed, scale=scale, frozen_at=frozen_at, days=days))
    day: date = business_date.date()
    rows = [line.as_text() for line in truth_lines(built.world, day)]
    if output_format == "jsonl":
        for row in rows:
            click.echo(json.dumps(row))
        return
    writer = csv.DictWriter(sys.stdout, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
