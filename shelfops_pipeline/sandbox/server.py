"""Assemble the sandbox: one Starlette app serving the Square and Shopify emulations over one
seeded world."""

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
from shelfops_pipeline.sandbox.faults import (
    FaultInjector,
    FaultLog,
    fault_log_routes,
    render_square_error,
)
from shelfops_pipeline.sandbox.settings import SandboxSettings
from shelfops_pipeline.sandbox.shopify.admin_errors import AdminApiError, admin_error_response
from shelfops_pipeline.sandbox.shopify.app import ShopifyApi
from shelfops_pipeline.sandbox.shopify.fault_errors import is_shopify_path, render_shopify_error
from shelfops_pipeline.sandbox.shopify.subscription_delivery import (
    app_secrets,
    shopify_subscription_webhooks,
)
from shelfops_pipeline.sandbox.shopify.tokens import ShopifyTokens
from shelfops_pipeline.sandbox.shopify.webhook_events import shopify_events_between
from shelfops_pipeline.sandbox.square.app import SquareApi
from shelfops_pipeline.sandbox.square.errors import error_body
from shelfops_pipeline.sandbox.square.oauth import oauth_routes
from shelfops_pipeline.sandbox.square.serialize import SquareSerializer
from shelfops_pipeline.sandbox.square.subscription_delivery import subscription_webhooks
from shelfops_pipeline.sandbox.square.subscriptions import WebhookSubscriptions
from shelfops_pipeline.sandbox.square.tokens import TokenRegistry
from shelfops_pipeline.sandbox.square.webhook_events import square_events_between
from shelfops_pipeline.sandbox.square.webhook_signing import square_message
from shelfops_pipeline.sandbox.subscription_fanout import SubscriptionFeed
from shelfops_pipeline.sandbox.timestamps import rfc3339
from shelfops_pipeline.sandbox.webhook_delivery import (
    LiveWebhooks,
    MessageSource,
    WebhookMessage,
    live_webhooks,
)
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
    shopify_tokens: ShopifyTokens

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
    if is_shopify_path(request.url.path):
        reason = {404: "Not Found", 405: "Method Not Allowed"}.get(status, "Bad Request")
        return admin_error_response(AdminApiError(status, reason))
    code = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(status, "BAD_REQUEST")
    detail = f"{request.method} {request.url.path} is not an endpoint of this API."
    return JSONResponse(error_body(code, detail), status_code=status)


def _lifespan(
    world: World,
    shopify: ShopifyApi,
    square_live: LiveWebhooks | None,
    shopify_live: LiveWebhooks | None,
    subscriptions: WebhookSubscriptions,
    subscription_feed: SubscriptionFeed | None,
    shopify_subscription_feed: SubscriptionFeed | None,
) -> Callable[[Starlette], contextlib.AbstractAsyncContextManager[None]]:
    """Feed live Square and Shopify webhooks while the server runs, if asked to (each provider's
    also to its webhook subscriptions); stop Shopify's bulk operations when it stops."""
    serializer = SquareSerializer(world.seed)

    def square_messages(start: datetime, end: datetime) -> list[WebhookMessage]:
        return [square_message(e) for e in square_events_between(world, serializer, start, end)]

    def shopify_messages(start: datetime, end: datetime) -> list[WebhookMessage]:
        return shopify_events_between(world, start, end)

    feeds: list[tuple[MessageSource, LiveWebhooks]] = []
    if square_live is not None:
        feeds.append((square_messages, square_live))
    if shopify_live is not None:
        feeds.append((shopify_messages, shopify_live))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            stack.callback(shopify.close)
            for source, live in feeds:
                await stack.enter_async_context(live_webhooks(source, live, world.now))
            if subscription_feed is not None:
                await stack.enter_async_context(
                    subscription_webhooks(
                        square_messages, subscriptions, subscription_feed, world.now
                    )
                )
            if shopify_subscription_feed is not None:
                await stack.enter_async_context(
                    shopify_subscription_webhooks(
                        shopify_messages,
                        shopify.graphql.webhooks,
                        shopify_subscription_feed,
                        app_secrets(shopify.tokens),
                        world.now,
                    )
                )
            yield

    return lifespan


def _render_error(
    path: str, status: int, code: str, detail: str, retry_after: float | None
) -> tuple[bytes, dict[str, str]]:
    render = render_shopify_error if is_shopify_path(path) else render_square_error
    return render(path, status, code, detail, retry_after)


def build_sandbox(
    settings: SandboxSettings,
    live: LiveWebhooks | None = None,
    clock: SandboxClock | None = None,
    shopify_live: LiveWebhooks | None = None,
    subscription_feed: SubscriptionFeed | None = None,
    shopify_subscription_feed: SubscriptionFeed | None = None,
) -> Sandbox:
    """The sandbox for `settings`; with `live` (`shopify_live`), it posts Square (Shopify)
    webhooks while it is served.

    Square events also go to the URLs of the webhook subscriptions made through its API, paced by
    `subscription_feed` (default: like `live`; none when neither is given); Shopify events to the
    shops' subscriptions, paced by `shopify_subscription_feed` (default: like `shopify_live`).

    `clock` replaces the one `settings.frozen_at` describes (tests move a frozen clock).
    """
    clock = clock or SandboxClock(settings.frozen_at)
    world = World(settings.seed, settings.scale, clock, days=settings.days)
    tokens = TokenRegistry(settings.seed, world.square_merchants, clock.now)
    shopify_tokens = ShopifyTokens(settings.seed, [shop.domain for shop in world.shops], clock.now)
    fault_log = FaultLog()
    square = SquareApi(world, tokens)
    shopify = ShopifyApi(world, shopify_tokens, graphql_settings=settings.shopify)
    holder: dict[str, Sandbox] = {}

    async def describe(request: Request) -> Response:
        return JSONResponse(holder["sandbox"].describe())

    routes = [
        Route("/_sandbox/world", describe, methods=["GET"]),
        *fault_log_routes(fault_log),
        Mount("/square", routes=[*square.routes(), *oauth_routes(tokens)]),
        Mount("/shopify/{shop}", routes=shopify.routes()),
        *shopify.routes(),
        *shopify.global_routes(),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={404: _not_found, 405: _not_found},
        lifespan=_lifespan(
            world,
            shopify,
            live,
            shopify_live,
            square.subscriptions,
            subscription_feed or (SubscriptionFeed.like(live) if live else None),
            shopify_subscription_feed
            or (SubscriptionFeed.like(shopify_live) if shopify_live else None),
        ),
    )

    def identify(scope: Scope) -> str | None:
        headers = dict(scope.get("headers") or [])
        if is_shopify_path(scope["path"]):
            token = headers.get(b"x-shopify-access-token")
            return shopify_tokens.shop_of(token.decode("latin-1") if token else None)
        header = headers.get(b"authorization")
        return tokens.merchant_for(header.decode("latin-1") if header else None)

    wrapped = FaultInjector(
        app,
        config=settings.faults,
        seed=settings.seed,
        log=fault_log,
        now=clock.now,
        identify=identify,
        render_error=_render_error,
    )
    sandbox = Sandbox(settings, world, tokens, fault_log, wrapped, shopify_tokens)
    holder["sandbox"] = sandbox
    return sandbox
