"""`shelfops webhooks`: serve the receiver, list dead letters, replay them."""

import logging

import click
import uvicorn

from shelfops_pipeline.credentials.paths import shelfops_home
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
    ReceiverSettings,
)


@click.group()
def webhooks() -> None:
    """Receive Square and Shopify webhooks into a durable queue the Dagster sensor applies."""


@webhooks.command()
@click.option("--host", default=DEFAULT_HOST, show_default=True)
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
    home = shelfops_home()
    settings = ReceiverSettings.from_env(
        home, f"http://{host}:{port}/webhooks/square", max_body_bytes
    )
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
        build_receiver(settings),
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
    "--event-id", "event_ids", multiple=True, help="Replay this event only; repeat for several."
)
def replay(event_ids: tuple[str, ...]) -> None:
    """Queue dead-lettered events again (all of them by default); the sensor applies them."""
    count = _queue().replay(event_ids)
    if event_ids and count < len(set(event_ids)):
        click.echo(f"replayed {count} of {len(set(event_ids))}: the others are not dead letters")
    else:
        click.echo(f"replayed {count} dead-lettered events")
