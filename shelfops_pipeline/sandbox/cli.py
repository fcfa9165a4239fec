"""`shelfops sandbox ...`: serve the emulated APIs, list their tokens, print the ground truth,
send signed webhooks."""

import asyncio
import csv
import json
import logging
import sys
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import click
import uvicorn

from shelfops_pipeline.cli_types import FiniteFloatRange
from shelfops_pipeline.sandbox.faults import FaultConfig
from shelfops_pipeline.sandbox.server import Sandbox, build_sandbox
from shelfops_pipeline.sandbox.settings import SandboxSettings
from shelfops_pipeline.sandbox.shopify.app_credentials import public_app_credentials
from shelfops_pipeline.sandbox.shopify.webhook_events import shopify_recent_events
from shelfops_pipeline.sandbox.square.serialize import SquareSerializer
from shelfops_pipeline.sandbox.square.webhook_events import square_recent_events
from shelfops_pipeline.sandbox.square.webhook_signing import square_message
from shelfops_pipeline.sandbox.subscription_fanout import SubscriptionFeed
from shelfops_pipeline.sandbox.timestamps import parse_rfc3339
from shelfops_pipeline.sandbox.tls import serve_plain_and_tls, server_certificate
from shelfops_pipeline.sandbox.truth import COLUMNS, truth_lines
from shelfops_pipeline.sandbox.webhook_delivery import (
    DeliveryConfig,
    LiveWebhooks,
    WebhookMessage,
    WebhookSigner,
    deliver_all,
)
from shelfops_pipeline.sandbox.webhook_options import WebhookOptions, webhook_options
from shelfops_pipeline.sandbox.world.config import SCALES

DEFAULT_PORT = 8750
DEFAULT_CA_FILE = Path(tempfile.gettempdir()) / "shelfops-sandbox-ca.pem"
PROVIDERS = ("square", "shopify")
# Subscription feeds post to each subscription's own URL; their template's target is never used.
SUBSCRIBED_URLS = "http://subscribed.invalid/"
# The instants a world can be frozen at: its history (up to ten years, and back to a clock change)
# and every day computation around it must stay within what datetime represents.
EARLIEST_NOW = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_NOW = datetime(9999, 1, 1, tzinfo=UTC)
INSTANT_RANGE = "1970-01-01 to 9998-12-31 UTC"


class _Instant(click.ParamType):
    name = "RFC3339"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime:
        if isinstance(value, datetime):
            return value
        outside = (
            f"{value!r} is outside {INSTANT_RANGE}; give one within, e.g. 2026-11-05T12:00:00Z"
        )
        try:
            instant = parse_rfc3339(str(value))
        except OverflowError:  # a valid local time past datetime's ends once in UTC
            self.fail(outside, param, ctx)
        except ValueError:
            self.fail(
                f"{value!r} is not a timestamp with an offset, e.g. 2026-11-05T12:00:00Z",
                param,
                ctx,
            )
        if not EARLIEST_NOW <= instant < LATEST_NOW:
            self.fail(outside, param, ctx)
        return instant


