"""The Square data endpoints as Starlette routes: auth, versioning, JSON bodies and error replies."""

import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from shelfops_pipeline.sandbox.result_cache import ResultCache
from shelfops_pipeline.sandbox.square import catalog, inventory, orders, subscriptions
from shelfops_pipeline.sandbox.square.context import SquareCall
from shelfops_pipeline.sandbox.square.errors import SquareError, error_response
from shelfops_pipeline.sandbox.square.scopes import APPLICATION_WEBHOOKS_SCOPE
from shelfops_pipeline.sandbox.square.serialize import SquareSerializer
from shelfops_pipeline.sandbox.square.subscriptions import WebhookSubscriptions
from shelfops_pipeline.sandbox.square.tokens import TokenRegistry
from shelfops_pipeline.sandbox.world.world import World

logger = logging.getLogger(__name__)
DEFAULT_SQUARE_VERSION = "2025-08-20"
_VERSION_FORMAT = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_BODY_BYTES = 1_000_000

Handler = Callable[[SquareCall, Request, dict[str, Any]], dict[str, Any]]


def _locations(call: SquareCall, request: Request, body: dict[str, Any]) -> dict[str, Any]:
    return {"locations": [call.serializer.location(s) for s in call.stores()]}


# (path, method, OAuth scope the call needs or None for any valid token, handler)
ENDPOINTS: tuple[tuple[str, str, str | None, Handler], ...] = (
    ("/v2/locations", "GET", "MERCHANT_PROFILE_READ", _locations),
    (
        "/v2/catalog/list",
        "GET",
        "ITEMS_READ",
        lambda c, r, b: catalog.list_catalog(c, dict(r.query_params)),
    ),
    ("/v2/catalog/search", "POST", "ITEMS_READ", lambda c, r, b: catalog.search_catalog(c, b)),
    (
        "/v2/inventory/counts/batch-retrieve",
        "POST",
        "INVENTORY_READ",
        lambda c, r, b: inventory.batch_retrieve_counts(c, b),
    ),
    (
        "/v2/inventory/changes/batch-retrieve",
        "POST",
        "INVENTORY_READ",
        lambda c, r, b: inventory.batch_retrieve_changes(c, b),
    ),
    ("/v2/orders/search", "POST", "ORDERS_READ", lambda c, r, b: orders.search_orders(c, b)),
    (
        "/v2/orders/batch-retrieve",
        "POST",
        "ORDERS_READ",
        lambda c, r, b: orders.batch_retrieve_orders(c, b),
    ),
    (
        "/v2/orders/{order_id}",
        "GET",
        "ORDERS_READ",
        lambda c, r, b: orders.retrieve_order(c, r.path_params["order_id"]),
    ),
    # Square takes the app owner's personal token here, never a seller's OAuth token.
    (
        "/v2/webhooks/subscriptions",
        "POST",
        APPLICATION_WEBHOOKS_SCOPE,
        lambda c, r, b: subscriptions.create_subscription(c, b),
    ),
    (
        "/v2/webhooks/subscriptions",
        "GET",
        APPLICATION_WEBHOOKS_SCOPE,
        lambda c, r, b: subscriptions.list_subscriptions(c, dict(r.query_params)),
    ),
    (
        "/v2/webhooks/subscriptions/{subscription_id}",
        "DELETE",
        APPLICATION_WEBHOOKS_SCOPE,
        lambda c, r, b: subscriptions.delete_subscription(c, r.path_params["subscription_id"]),
    ),
)


class SquareApi:
    """Square's catalog, inventory, locations, orders and webhook subscriptions endpoints over one
    seeded world."""

    def __init__(self, world: World, tokens: TokenRegistry) -> None:
        self.world = world
        self.tokens = tokens
        self.serializer = SquareSerializer(world.seed)
        self.results = ResultCache()
        self.subscriptions = WebhookSubscriptions()

    def routes(self) -> list[Route]:
        return [
            Route(path, self._endpoint(handler, scope), methods=[method])
            for path, method, scope, handler in ENDPOINTS
        ]

    def _endpoint(
        self, handler: Handler, scope: str | None
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            version = request.headers.get("square-version", DEFAULT_SQUARE_VERSION)
            headers = {"Square-Version": version}
            try:
                if not _VERSION_FORMAT.match(version):
                    raise SquareError(
                        "INVALID_SQUARE_VERSION_FORMAT",
                        "Square-Version must be a date like 2025-08-20.",
                        "Square-Version",
                    )
                grant = self.tokens.authenticate(request.headers.get("authorization"), scope)
                body = await _json_body(request) if request.method == "POST" else {}
                call = SquareCall(
                    self.world,
                    self.serializer,
                    grant.merchant_id,
                    self.world.now(),
                    version,
                    self.results,
                    grant.client_id,
                    self.subscriptions,
                )
                reply = handler(call, request, body)
            except SquareError as error:
                logger.info(
                    "square %s %s rejected: %s %s",
                    request.method,
                    request.url.path,
                    error.code,
                    error.detail,
                )
                return error_response(error.code, error.detail, error.field, headers=headers)
            return JSONResponse(reply, headers=headers)

        return endpoint


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise SquareError("REQUEST_ENTITY_TOO_LARGE", "The request body is larger than 1 MB.")
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise SquareError(
            "EXPECTED_JSON_BODY",
            f"The request body is not valid JSON: {error.msg if hasattr(error, 'msg') else error}.",
        ) from error
    if not isinstance(body, dict):
        raise SquareError("EXPECTED_JSON_BODY", "The request body must be a JSON object.")
    return body
