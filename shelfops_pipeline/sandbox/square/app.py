"""The Square data endpoints as Starlette routes: auth, versioning, JSON bodies and error replies."""

import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from shelfops_pipeline.sandbox.square import catalog, inventory, orders
from shelfops_pipeline.sandbox.square.context import SquareCall
from shelfops_pipeline.sandbox.square.errors import SquareError, error_response
from shelfops_pipeline.sandbox.square.serialize import SquareSerializer
from shelfops_pipeline.sandbox.square.tokens import TokenRegistry
from shelfops_pipeline.sandbox.world.world import World

logger = logging.getLogger(__name__)
DEFAULT_SQUARE_VERSION = "2025-08-20"
_VERSION_FORMAT = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_BODY_BYTES = 1_000_000

Handler = Callable[[SquareCall, Request, dict[str, Any]], dict[str, Any]]


class SquareApi:
    """Square's catalog, inventory, locations and orders endpoints over one seeded world."""

    def __init__(self, world: World, tokens: TokenRegistry) -> None:
        self.world = world
        self.tokens = tokens
        self.serializer = SquareSerializer(world.seed)

    def routes(self) -> list[Route]:
        return [
            Route(
                "/v2/locations",
                self._endpoint(self._locations, "MERCHANT_PROFILE_READ"),
                methods=["GET"],
            ),
            Route(
                "/v2/catalog/list",
                self._endpoint(self._list_catalog, "ITEMS_READ"),
                methods=["GET"],
            ),
            Route(
                "/v2/catalog/search",
                self._endpoint(self._search_catalog, "ITEMS_READ"),
                methods=["POST"],
            ),
            Route(
                "/v2/inventory/counts/batch-retrieve",
                self._endpoint(self._counts, "INVENTORY_READ"),
                methods=["POST"],
            ),
            Route(
                "/v2/inventory/changes/batch-retrieve",
                self._endpoint(self._changes, "INVENTORY_READ"),
                methods=["POST"],
            ),
            Route(
                "/v2/orders/search",
                self._endpoint(self._search_orders, "ORDERS_READ"),
                methods=["POST"],
            ),
            Route(
                "/v2/orders/batch-retrieve",
                self._endpoint(self._batch_orders, "ORDERS_READ"),
                methods=["POST"],
            ),
            Route(
                "/v2/orders/{order_id}",
                self._endpoint(self._retrieve_order, "ORDERS_READ"),
                methods=["GET"],
            ),
        ]

    def _endpoint(self, handler: Handler, scope: str) -> Callable[[Request], Awaitable[Response]]:
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
                call = SquareCall(self.world, self.serializer, grant.merchant_id, self.world.now())
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

    def _locations(
        self, call: SquareCall, request: Request, body: dict[str, Any]
    ) -> dict[str, Any]:
        return {"locations": [self.serializer.location(s) for s in call.stores()]}

    def _list_catalog(
        self, call: SquareCall, request: Request, body: dict[str, Any]
    ) -> dict[str, Any]:
        return catalog.list_catalog(call, dict(request.query_params))

    def _search_catalog(
        self, call: SquareCall, request: Request, body: dict[str, Any]
    ) -> dict[str, Any]:
        return catalog.search_catalog(call, body)

    def _counts(self, call: SquareCall, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        return inventory.batch_retrieve_counts(call, body)

    def _changes(self, call: SquareCall, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        return inventory.batch_retrieve_changes(call, body)

    def _search_orders(
        self, call: SquareCall, request: Request, body: dict[str, Any]
    ) -> dict[str, Any]:
        return orders.search_orders(call, body)

    def _batch_orders(
        self, call: SquareCall, request: Request, body: dict[str, Any]
    ) -> dict[str, Any]:
        return orders.batch_retrieve_orders(call, body)

    def _retrieve_order(
        self, call: SquareCall, request: Request, body: dict[str, Any]
    ) -> dict[str, Any]:
        return orders.retrieve_order(call, request.path_params["order_id"])


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
