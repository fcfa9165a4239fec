"""The demo's merchants: a seeded sandbox on the real clock, and its Square merchants and Shopify
shops connected through the real OAuth flows (Shopify's is the app install), approved by script,
into the encrypted credential store."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from shelfops_pipeline.credentials.connect import connect
from shelfops_pipeline.credentials.models import Connection
from shelfops_pipeline.credentials.secret import Secret
from shelfops_pipeline.credentials.state import OAuthStates
from shelfops_pipeline.credentials.store import CredentialStore
from shelfops_pipeline.sandbox.runner import serve_in_thread
from shelfops_pipeline.sandbox.server import Sandbox, build_sandbox
from shelfops_pipeline.sandbox.settings import SandboxSettings
from shelfops_pipeline.sandbox.subscription_fanout import SubscriptionFeed
from shelfops_pipeline.sources.shopify import oauth as shopify
from shelfops_pipeline.sources.shopify.connect import connect_shop
from shelfops_pipeline.sources.square import oauth as square

DEMO_SEED = 7
DEMO_SCALE = "demo"
APPROVAL_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class DemoSandbox:
    sandbox: Sandbox
    base_url: str

    @property
    def square_url(self) -> str:
        return f"{self.base_url}/square"

    @property
    def shopify_url(self) -> str:
        """The base URL template of the sandbox's shops (`{handle}` names the shop)."""
        return f"{self.base_url}/shopify/{{handle}}"

    def square_app(self) -> square.SquareApp:
        application = self.sandbox.tokens.application
        return square.SquareApp(
            application.client_id, Secret(application.client_secret), self.square_url
        )

    def shopify_app(self) -> shopify.ShopifyApp:
        application = self.sandbox.shopify_tokens.application
        return shopify.ShopifyApp(
            application.client_id, Secret(application.client_secret), self.shopify_url
        )

    def env(self) -> dict[str, str]:
        """What the syncs need to reach this sandbox: each provider's URL and OAuth app."""
        square_application = self.sandbox.tokens.application
        shopify_application = self.sandbox.shopify_tokens.application
        return {
            square.BASE_URL_ENV: self.square_url,
            square.CLIENT_ID_ENV: square_application.client_id,
            square.CLIENT_SECRET_ENV: square_application.client_secret,
            shopify.BASE_URL_ENV: self.shopify_url,
            shopify.CLIENT_ID_ENV: shopify_application.client_id,
            shopify.CLIENT_SECRET_ENV: shopify_application.client_secret,
        }

    def merchants(self) -> list[tuple[str, str]]:
        """(customer id, Square merchant id) of every customer selling on Square."""
        return [
            (customer.id, customer.square_merchant_id)
            for customer in self.sandbox.world.customers
            if customer.square_merchant_id
        ]

    def shops(self) -> list[tuple[str, str]]:
        """(customer id, shop domain) of every customer selling on Shopify."""
        return [(shop.customer_id, shop.domain) for shop in self.sandbox.world.shops]


@contextmanager
def serve_demo_sandbox(
    port: int = 0, feeds: tuple[SubscriptionFeed, SubscriptionFeed] | None = None
) -> Iterator[DemoSandbox]:
    """The demo world on the real clock, served on loopback until the block ends; with `feeds`
    (Square's, Shopify's) it posts live webhooks to the subscriptions made through its APIs."""
    square_feed, shopify_feed = feeds or (None, None)
    sandbox = build_sandbox(
        SandboxSettings(seed=DEMO_SEED, scale=DEMO_SCALE),
        subscription_feed=square_feed,
        shopify_subscription_feed=shopify_feed,
    )
    with serve_in_thread(sandbox.app, port) as base_url:
        yield DemoSandbox(sandbox, base_url)


def connect_square_merchants(demo: DemoSandbox, store: CredentialStore) -> list[Connection]:
    """Connect every Square merchant of the demo world; reconnecting keeps each connection id."""
    states = OAuthStates(store.path)
    connections = []
    for customer_id, merchant_id in demo.merchants():
        with square.SquareOAuth(demo.square_app()) as oauth:
            connections.append(
                connect(
                    oauth,
                    store,
                    states,
                    customer_id,
                    lambda url, merchant=merchant_id: square.approve_in_sandbox(url, merchant),
                    timeout_seconds=APPROVAL_TIMEOUT_SECONDS,
                )
            )
    return connections


def connect_shops(demo: DemoSandbox, store: CredentialStore) -> list[Connection]:
    """Install the app on every Shopify shop of the demo world; reinstalling keeps each
    connection id."""
    states = OAuthStates(store.path)
    connections = []
    for customer_id, shop in demo.shops():
        with shopify.ShopifyOAuth(demo.shopify_app(), shop) as oauth:
            connections.append(
                connect_shop(
                    oauth,
                    store,
                    states,
                    customer_id,
                    shopify.approve_in_sandbox,
                    timeout_seconds=APPROVAL_TIMEOUT_SECONDS,
                )
            )
    return connections


def connect_merchants(demo: DemoSandbox, store: CredentialStore) -> list[Connection]:
    """Connect the demo world's Square merchants, then its Shopify shops."""
    return connect_square_merchants(demo, store) + connect_shops(demo, store)
