"""`shelfops sandbox ...`: serve the emulated APIs, list their tokens, print the ground truth,
send signed webhooks."""

import asyncio
import csv
import functools
import json
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import click
import httpx
import uvicorn

from shelfops_pipeline.sandbox.faults import FaultConfig
from shelfops_pipeline.sandbox.server import build_sandbox
from shelfops_pipeline.sandbox.settings import SandboxSettings
from shelfops_pipeline.sandbox.square.serialize import SquareSerializer
from shelfops_pipeline.sandbox.square.webhook_events import square_recent_events
from shelfops_pipeline.sandbox.square.webhook_signing import (
    SquareWebhookSigner,
    square_message,
    square_retry_schedule,
)
from shelfops_pipeline.sandbox.timestamps import parse_rfc3339
from shelfops_pipeline.sandbox.truth import COLUMNS, truth_lines
from shelfops_pipeline.sandbox.webhook_delivery import DeliveryConfig, LiveWebhooks, deliver_all
from shelfops_pipeline.sandbox.world.config import SCALES

DEFAULT_PORT = 8750
SIGNATURE_KEY_ENV = "SHELFOPS_SANDBOX_WEBHOOK_SIGNATURE_KEY"
NOTIFICATION_URL_ENV = "SHELFOPS_SANDBOX_WEBHOOK_URL"


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


@dataclass(frozen=True)
class WebhookOptions:
    """How webhooks are signed and delivered, as given on the command line."""

    signature_key: str | None
    notification_url: str | None
    duplicate_rate: float
    retry_unit_seconds: float
    retry_horizon_minutes: float
    timeout_seconds: float

    def delivery(self, target: str, seed: int) -> tuple[DeliveryConfig, SquareWebhookSigner]:
        """The delivery settings for `target`; usage errors for a bad URL or a missing key."""
        try:
            url = httpx.URL(target)
        except httpx.InvalidURL:
            url = httpx.URL()
        if url.scheme not in ("http", "https") or not url.host:
            raise click.UsageError(f"the webhook target {target!r} is not an http(s) URL")
        if not self.signature_key:
            raise click.UsageError(
                f"no webhook signature key: pass --signature-key or set {SIGNATURE_KEY_ENV}"
            )
        signer = SquareWebhookSigner(self.signature_key, self.notification_url or target)
        config = DeliveryConfig(
            target_url=target,
            schedule=square_retry_schedule(self.retry_unit_seconds, self.retry_horizon_minutes),
            timeout_seconds=self.timeout_seconds,
            duplicate_rate=self.duplicate_rate,
            seed=seed,
        )
        return config, signer


