"""`shelfops connect`, `shelfops connections` and `shelfops keys`: authorize providers, show
connection health, manage the encryption keys. Tokens are never printed."""

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import click

from shelfops_pipeline.cli_types import FiniteFloatRange, customer_option, not_blank
from shelfops_pipeline.credentials.connect import connect as run_connect
from shelfops_pipeline.credentials.errors import CredentialError
from shelfops_pipeline.credentials.keys import (
    KEYS_ENV,
    ensure_local_key_file,
    generate_key,
    load_keys,
)
from shelfops_pipeline.credentials.models import Connection, ConnectionInfo
from shelfops_pipeline.credentials.paths import HOME_ENV
from shelfops_pipeline.credentials.state import OAuthStates
from shelfops_pipeline.credentials.store import CredentialStore
from shelfops_pipeline.credentials.urls import secure_base_url
from shelfops_pipeline.sources.shopify import oauth as shopify
from shelfops_pipeline.sources.shopify.connect import connect_client_credentials, connect_shop
from shelfops_pipeline.sources.square.oauth import (
    BASE_URL_ENV,
    CLIENT_ID_ENV,
    CLIENT_SECRET_ENV,
    DEFAULT_SCOPES,
    PRODUCTION_BASE_URL,
    SquareApp,
    SquareOAuth,
    approve_in_sandbox,
)
from shelfops_pipeline.webhooks.connection_cli import subscribe_after_connect, webhooks_url_option

TABLE_COLUMNS = (
    "ID", "CUSTOMER", "SOURCE", "ACCOUNT", "SCOPES", "TOKEN EXPIRES IN", "STATUS", "LAST ERROR",
)  # fmt: skip


def expires_in(expires_at: datetime | None, now: datetime) -> str:
    """How long an access token has left, as an operator reads it: `29d 23h`, `expired`."""
    if expires_at is None:
        return "never"
    seconds = int((expires_at - now).total_seconds())
    if seconds <= 0:
        return "expired"
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    return f"{days}d {hours}h" if days else f"{hours}h {rest // 60}m"


def _row(connection: ConnectionInfo, now: datetime) -> tuple[str, ...]:
    return (
        connection.id,
        connection.customer_id,
        connection.source,
        connection.account,
        " ".join(connection.scopes),
        expires_in(connection.expires_at, now),
        connection.status,
        connection.last_error or "",
    )


def _table(rows: Sequence[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def _base_url_option(check: Callable[[str], object]) -> Callable[..., str]:
    """A --base-url callback: `check(value)`'s CredentialError becomes a parse-time refusal."""

    def callback(ctx: click.Context, param: click.Parameter, value: str) -> str:
        try:
            check(value)
        except CredentialError as error:
            raise click.BadParameter(str(error), ctx, param) from None
        return value

    return callback


# Square's: https, or http on loopback. Shopify's: a template naming the shop, giving such a URL.
square_base_url = _base_url_option(lambda url: secure_base_url(url, "Square base URL"))
shopify_base_url = _base_url_option(lambda url: shopify.shop_base_url(url, "example.myshopify.com"))


@click.group()
def connect() -> None:
    """Authorize ShelfOps to read a customer's account at a provider."""


@connect.command("square")
@customer_option
@click.option(
    "--base-url",
    envvar=BASE_URL_ENV,
    show_envvar=True,
    default=PRODUCTION_BASE_URL,
    show_default=True,
    callback=square_base_url,
    help="Square (https://connect.squareup.com), Square's sandbox "
    "(https://connect.squareupsandbox.com) or ours (http://127.0.0.1:PORT/square).",
)
@click.option(
    "--client-id", envvar=CLIENT_ID_ENV, show_envvar=True, callback=not_blank,
    help="The Square app's application id.",
)  # fmt: skip
@click.option(
    "--client-secret",
    envvar=CLIENT_SECRET_ENV,
    show_envvar=True,
    callback=not_blank,
    help="The app's secret; prefer the variable, command lines are visible to others.",
)
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    default=DEFAULT_SCOPES,
    show_default=True,
    help="A permission to ask for; repeat for several.",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="Loopback port for the OAuth callback; 0 picks a free one.",
)
@click.option(
    "--timeout",
    "timeout_seconds",
    type=FiniteFloatRange(min=1),
    default=300.0,
    show_default=True,
    help="Seconds to wait for the seller's approval.",
)
@click.option(
    "--approve",
    is_flag=True,
    help="ShelfOps sandbox only: approve at once as --merchant-id (demos, tests).",
)
@click.option("--merchant-id", help="The merchant --approve approves as.")
@webhooks_url_option
def connect_square(
    customer_id: str, base_url: str, client_id: str | None, client_secret: str | None,
    scopes: tuple[str, ...], port: int, timeout_seconds: float, approve: bool,
    merchant_id: str | None, webhooks_url: str | None,
) -> None:  # fmt: skip
    """Authorize a Square merchant for a customer and store its tokens, encrypted."""
    if approve != bool(merchant_id):
        raise click.UsageError("--approve and --merchant-id go together")
    try:
        app = SquareApp.configured(client_id, client_secret, base_url)
        store = CredentialStore(keys=load_keys())
        states = OAuthStates(store.path)

        def show(url: str) -> None:
            click.echo(f"Open this URL to authorize ShelfOps for customer {customer_id}:\n{url}")
            if merchant_id:
                approve_in_sandbox(url, merchant_id)

        with SquareOAuth(app, scopes) as square:
            connection = run_connect(
                square, store, states, customer_id, show, port, timeout_seconds
            )
    except CredentialError as error:
        raise click.ClickException(str(error)) from None
    expiry = connection.expires_at.isoformat() if connection.expires_at else "never"
    click.echo(
        f"connected {connection.id}: customer {connection.customer_id}, Square merchant "
        f"{connection.account}, scopes {' '.join(connection.scopes)}, token expires {expiry} "
        f"(in {expires_in(connection.expires_at, datetime.now(UTC))})"
    )
    subscribe_after_connect(store, connection, webhooks_url, base_url)


@connect.command("shopify")
@customer_option
@click.option("--shop", required=True, help="The shop: <name> or <name>.myshopify.com.")
@click.option(
    "--base-url",
    envvar=shopify.BASE_URL_ENV,
    show_envvar=True,
    default=shopify.PRODUCTION_BASE_URL,
    show_default=True,
    callback=shopify_base_url,
    help="Where shops are reached, {shop} the domain, {handle} its name: Shopify "
    "(https://{shop}) or ours (http://127.0.0.1:PORT/shopify/{handle}).",
)
@click.option(
    "--client-id", envvar=shopify.CLIENT_ID_ENV, show_envvar=True, callback=not_blank,
    help="The app's client id.",
)  # fmt: skip
@click.option(
    "--client-secret",
    envvar=shopify.CLIENT_SECRET_ENV,
    show_envvar=True,
    callback=not_blank,
    help="The app's secret; prefer the variable, command lines are visible to others.",
)
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    default=shopify.DEFAULT_SCOPES,
    show_default=True,
    help="An access scope to ask for; repeat for several.",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="Loopback port for the OAuth callback; 0 picks a free one.",
)
@click.option(
    "--timeout",
    "timeout_seconds",
    type=FiniteFloatRange(min=1),
    default=300.0,
    show_default=True,
    help="Seconds to wait for the merchant's approval.",
)
@click.option(
    "--approve", is_flag=True, help="ShelfOps sandbox only: install at once (demos, tests)."
)
@click.option(
    "--client-credentials",
    is_flag=True,
    help="The merchant's own app: use the client-credentials grant, no install page.",
)
@webhooks_url_option
def connect_shopify(
    customer_id: str, shop: str, base_url: str, client_id: str | None,
    client_secret: str | None, scopes: tuple[str, ...], port: int, timeout_seconds: float,
    approve: bool, client_credentials: bool, webhooks_url: str | None,
) -> None:  # fmt: skip
    """Install the app on a Shopify shop for a customer and store its tokens, encrypted."""
    if approve and client_credentials:
        raise click.UsageError("--approve and --client-credentials exclude each other")
    try:
        app = shopify.ShopifyApp.configured(client_id, client_secret, base_url)
        store = CredentialStore(keys=load_keys())
        with shopify.ShopifyOAuth(app, shop, scopes) as oauth:
            if client_credentials:
                connection = connect_client_credentials(oauth, store, customer_id)
            else:
                connection = _install(oauth, store, customer_id, approve, port, timeout_seconds)
    except CredentialError as error:
        raise click.ClickException(str(error)) from None
    expiry = connection.expires_at.isoformat() if connection.expires_at else "never"
    click.echo(
        f"connected {connection.id}: customer {connection.customer_id}, Shopify shop "
        f"{connection.account}, scopes {' '.join(connection.scopes)}, token expires {expiry} "
        f"(in {expires_in(connection.expires_at, datetime.now(UTC))})"
    )
    subscribe_after_connect(store, connection, webhooks_url, base_url)


