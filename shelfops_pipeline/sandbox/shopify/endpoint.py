"""The GraphQL Admin API endpoint: `POST /admin/api/{version}/graphql.json`, as Shopify answers it.

Wiring (the app that owns routing and access tokens does this):

    graphql = ShopifyGraphQL(world, GraphQLSettings())
    endpoint = graphql.endpoint(resolve_caller)   # async (Request) -> Response
    # mount `endpoint` at /shopify/{shop}/admin/api/{version}/graphql.json and at
    # /admin/api/{version}/graphql.json; add graphql.download_route() at the root;
    # call graphql.close() when the server stops.

`resolve_caller(request, served_version)` authenticates the request (X-Shopify-Access-Token, the
`{shop}` path parameter or host) and returns a `GraphQLCaller`, or a `Response` (401, 404, ...)
that is sent unchanged; it may be async. Over the OAuth side's `ShopifyApi`:

    def resolve_caller(request, version):
        try:
            call = api.authenticated_call(request, version)
        except AdminApiError as error:
            return admin_error_response(error, {"X-Shopify-API-Version": version})
        return GraphQLCaller(call.shop, call.grant.scopes, call.grant.app_id)
 Everything after that is here: version fall-forward and the
`X-Shopify-API-Version` header, parsing and validation with Shopify's error shapes (HTTP 200),
requested cost and the 1000-point ceiling, the per-app-and-shop leaky bucket, execution, actual
cost and the refund, and `extensions.cost` with `throttleStatus` on every executed reply.
"""

import inspect
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    ExecutionResult,
    FragmentDefinitionNode,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    execute,
)
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from shelfops_pipeline.sandbox.shopify.bulk import (
    DOWNLOAD_PREFIX,
    BulkOperations,
    BulkSettings,
)
from shelfops_pipeline.sandbox.shopify.context import RequestContext
from shelfops_pipeline.sandbox.shopify.cost import actual_cost, requested_cost
from shelfops_pipeline.sandbox.shopify.errors import (
    MAX_QUERY_COST,
    ShopifyGraphQLError,
    max_cost_error,
    throttled_error,
)
from shelfops_pipeline.sandbox.shopify.model import ShopifyView
from shelfops_pipeline.sandbox.shopify.root import MutationRoot, QueryRoot
from shelfops_pipeline.sandbox.shopify.schema import admin_schema
from shelfops_pipeline.sandbox.shopify.throttle import ThrottleBuckets, ThrottleSettings
from shelfops_pipeline.sandbox.shopify.validation import (
    RequestRejected,
    check_document,
    check_variables,
    parse_document,
    select_operation,
    shopify_error,
)
from shelfops_pipeline.sandbox.shopify.versions import served_version
from shelfops_pipeline.sandbox.shopify.webhook_subscriptions import WebhookSubscriptions
from shelfops_pipeline.sandbox.world.entities import Shop
from shelfops_pipeline.sandbox.world.world import World

logger = logging.getLogger(__name__)
VERSION_HEADER = "X-Shopify-API-Version"
MAX_BODY_BYTES = 1_000_000
DEFAULT_SCOPES = (
    "read_products",
    "read_inventory",
    "read_locations",
    "read_orders",
    "read_all_orders",
)


@dataclass(frozen=True)
class GraphQLCaller:
    """Who calls: the shop its token belongs to, the token's scopes, and its app (buckets are
    per app and shop)."""

    shop: Shop
    access_scopes: tuple[str, ...] = DEFAULT_SCOPES
    app_id: str = "shelfops"


CallerResolver = Callable[
    [Request, str], "GraphQLCaller | Response | Awaitable[GraphQLCaller | Response]"
]


@dataclass(frozen=True)
class GraphQLSettings:
    throttle: ThrottleSettings = field(default_factory=ThrottleSettings)
    bulk: BulkSettings = field(default_factory=BulkSettings)


def _internal_error() -> dict[str, Any]:
    request_id = str(uuid.uuid4())
    return {
        "message": "Internal error. Looks like something went wrong on our end.\n"
        f"Request ID: {request_id} (include this in support requests).",
        "extensions": {"requestId": request_id, "code": "INTERNAL_SERVER_ERROR"},
    }


def _execution_error(error: GraphQLError) -> dict[str, Any]:
    original = error.original_error
    if original is None or isinstance(original, ShopifyGraphQLError | GraphQLError):
        body = shopify_error(error)
        if isinstance(original, ShopifyGraphQLError) and original.extensions:
            body["extensions"] = original.extensions
        return body
    logger.error("GraphQL resolver failed", exc_info=original)
    return _internal_error()


