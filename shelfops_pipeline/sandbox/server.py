"""Assemble the sandbox: one Starlette app serving the Square emulation over one seeded world."""

import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Scope

from shelfops_pipeline.sandbox.clock import SandboxClock
from shelfops_pipeline.sandbox.faults import FaultInjector, FaultLog, fault_log_routes
from shelfops_pipeline.sandbox.settings import SandboxSettings
from shelfops_pipeline.sandbox.square.app import SquareApi
from shelfops_pipeline.sandbox.square.errors import error_body
from shelfops_pipeline.sandbox.square.oauth import oauth_routes
from shelfops_pipeline.sandbox.square.serialize import SquareSerializer
from shelfops_pipeline.sandbox.square.tokens import TokenRegistry
from shelfops_pipeline.sandbox.square.webhook_events import square_events_between
from shelfops_pipeline.sandbox.square.webhook_signing import square_message
from shelfops_pipeline.sandbox.timestamps import rfc3339
from shelfops_pipeline.sandbox.webhook_delivery import LiveWebhooks, WebhookMessage, live_webhooks
from shelfops_pipeline.sandbox.world.world import World

logger = logging.getLogger(__name__)


@dataclass
class Sandbox:
    """A built sandbox: the ASGI app plus the pieces tests and commands inspect."""

    settings: SandboxSettings
    world: World
    tokens: TokenRegistry
    fault_log: FaultLog
    app: ASGIApp

    def describe(self) -> dict[str, Any]:
        world = self.world
        return {
            "seed": world.seed,
            "scale": world.scale.name,
            "start_date": world.start_date.isoformat(),
            "days": world.days,
            "now": rfc3339(world.now(), 6),
            "clock": "frozen" if world.clock.frozen else "real",
            "customers": [
                {
                    "id": c.id,
                    "name": c.name,
                    "square_merchant_id": c.square_merchant_id,
                    "shopify_shop": c.shopify_shop,
                }
                for c in world.customers
            ],
        }


def _not_found(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    code = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(status, "BAD_REQUEST")
    detail = f"{request.method} {request.url.path} is not an endpoint of this API."
    return JSONResponse(error_body(code, detail), status_code=status)


def _lifespan(
    world: World, live: LiveWebhooks | None
) -> Callable[[Starlette], contextlib.AbstractAsyncContextManager[None]]:
    """Feed live Square webhooks while the server runs, if asked to."""
    serializer = SquareSerializer(world.seed)

    def square_messages(start: datetime, end: datetime) -> list[WebhookMessage]:
        return [square_message(e) for e in square_events_between(world, serializer, start, end)]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        feed = live_webhooks(square_messages, live, world.now) if live else contextlib.nullcontext()
        async with feed:
            yield

    return lifespan


def build_sandbox(settings: SandboxSettings, live: LiveWebhooks | None = None) -> Sandbox:
    """The sandbox for `settings`; with `live`, it posts Square webhooks while it is served."""
    clock = SandboxClock(settings.frozen_at)
    world = World(settings.seed, settings.scale, clock, days=settings.days)
    tokens = TokenRegistry(settings.seed, world.square_merchants, clock.now)
    fault_log = FaultLog()
    square = SquareApi(world, tokens)
    holder: dict[str, Sandbox] = {}

    async def describe(request: Request) -> Response:
        return JSONResponse(holder["sandbox"].describe())

    routes = [
        Route("/_sandbox/world", describe, methods=["GET"]),
        *fault_log_routes(fault_log),
        Mount("/square", routes=[*square.routes(), *oauth_routes(tokens)]),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={404: _not_found, 405: _not_found},
        lifespan=_lifespan(world, live),
    )

    def identify(scope: Scope) -> str | None:
        headers = dict(scope.get("headers") or [])
        header = headers.get(b"authorization")
        return tokens.merchant_for(header.decode("latin-1") if header else None)

    wrapped = FaultInjector(
        app,
        config=settings.faults,
        seed=settings.seed,
        log=fault_log,
        now=clock.now,
        identify=identify,
    )
    sandbox = Sandbox(settings, world, tokens, fault_log, wrapped)
    holder["sandbox"] = sandbox
    return sandbox