def _install(
    oauth: shopify.ShopifyOAuth,
    store: CredentialStore,
    customer_id: str,
    approve: bool,
    port: int,
    timeout_seconds: float,
) -> Connection:
    def show(url: str) -> None:
        click.echo(f"Open this URL to install the ShelfOps app for customer {customer_id}:\n{url}")
        if approve:
            shopify.approve_in_sandbox(url)

    states = OAuthStates(store.path)
    return connect_shop(oauth, store, states, customer_id, show, port, timeout_seconds)


@click.group()
def connections() -> None:
    """The stored connections and their token health."""


@connections.command("list")
def list_connections() -> None:
    """One line per connection; tokens are never shown and no key is needed."""
    try:
        found = CredentialStore().overview()
    except CredentialError as error:
        raise click.ClickException(str(error)) from None
    if not found:
        click.echo(
            "no connections yet; add one with `shelfops connect square --customer ID` "
            "or `shelfops connect shopify --customer ID --shop NAME`"
        )
        return
    now = datetime.now(UTC)
    click.echo(_table([TABLE_COLUMNS, *(_row(connection, now) for connection in found)]))


@click.group()
def keys() -> None:
    """The Fernet keys that encrypt stored tokens (SHELFOPS_ENCRYPTION_KEYS, newest first)."""


@keys.command("generate")
def generate() -> None:
    """Print a new key; put it first in SHELFOPS_ENCRYPTION_KEYS, then run `keys rotate`."""
    click.echo(generate_key())
    click.echo(
        f"put it first in {KEYS_ENV} (comma-separated, newest first), then run "
        "`shelfops keys rotate`",
        err=True,
    )


@keys.command("rotate")
def rotate() -> None:
    """Re-encrypt every stored secret with the newest key."""
    try:
        count = CredentialStore(keys=load_keys()).rotate_keys()
    except CredentialError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"re-encrypted {count} stored secrets with the newest key; older keys can go")


@keys.command("init")
def init() -> None:
    """Create a local key file (0600) when no key is configured; for demos on one machine."""
    try:
        created = ensure_local_key_file()
    except OSError as error:
        raise click.ClickException(
            f"cannot create the key file: {error}; point {HOME_ENV} at a writable directory"
        ) from None
    if created is None:
        click.echo("an encryption key is already configured")
    else:
        click.echo(f"created the encryption key file {created} (mode 0600)")
