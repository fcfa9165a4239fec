"""The demo's merchants: a seeded sandbox on the real clock, and its Square merchants connected
through the real OAuth flow, approved by script, into the encrypted credential store."""

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
from shelfops_pipeline.sources.square.oauth import (
    BASE_URL_ENV,
    CLIENT_ID_ENV,
    CLIENT_SECRET_ENV,
    SquareApp,
    SquareOAuth,
    approve_in_sandbox,
)

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

    def app(self) -> SquareApp:
        application = self.sandbox.tokens.application
        return SquareApp(application.client_id, Secret(application.client_secret), self.square_url)

    def env(self) -> dict[str, str]:
        """What the syncs need to reach this sandbox: the Square URL and the OAuth app."""
        application = self.sandbox.tokens.application
        return {
            BASE_URL_ENV: self.square_url,
            CLIENT_ID_ENV: application.client_id,
            CLIENT_SECRET_ENV: application.client_secret,
        }

    def merchants(self) -> list[tuple[str, str]]:
        """(customer id, Square merchant id) of every customer selling on Square."""
        return [
            (customer.id, customer.square_merchant_id)
            for customer in self.sandbox.world.customers
            if customer.square_merchant_id
        ]


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


def connect_merchants(demo: DemoSandbox, store: CredentialStore) -> list[Connection]:
    """Connect every Square customer of the demo world; reconnecting keeps each connection id."""
    states = OAuthStates(store.path)
    connections = []
    for customer_id, merchant_id in demo.merchants():
        with SquareOAuth(demo.app()) as square:
            connections.append(
                connect(
                    square,
                    store,
                    states,
                    customer_id,
                    lambda url, merchant=merchant_id: approve_in_sandbox(url, merchant),
                    timeout_seconds=APPROVAL_TIMEOUT_SECONDS,
                )
            )
    return connections
