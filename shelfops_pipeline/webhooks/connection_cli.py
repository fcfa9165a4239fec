"""Command-line ends of the subscription lifecycle: subscribe after `connect`,
`shelfops webhooks subscribe`, and `shelfops connections remove`.

The Dagster-backed pieces are imported inside the commands, so `connect` without webhooks and
`--help` stay fast.
"""

import os

import click

from shelfops_pipeline.cli_types import customer_option
from shelfops_pipeline.credentials.errors import CredentialError
from shelfops_pipeline.credentials.keys import load_keys
from shelfops_pipeline.credentials.models import SOURCES, Connection, Source
from shelfops_pipeline.credentials.store import CredentialStore
from shelfops_pipeline.credentials.urls import secure_base_url
from shelfops_pipeline.sources.shopify import oauth as shopify
from shelfops_pipeline.sources.square import oauth as square

WEBHOOKS_URL_ENV = "SHELFOPS_WEBHOOK_BASE_URL"
# Where each provider is reached, as the connect commands and the resources read it.
BASE_URLS = {
    "square": (square.BASE_URL_ENV, square.PRODUCTION_BASE_URL),
    "shopify": (shopify.BASE_URL_ENV, shopify.PRODUCTION_BASE_URL),
}


def _resubscribe_hint(connection: Connection) -> str:
    return (
        f"`shelfops webhooks subscribe --customer {connection.customer_id} "
        f"--source {connection.source}`"
    )


def subscribe_after_connect(
    store: CredentialStore, connection: Connection, webhooks_url: str | None, base_url: str
) -> None:
    """Subscribe the receiver for a new connection, or say how to when no receiver is set."""
    if not webhooks_url:
        click.echo(
            f"webhooks: not subscribed; set {WEBHOOKS_URL_ENV} to the public URL of "
            f"`shelfops webhooks serve` and run {_resubscribe_hint(connection)}"
        )
        return
    from shelfops_pipeline.webhooks.lifecycle import SUBSCRIPTION_ERRORS, subscribe_connection

    try:
        click.echo(subscribe_connection(store, connection, webhooks_url, base_url).describe())
    except SUBSCRIPTION_ERRORS as error:
        raise click.ClickException(
            f"connected, but the webhooks are not subscribed: {error}; once fixed, run "
            f"{_resubscribe_hint(connection)}"
        ) from None


def _provider_base_url(source: Source) -> str:
    variable, production = BASE_URLS[source]
    return os.environ.get(variable) or production


def _connection(store: CredentialStore, customer_id: str, source: Source) -> Connection:
    connection = store.find(customer_id, source)
    if connection is None:
        raise click.ClickException(
            f"customer {customer_id} has no {source} connection; `shelfops connections list` "
            "shows them"
        )
    return connection


def checked_webhooks_url(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> str | None:
    """The receiver's base URL, refused at parse time unless https or loopback http: providers
    post signed events there."""
    if value is not None:
        try:
            secure_base_url(value, "webhooks URL")
        except CredentialError as error:
            raise click.BadParameter(str(error), ctx, param) from None
    return value


webhooks_url_option = click.option(
    "--webhooks-url",
    "webhooks_url",
    envvar=WEBHOOKS_URL_ENV,
    show_envvar=True,
    callback=checked_webhooks_url,
    help="Public base URL of `shelfops webhooks serve`; when set, the receiver is subscribed "
    "to this account's events.",
)
source_option = click.option(
    "--source", type=click.Choice(SOURCES), required=True, help="Which provider's connection."
)


@click.command()
@customer_option
@source_option
@click.option(
    "--webhooks-url",
    envvar=WEBHOOKS_URL_ENV,
    show_envvar=True,
    required=True,
    callback=checked_webhooks_url,
    help="Public base URL of `shelfops webhooks serve`.",
)
def subscribe(customer_id: str, source: Source, webhooks_url: str) -> None:
    """Subscribe the receiver to a connected account's events (again); idempotent."""
    from shelfops_pipeline.webhooks.lifecycle import SUBSCRIPTION_ERRORS, subscribe_connection

    try:
        store = CredentialStore(keys=load_keys())
        connection = _connection(store, customer_id, source)
        subscribed = subscribe_connection(
            store, connection, webhooks_url, _provider_base_url(source)
        )
    except SUBSCRIPTION_ERRORS as error:
        raise click.ClickException(f"not subscribed: {error}") from None
    click.echo(subscribed.describe())


@click.command()
@customer_option
@source_option
@click.option(
    "--keep-subscriptions",
    is_flag=True,
    help="Forget the connection even when its webhook subscriptions cannot be removed "
    "(they stay at the provider until deleted there).",
)
def remove(customer_id: str, source: Source, keep_subscriptions: bool) -> None:
    """Disconnect: remove the account's webhook subscriptions, then forget its tokens."""
    from shelfops_pipeline.webhooks.lifecycle import SUBSCRIPTION_ERRORS, unsubscribe_connection

    try:
        store = CredentialStore(keys=load_keys())
        connection = _connection(store, customer_id, source)
    except CredentialError as error:
        raise click.ClickException(str(error)) from None
    removed = 0
    if not keep_subscriptions:
        try:
            removed = unsubscribe_connection(store, connection, _provider_base_url(source))
        except SUBSCRIPTION_ERRORS as error:
            raise click.ClickException(
                f"could not remove the webhook subscriptions at {source.title()}: {error}; "
                "fix that and retry, or add --keep-subscriptions to forget the connection anyway"
            ) from None
    store.remove(connection.id)
    click.echo(
        f"removed {connection.id}: customer {customer_id}, {source} account "
        f"{connection.account}; {removed} webhook subscription(s) deleted at {source.title()}"
    )