def webhook_options(command: Callable[..., None]) -> Callable[..., None]:
    """The signing and delivery options, handed to the command as one `webhooks` argument."""

    @functools.wraps(command)
    def with_webhook_options(**kwargs: Any) -> None:
        fields = WebhookOptions.__dataclass_fields__
        webhooks = WebhookOptions(**{name: kwargs.pop(name) for name in fields})
        command(webhooks=webhooks, **kwargs)

    options = [
        click.option("--signature-key", envvar=SIGNATURE_KEY_ENV, show_envvar=True,
                     help="The webhook subscription's signature key."),
        click.option("--notification-url", envvar=NOTIFICATION_URL_ENV, show_envvar=True,
                     help="The subscription URL the signature covers (default: the target)."),
        click.option("--duplicate-rate", type=click.FloatRange(0, 1), default=0.0,
                     show_default=True, help="Share of acknowledged events sent a second time."),
        click.option("--retry-unit-seconds", type=click.FloatRange(min=0.001), default=60.0,
                     show_default=True,
                     help="How long one minute of Square's retry schedule lasts."),
        click.option("--retry-horizon-minutes", type=click.FloatRange(min=0), default=24 * 60.0,
                     show_default=True, help="Retry for this many schedule minutes, then give up."),
        click.option("--timeout", "timeout_seconds", type=click.FloatRange(min=0.001),
                     default=10.0, show_default=True,
                     help="Seconds the receiver has to answer 2xx."),
    ]  # fmt: skip
    decorated: Callable[..., None] = with_webhook_options
    for option in reversed(options):
        decorated = option(decorated)
    return decorated


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
@click.option(
    "--live",
    is_flag=True,
    help="Post Square webhooks for the world's changes as they happen (real clock).",
)
@click.option(
    "--webhook-target", metavar="URL", default=None, help="Where --live posts the webhooks."
)
@click.option(
    "--webhook-interval",
    type=click.FloatRange(min=0.1),
    default=5.0,
    show_default=True,
    help="Seconds between two --live batches.",
)
@webhook_options
def serve(
    seed: int, scale: str, days: int | None, frozen_at: datetime | None, port: int,
    faults: tuple[str, ...], budget: str | None, outages: tuple[str, ...], retry_after: bool,
    log_level: str, live: bool, webhook_target: str | None, webhook_interval: float,
    webhooks: WebhookOptions,
) -> None:  # fmt: skip
    """Serve the sandbox on 127.0.0.1 until interrupted."""
    try:
        fault_config = FaultConfig.from_cli(faults, budget, outages, retry_after)
    except ValueError as error:
        raise click.UsageError(str(error)) from error
    live_webhooks = None
    if live:
        if frozen_at is not None:
            raise click.UsageError(
                "--live sends webhooks as the real clock moves; it cannot be used with --now"
            )
        if not webhook_target:
            raise click.UsageError("--live needs --webhook-target URL")
        config, signer = webhooks.delivery(webhook_target, seed)
        live_webhooks = LiveWebhooks(config, signer, webhook_interval)
    elif webhook_target:
        raise click.UsageError("--webhook-target only applies with --live")
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    settings = SandboxSettings(
        seed=seed, scale=scale, frozen_at=frozen_at, days=days, faults=fault_config
    )
    built = build_sandbox(settings, live_webhooks)
    world = built.world
    click.echo(
        f"sandbox: seed {seed}, scale {scale}, {len(world.stores)} Square stores, history from "
        f"{world.start_date} ({'frozen at ' + str(world.now()) if frozen_at else 'real clock'})"
    )
    click.echo(
        f"sandbox: Square API at http://127.0.0.1:{port}/square/v2/ ; tokens: shelfops sandbox tokens --seed {seed} --scale {scale}"
    )
    if live_webhooks is not None:
        click.echo(
            f"sandbox: live Square webhooks to {webhook_target} every {webhook_interval:g} s"
        )
    uvicorn.run(
        built.app, host="127.0.0.1", port=port, log_level=log_level, access_log=log_level == "debug"
    )


@sandbox.command("send-webhooks")
@world_options
@click.option("--target", required=True, metavar="URL", help="Where to POST the events.")
@click.option(
    "--count",
    type=click.IntRange(1, 100_000),
    default=10,
    show_default=True,
    help="How many of the world's latest events to send.",
)
@webhook_options
@click.option(
    "--max-wait",
    type=click.FloatRange(min=0),
    default=None,
    help="Stop waiting for acknowledgements after this many seconds.",
)
@click.option("--log-level", type=click.Choice(["debug", "info", "warning"]), default="info")
def send_webhooks(
    seed: int, scale: str, days: int | None, frozen_at: datetime | None, target: str,
    count: int, webhooks: WebhookOptions, max_wait: float | None, log_level: str,
) -> None:  # fmt: skip
    """Send the world's latest Square events to --target, signed and retried as Square does.

    Exits 1 if any event was not acknowledged (given up, or still pending at --max-wait).
    """
    config, signer = webhooks.delivery(target, seed)
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    world = build_sandbox(
        SandboxSettings(seed=seed, scale=scale, frozen_at=frozen_at, days=days)
    ).world
    events = square_recent_events(world, SquareSerializer(seed), count)
    messages = [square_message(event) for event in events]
    stats = asyncio.run(deliver_all(messages, config, signer, world.now, max_wait))
    click.echo(f"send-webhooks: {stats.summary()}, to {target}")
    if stats.unacknowledged:
        raise click.exceptions.Exit(1)


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
