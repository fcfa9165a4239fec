"""`shelfops webhooks`: serve the receiver, list dead letters, replay them."""

import logging
import os
import sqlite3

import click
import uvicorn

from shelfops_pipeline.cli_types import PrintableText
from shelfops_pipeline.credentials.paths import HOME_ENV, shelfops_home
from shelfops_pipeline.credentials.urls import http_url_problem, is_host_name
from shelfops_pipeline.webhooks.connection_cli import WEBHOOKS_URL_ENV
from shelfops_pipeline.webhooks.keyring import stored_square_subscriptions
from shelfops_pipeline.webhooks.queue import EventQueue, queue_path
from shelfops_pipeline.webhooks.receiver import build_receiver
from shelfops_pipeline.webhooks.settings import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    MAX_BODY_BYTES,
    SHOPIFY_SECRET_ENV,
    SQUARE_KEY_ENV,
    SQUARE_URL_ENV,
    ReceiverSettings,
)


def checked_host(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """--host: an IP address or a host name, refused here rather than when uvicorn binds."""
    if not is_host_name(value):
        raise click.BadParameter(
            f"{value!r} is not an IP address or host name; give one like 127.0.0.1 or 0.0.0.0",
            ctx,
            param,
        )
    return value


def check_receiver_environment() -> None:
    """Refuse variables the receiver would silently verify nothing with: a blank secret (set,
    but only spaces) or a Square notification URL that is not one. Secrets are never echoed."""
    for name in (SQUARE_KEY_ENV, SHOPIFY_SECRET_ENV):
        value = os.environ.get(name)
        if value and not value.strip():
            raise click.ClickException(f"{name} is blank; set it to the real secret or unset it")
    url = os.environ.get(SQUARE_URL_ENV)
    problem = None if not url else http_url_problem(url)
    if problem is not None:  # the URL is not echoed: its user info may hold a password
        raise click.ClickException(
            f"{SQUARE_URL_ENV} {problem}; set it to the URL Square posts to, "
            "e.g. https://hooks.example.com/webhooks/square"
        )


@click.group()
def webhooks() -> None:
    """Receive Square and Shopify webhooks into a durable queue the Dagster sensor applies."""


@webhooks.command()
@click.option("--host", default=DEFAULT_HOST, show_default=True, callback=checked_host)
@click.option("--port", type=click.IntRange(0, 65535), default=DEFAULT_PORT, show_default=True)
@click.option(
    "--max-body-bytes",
    type=click.IntRange(min=1),
    default=MAX_BODY_BYTES,
    show_default=True,
    help="Larger deliveries get 413.",
)
@click.option("--log-level", type=click.Choice(["debug", "info", "warning"]), default="info")
def serve(host: str, port: int, max_body_bytes: int, log_level: str) -> None:
    """Serve /webhooks/square and /webhooks/shopify until interrupted.

    Square deliveries are verified with the keys of the subscriptions `shelfops connect` made
    (stored encrypted), or SHELFOPS_SQUARE_WEBHOOK_SIGNATURE_KEY over SHELFOPS_SQUARE_WEBHOOK_URL
    (default: this server's /webhooks/square URL); Shopify ones with
    SHELFOPS_SHOPIFY_CLIENT_SECRET. A provider without its secret has every delivery refused.
    """
    check_receiver_environment()
    home = shelfops_home()
    settings = ReceiverSettings.from_env(
        home, f"http://{host}:{port}/webhooks/square", max_body_bytes
    )
    try:
        receiver = build_receiver(settings)
    except (OSError, sqlite3.Error) as error:
        raise click.ClickException(
            f"cannot open the webhook queue {queue_path(home)} ({error}); point {HOME_ENV} at a "
            "writable directory"
        ) from None
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    stored = stored_square_subscriptions(home)
    if not settings.square and not stored:
        click.echo(
            f"webhooks: no Square subscription yet (connect a merchant with {WEBHOOKS_URL_ENV} "
            f"set, or set {SQUARE_KEY_ENV}); Square deliveries are refused until there is one",
            err=True,
        )
    elif stored:
        urls = ", ".join(sorted({s.notification_url for s in stored}))
        click.echo(f"webhooks: Square subscriptions for {urls}", err=True)
    if not settings.shopify_secrets:
        click.echo(
            f"webhooks: {SHOPIFY_SECRET_ENV} is not set; Shopify deliveries are refused", err=True
        )
    click.echo(f"webhooks: receiving at http://{host}:{port}/webhooks/{{square,shopify}}, "
               f"queue {queue_path(home)}")  # fmt: skip
    uvicorn.run(
        receiver,
        host=host,
        port=port,
        log_level=log_level,
        access_log=log_level == "debug",
    )


def _queue() -> EventQueue:
    path = queue_path()
    if not path.exists():
        raise click.ClickException(f"no webhook queue at {path}; run `shelfops webhooks serve`")
    return EventQueue(path)


@webhooks.command("dead-letters")
def dead_letters() -> None:
    """Events that failed too often to apply, with the reason."""
    found = _queue().dead_letters()
    if not found:
        click.echo("no dead letters")
        return
    for letter in found:
        click.echo(
            f"{letter.provider} {letter.event_id} {letter.topic} customer "
            f"{letter.customer_id or '-'}: {letter.attempts} attempts, {letter.reason}"
        )


@webhooks.command()
@click.option(
    "--event-id",
    "event_ids",
    multiple=True,
    type=PrintableText("event id", "the ones `shelfops webhooks dead-letters` lists"),
    help="Replay this event only; repeat for several.",
)
def replay(event_ids: tuple[str, ...]) -> None:
    """Queue dead-lettered events again (all of them by default); the sensor applies them."""
    count = _queue().replay(event_ids)
    if event_ids and count < len(set(event_ids)):
        click.echo(f"replayed {count} of {len(set(event_ids))}: the others are not dead letters")
    else:
        click.echo(f"replayed {count} dead-lettered events")