class ShopifyGraphQL:
    """Shopify's GraphQL Admin API and bulk operations over one world."""

    def __init__(
        self,
        world: World,
        settings: GraphQLSettings | None = None,
        view: ShopifyView | None = None,
    ) -> None:
        self.world = world
        self.settings = settings or GraphQLSettings()
        self.view = view or ShopifyView(world)
        self.buckets = ThrottleBuckets(self.settings.throttle)
        self.bulk = BulkOperations(world.seed, world.now, self.settings.bulk)
        self.webhooks = WebhookSubscriptions(world.seed)
        self.schema = admin_schema()

    def endpoint(self, resolve_caller: CallerResolver) -> Callable[[Request], Awaitable[Response]]:
        async def graphql_endpoint(request: Request) -> Response:
            version = served_version(str(request.path_params.get("version", "")))
            if version is None:
                return JSONResponse({"errors": "Not Found"}, status_code=404)
            headers = {VERSION_HEADER: version}
            resolved = resolve_caller(request, version)
            caller = await resolved if inspect.isawaitable(resolved) else resolved
            if isinstance(caller, Response):
                return caller
            body, status = await self.answer(request, caller, version)
            return JSONResponse(body, status_code=status, headers=headers)

        return graphql_endpoint

    def download_route(self) -> Route:
        async def download(request: Request) -> Response:
            path = self.bulk.download(request.path_params["token"])
            if path is None:
                return Response(
                    "<?xml version='1.0' encoding='UTF-8'?><Error><Code>ExpiredToken</Code>"
                    "<Message>The provided token has expired.</Message></Error>",
                    status_code=400,
                    media_type="application/xml",
                )
            return FileResponse(path, media_type="application/jsonl")

        return Route(DOWNLOAD_PREFIX + "{token}.jsonl", download, methods=["GET"])

    def routes(self, resolve_caller: CallerResolver) -> list[Route]:
        """The endpoint under `/shopify/{shop}` and at the root, plus bulk downloads."""
        endpoint = self.endpoint(resolve_caller)
        return [
            Route("/shopify/{shop}/admin/api/{version}/graphql.json", endpoint, methods=["POST"]),
            Route("/admin/api/{version}/graphql.json", endpoint, methods=["POST"]),
            self.download_route(),
        ]

    def close(self) -> None:
        self.bulk.close()

    async def answer(
        self, request: Request, caller: GraphQLCaller, version: str
    ) -> tuple[dict[str, Any], int]:
        """The reply body and HTTP status for one authenticated GraphQL request."""
        raw = await request.body()
        payload = _payload(raw, request.headers.get("content-type", ""))
        if payload is None:
            return {"errors": {"query": "Required parameter missing or invalid"}}, 400
        context = RequestContext(
            view=self.view,
            shop=caller.shop,
            at=self.world.now(),
            api_version=version,
            access_scopes=caller.access_scopes,
            bulk=self.bulk,
            webhooks=self.webhooks,
            app_id=caller.app_id,
            # Result files are served at the root whatever mount this endpoint sits under.
            base_url=f"{request.url.scheme}://{request.url.netloc}",
        )
        key = (caller.app_id, caller.shop.domain)
        return await run_in_threadpool(self._run, payload, context, key), 200

    def _run(
        self, payload: dict[str, Any], context: RequestContext, key: tuple[str, str]
    ) -> dict[str, Any]:
        variables = payload.get("variables") or {}
        try:
            document = parse_document(payload["query"])
            check_document(self.schema, document)
            operation = select_operation(document, payload.get("operationName"))
            check_variables(self.schema, operation, variables)
        except RequestRejected as rejected:
            return {"errors": rejected.errors}
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        requested = requested_cost(self.schema, operation, fragments, variables)
        if requested > MAX_QUERY_COST:
            return {"errors": [max_cost_error(requested)], "extensions": self._cost(key, requested)}
        if not self.buckets.take(key, requested):
            return {"errors": [throttled_error()], "extensions": self._cost(key, requested)}
        result = self._execute(document, operation, context, variables)
        actual = actual_cost(self.schema, operation, fragments, variables, result.data)
        actual = min(actual, requested)
        self.buckets.refund(key, requested - actual)
        reply: dict[str, Any] = {}
        if result.errors:
            reply["errors"] = [_execution_error(e) for e in result.errors]
        reply["data"] = result.data
        reply["extensions"] = self._cost(key, requested, actual)
        return reply

    def _execute(
        self,
        document: Any,
        operation: OperationDefinitionNode,
        context: RequestContext,
        variables: dict[str, Any],
    ) -> ExecutionResult:
        mutation = operation.operation == OperationType.MUTATION
        root = MutationRoot(context) if mutation else QueryRoot(context)
        result = execute(
            self.schema,
            document,
            root_value=root,
            context_value=context,
            variable_values=variables,
            operation_name=operation.name.value if operation.name else None,
        )
        if inspect.isawaitable(result):
            raise TypeError("the Shopify resolvers are synchronous")
        return result

    def _cost(
        self, key: tuple[str, str], requested: int, actual: int | None = None
    ) -> dict[str, Any]:
        return {
            "cost": {
                "requestedQueryCost": requested,
                "actualQueryCost": actual,
                "throttleStatus": self.buckets.status(key),
            }
        }


def _payload(raw: bytes, content_type: str) -> dict[str, Any] | None:
    """`{"query", "variables", "operationName"}` from a JSON or application/graphql body."""
    if len(raw) > MAX_BODY_BYTES:
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if "application/graphql" in content_type:
        return {"query": text} if text.strip() else None
    try:
        body = json.loads(text)
    except ValueError:
        return None
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        return None
    variables = body.get("variables")
    if variables is not None and not isinstance(variables, dict):
        return None
    name = body.get("operationName")
    return {
        "query": body["query"],
        "variables": variables or {},
        "operationName": name if isinstance(name, str) else None,
    }