def _in_instant_range(ctx: click.Context, param: click.Parameter, value: datetime) -> datetime:
    """A business date the world can hold: one within the instants it may be frozen at."""
    if not EARLIEST_NOW.date() <= value.date() < LATEST_NOW.date():
        raise click.BadParameter(
            f"{value.date()} is outside {INSTANT_RANGE}; give a date within, e.g. 2026-11-05",
            ctx,
            param,
        )
    return value


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
@click.option(
    "--tls-port",
    type=click.IntRange(1, 65535),
    default=None,
    help="Also serve HTTPS here, with a throwaway certificate for *.myshopify.com.",
)
@click.option(
    "--tls-ca-file",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=DEFAULT_CA_FILE,
    show_default=True,
    help="Where to write the CA certificate that --tls-port's certificate chains to.",
)
@click.option(
    "--live",
    is_flag=True,
    help="Post webhooks for the world's changes as they happen (real clock) to the URLs "
    "subscribed through the Square and Shopify APIs, and to the targets below.",
)
@click.option(
    "--webhook-target", metavar="URL", default=None, help="Where --live posts Square webhooks."
)
@click.option(
    "--shopify-webhook-target",
    metavar="URL",
    default=None,
    help="Where --live posts Shopify webhooks.",
)
@click.option(
    "--webhook-interval",
    type=FiniteFloatRange(min=0.1),
    default=5.0,
    show_default=True,
    help="Seconds between two --live batches.",
)
@webhook_options
def serve(
    seed: int, scale: str, days: int | None, frozen_at: datetime | None, port: int,
    faults: tuple[str, ...], budget: str | None, outages: tuple[str, ...], retry_after: bool,
    log_level: str, tls_port: int | None, tls_ca_file: Path, live: bool,
    webhook_target: str | None, shopify_webhook_target: str | None, webhook_interval: float,
    webhooks: WebhookOptions,
) -> None:  # fmt: skip
    """Serve the sandbox on 127.0.0.1 until interrupted."""
    try:
        fault_config = FaultConfig.from_cli(faults, budget, outages, retry_after)
    except ValueError as error:
        raise click.UsageError(str(error)) from error
    if tls_port is not None and tls_port == port:
        raise click.UsageError("--tls-port must differ from --port")
    square_live, shopify_live = _live_feeds(
        seed, frozen_at, live, webhook_target, shopify_webhook_target, webhook_interval, webhooks
    )
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    settings = SandboxSettings(
        seed=seed, scale=scale, frozen_at=frozen_at, days=days, faults=fault_config
    )
    square_subscribed, shopify_subscribed = _subscription_feeds(
        seed, live, webhook_interval, webhooks
    )
    built = build_sandbox(
        settings,
        square_live,
        shopify_live=shopify_live,
        subscription_feed=square_subscribed,
        shopify_subscription_feed=shopify_subscribed,
    )
    _announce(built, port, square_live, shopify_live, live)
    access_log = log_level == "debug"
    if tls_port is None:
        uvicorn.run(
            built.app, host="127.0.0.1", port=port, log_level=log_level, access_log=access_log
        )
        return
    with server_certificate(tls_ca_file) as certificate:
        click.echo(
            f"sandbox: Shopify over TLS at https://{{shop}}.myshopify.com:{tls_port}/admin/api/ "
            f"(resolve *.myshopify.com to 127.0.0.1); trust the CA in {certificate.ca_cert} "
            "via SSL_CERT_FILE / REQUESTS_CA_BUNDLE"
        )
        serve_plain_and_tls(built.app, port, tls_port, certificate, log_level, access_log)


def _live_feeds(
    seed: int, frozen_at: datetime | None, live: bool, square_target: str | None,
    shopify_target: str | None, interval: float, webhooks: WebhookOptions,
) -> tuple[LiveWebhooks | None, LiveWebhooks | None]:  # fmt: skip
    """The live webhook feeds `serve` was asked for; usage errors for impossible requests."""
    if not live:
        if square_target or shopify_target:
            raise click.UsageError(
                "--webhook-target and --shopify-webhook-target only apply with --live"
            )
        return None, None
    if frozen_at is not None:
        raise click.UsageError(
            "--live sends webhooks as the real clock moves; it cannot be used with --now"
        )
    square_live = shopify_live = None
    if square_target:
        config, square_signer = webhooks.square(square_target, seed)
        square_live = LiveWebhooks(config, square_signer, interval)
    if shopify_target:
        secret = public_app_credentials(seed).client_secret
        config, shopify_signer = webhooks.shopify(shopify_target, seed, secret)
        shopify_live = LiveWebhooks(config, shopify_signer, interval)
    return square_live, shopify_live


def _subscription_feeds(
    seed: int, live: bool, interval: float, webhooks: WebhookOptions
) -> tuple[SubscriptionFeed | None, SubscriptionFeed | None]:
    """With --live, both providers' events go to their webhook subscriptions' URLs too."""
    if not live:
        return None, None
    return (
        SubscriptionFeed(webhooks.square_delivery(SUBSCRIBED_URLS, seed), interval),
        SubscriptionFeed(webhooks.shopify_delivery(SUBSCRIBED_URLS, seed), interval),
    )


