"""Shared pieces of the credentials tests: an OAuth-capable sandbox on the real clock, served
over loopback, that counts the calls it receives and remembers the redirects it sends."""

import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shelfops_pipeline.credentials.connect import connect
from shelfops_pipeline.credentials.models import Connection
from shelfops_pipeline.credentials.secret import Secret
from shelfops_pipeline.credentials.state import OAuthStates
from shelfops_pipeline.credentials.store import CredentialStore
from shelfops_pipeline.sandbox.runner import serve_in_thread
from shelfops_pipeline.sandbox.server import Sandbox, build_sandbox
from shelfops_pipeline.sandbox.settings import SandboxSettings
from shelfops_pipeline.sources.square.oauth import SquareApp, SquareOAuth, approve_in_sandbox

SEED = 5
ENV_VARS = (
    "SHELFOPS_ENCRYPTION_KEYS",
    "SHELFOPS_SQUARE_CLIENT_ID",
    "SHELFOPS_SQUARE_CLIENT_SECRET",
    "SHELFOPS_SQUARE_BASE_URL",
)
TOKEN_PATH = ("POST", "/square/oauth2/token")


class Recorder:
    """ASGI wrapper: counts requests by (method, path) and keeps every Location it answers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.calls: Counter[tuple[str, str]] = Counter()
        self.locations: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.calls[(scope["method"], scope["path"])] += 1

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                for name, value in message.get("headers", []):
                    if name.lower() == b"location":
                        self.locations.append(value.decode("latin-1"))
            await send(message)

        await self.app(scope, receive, recording_send)

    def codes(self) -> list[str]:
        return [m.group(1) for loc in self.locations for m in re.finditer(r"code=([^&]+)", loc)]


@dataclass
class OAuthSandbox:
    sandbox: Sandbox
    recorder: Recorder
    base_url: str
    customers: list[tuple[str, str]] = field(default_factory=list)

    @property
    def square_url(self) -> str:
        return f"{self.base_url}/square"

    @property
    def client_id(self) -> str:
        return self.sandbox.tokens.application.client_id

    @property
    def client_secret(self) -> str:
        return self.sandbox.tokens.application.client_secret

    def app(self) -> SquareApp:
        return SquareApp(self.client_id, Secret(self.client_secret), self.square_url)

    def env(self) -> dict[str, str]:
        return {
            "SHELFOPS_SQUARE_CLIENT_ID": self.client_id,
            "SHELFOPS_SQUARE_CLIENT_SECRET": self.client_secret,
            "SHELFOPS_SQUARE_BASE_URL": self.square_url,
        }

    def locations(self, access_token: Secret) -> httpx.Response:
        return httpx.get(
            f"{self.square_url}/v2/locations",
            headers={
                "Authorization": f"Bearer {access_token.reveal()}",
                "Square-Version": "2025-08-20",
            },
        )

    def refresh_calls(self) -> int:
        return self.recorder.calls[TOKEN_PATH]


@contextmanager
def serve_oauth_sandbox() -> Iterator[OAuthSandbox]:
    """A small world on the real clock, so tokens expire relative to the real now."""
    sandbox = build_sandbox(SandboxSettings(seed=SEED, scale="small"))
    recorder = Recorder(sandbox.app)
    customers = [
        (c.id, c.square_merchant_id) for c in sandbox.world.customers if c.square_merchant_id
    ]
    with serve_in_thread(recorder) as base_url:
        yield OAuthSandbox(sandbox, recorder, base_url, customers)


def isolate(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    """Point SHELFOPS_HOME at `home` and clear every variable these tests set."""
    monkeypatch.setenv("SHELFOPS_HOME", str(home))
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)


def store_bytes(path: Path) -> bytes:
    """The store file and its WAL and shared-memory companions, as raw bytes."""
    return b"".join(
        candidate.read_bytes()
        for candidate in (
            path,
            path.with_name(path.name + "-wal"),
            path.with_name(path.name + "-shm"),
        )
        if candidate.exists()
    )


def connect_customer(
    oauth: OAuthSandbox, store: CredentialStore, index: int = 0, pkce: bool = False
) -> Connection:
    """Run the connect flow for the sandbox's `index`-th Square customer, approved by script."""
    customer, merchant = oauth.customers[index]
    with SquareOAuth(oauth.app(), pkce=pkce) as square:
        return connect(
            square,
            store,
            OAuthStates(store.path),
            customer,
            lambda url: approve_in_sandbox(url, merchant),
            timeout_seconds=10,
        )
