"""Shared pieces of the Shopify access tests: a sandbox on a clock the test moves (it starts at
the real now, so stored expiries and the sandbox agree), served over loopback, counting token
calls, plus the install flow driven by the sandbox's scripted approve."""

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from clocks import MovableClock
from starlette.types import ASGIApp, Receive, Scope, Send

from shelfops_pipeline.credentials.models import Connection
from shelfops_pipeline.credentials.secret import Secret
from shelfops_pipeline.credentials.state import OAuthStates
from shelfops_pipeline.credentials.store import CredentialStore
from shelfops_pipeline.sandbox.runner import serve_in_thread
from shelfops_pipeline.sandbox.server import Sandbox, build_sandbox
from shelfops_pipeline.sandbox.settings import SandboxSettings
from shelfops_pipeline.sources.shopify.connect import connect_shop
from shelfops_pipeline.sources.shopify.oauth import ShopifyApp, ShopifyOAuth, approve_in_sandbox

SEED = 5
ENV_VARS = (
    "SHELFOPS_ENCRYPTION_KEYS",
    "SHELFOPS_SHOPIFY_CLIENT_ID",
    "SHELFOPS_SHOPIFY_CLIENT_SECRET",
    "SHELFOPS_SHOPIFY_BASE_URL",
)


class TokenCalls:
    """ASGI wrapper counting POSTs to the token endpoint."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.calls: Counter[str] = Counter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].endswith("/admin/oauth/access_token"):
            self.calls[scope["method"]] += 1
        await self.app(scope, receive, send)

    @property
    def count(self) -> int:
        return self.calls["POST"]


@dataclass
class ShopifySandbox:
    sandbox: Sandbox
    clock: MovableClock
    token_calls: TokenCalls
    base_url: str

    @property
    def customer(self) -> str:
        return next(c.id for c in self.sandbox.world.customers if c.shopify_shop)

    @property
    def shop(self) -> str:
        return self.sandbox.world.shops[0].domain

    @property
    def template(self) -> str:
        return f"{self.base_url}/shopify/{{handle}}"

    @property
    def client_id(self) -> str:
        return self.sandbox.shopify_tokens.application.client_id

    @property
    def client_secret(self) -> str:
        return self.sandbox.shopify_tokens.application.client_secret

    def app(self) -> ShopifyApp:
        return ShopifyApp(self.client_id, Secret(self.client_secret), self.template)

    def env(self) -> dict[str, str]:
        return {
            "SHELFOPS_SHOPIFY_CLIENT_ID": self.client_id,
            "SHELFOPS_SHOPIFY_CLIENT_SECRET": self.client_secret,
            "SHELFOPS_SHOPIFY_BASE_URL": self.template,
        }

    def shop_json(self, access_token: Secret) -> httpx.Response:
        handle = self.shop.removesuffix(".myshopify.com")
        return httpx.get(
            f"{self.base_url}/shopify/{handle}/admin/api/2026-10/shop.json",
            headers={"X-Shopify-Access-Token": access_token.reveal()},
        )


@contextmanager
def serve_shopify_sandbox() -> Iterator[ShopifySandbox]:
    clock = MovableClock()
    sandbox = build_sandbox(SandboxSettings(seed=SEED, scale="small"), clock=clock)
    counter = TokenCalls(sandbox.app)
    with serve_in_thread(counter) as base_url:
        yield ShopifySandbox(sandbox, clock, counter, base_url)


def isolate(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    """Point SHELFOPS_HOME at `home` and clear every variable these tests set."""
    monkeypatch.setenv("SHELFOPS_HOME", str(home))
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)


def install(running: ShopifySandbox, store: CredentialStore) -> Connection:
    """Install the sandbox app on the first shop for its customer, approved by script."""
    with ShopifyOAuth(running.app(), running.shop) as oauth:
        return connect_shop(
            oauth,
            store,
            OAuthStates(store.path),
            running.customer,
            approve_in_sandbox,
            timeout_seconds=10,
        )