def _announce(
    built: Sandbox,
    port: int,
    square_live: LiveWebhooks | None,
    shopify_live: LiveWebhooks | None,
    live: bool,
) -> None:
    """Tell the user what is served where; never a token or a secret."""
    world = built.world
    settings = built.settings
    frozen = f"frozen at {world.now()}" if settings.frozen_at else "real clock"
    click.echo(
        f"sandbox: seed {settings.seed}, scale {settings.scale}, {len(world.stores)} Square "
        f"stores, {len(world.shops)} Shopify shops, history from {world.start_date} ({frozen})"
    )
    click.echo(
        f"sandbox: Square API at http://127.0.0.1:{port}/square/v2/ ; tokens: shelfops sandbox tokens --seed {settings.seed} --scale {settings.scale}"
    )
    click.echo(
        f"sandbox: Shopify Admin API at http://127.0.0.1:{port}/shopify/{{shop}}/admin/api/ "
        f"and http://127.0.0.1:{port}/admin/api/ (the access token names the shop)"
    )
    for name, feed in (("Square", square_live), ("Shopify", shopify_live)):
        if feed is not None:
            click.echo(
                f"sandbox: live {name} webhooks to {feed.config.target_url} "
                f"every {feed.interval_seconds:g} s"
            )
    if live:
        click.echo(
            "sandbox: live webhooks to every URL subscribed through the Square and Shopify APIs"
        )


@sandbox.command("send-webhooks")
@world_options
@click.option("--target", required=True, metavar="URL", help="Where to POST the events.")
@click.option(
    "--provider",
    type=click.Choice(PROVIDERS),
    default="square",
    show_default=True,
    help="Whose events to send, signed and retried the way that provider does.",
)
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
    type=FiniteFloatRange(min=0),
    default=None,
    help="Stop waiting for acknowledgements after this many seconds.",
)
@click.option("--log-level", type=click.Choice(["debug", "info", "warning"]), default="info")
def send_webhooks(
    seed: int, scale: str, days: int | None, frozen_at: datetime | None, target: str,
    provider: str, count: int, webhooks: WebhookOptions, max_wait: float | None, log_level: str,
) -> None:  # fmt: skip
    """Send the world's latest events to --target, signed and retried as the provider does.

    Shopify webhooks are signed with the sandbox app's client secret (`shelfops sandbox tokens`).
    Exits 1 if any event was not acknowledged (given up, or still pending at --max-wait).
    """
    config: DeliveryConfig
    signer: WebhookSigner
    if provider == "square":
        config, signer = webhooks.square(target, seed)
    else:
        config, signer = webhooks.shopify(target, seed, public_app_credentials(seed).client_secret)
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    world = build_sandbox(
        SandboxSettings(seed=seed, scale=scale, frozen_at=frozen_at, days=days)
    ).world
    messages: list[WebhookMessage]
    if provider == "square":
        events = square_recent_events(world, SquareSerializer(seed), count)
        messages = [square_message(event) for event in events]
    else:
        messages = shopify_recent_events(world, count)
    stats = asyncio.run(deliver_all(messages, config, signer, world.now, max_wait))
    click.echo(f"send-webhooks: {stats.summary()}, to {target}")
    if stats.unacknowledged:
        raise click.exceptions.Exit(1)


@sandbox.command()
@world_options
def tokens(seed: int, scale: str, days: int | None, frozen_at: datetime | None) -> None:
    """Print the sandbox apps' credentials and each account's access token as JSON.

    Square: the OAuth app and each merchant's personal access token. Shopify: the public app
    and, per shop, its custom app's Admin API access token and credentials.
    """
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
        "shopify": _shopify_listing(built),
    }
    click.echo(json.dumps(listing, indent=2))


def _shopify_listing(built: Sandbox) -> dict[str, Any]:
    shopify = built.shopify_tokens
    world = built.world
    return {
        "application": {
            "client_id": shopify.application.client_id,
            "client_secret": shopify.application.client_secret,
        },
        "shops": [
            {
                "customer_id": shop.customer_id,
                "name": shop.name,
                "shop": shop.domain,
                "access_token": shopify.custom_apps[shop.domain].access_token,
                "api_key": shopify.custom_apps[shop.domain].credentials.client_id,
                "api_secret_key": shopify.custom_apps[shop.domain].credentials.client_secret,
                "location_ids": [
                    int(s.id) for s in world.stores_of(shop.domain) if s.kind != "online"
                ],
            }
            for shop in world.shops
        ],
    }


@sandbox.command()
@world_options
@click.option(
    "--date",
    "business_date",
    type=click.DateTime(["%Y-%m-%d"]),
    required=True,
    callback=_in_instant_range,
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
