"""Pacing Shopify GraphQL calls by query cost, from what the server reports on every reply.

Shopify runs a leaky bucket of points per app and shop: a query is refused (THROTTLED) unless the
bucket holds its requested cost, and afterwards the unused part flows back. Every reply carries
`extensions.cost` with the query's `requestedQueryCost` and the bucket's `throttleStatus`. So:

- `QueryCosts` knows each query's requested cost: from a table of the connector's queries
  at first, then as each reply reports it (keyed by the query text and its variables other than
  the cursor); a query in neither is charged Shopify's single-query ceiling, which is never
  throttled once that much is in the bucket;
- `ReplyObserver` feeds every reply's `throttleStatus` into the limiter (`observe`), less the
  cost of the queries the server may not have charged when it wrote it (`InFlight`), so
  the limiter waits, before sending, exactly as long as the bucket needs to refill to the next
  query's cost; a THROTTLED body becomes `RateLimited` with the wait the bucket needs, so the
  retry policy tries again once (HTTP 429 is classified by the shared layer).
"""

import json
import logging
import threading
import weakref
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from shelfops_pipeline.http.errors import RateLimited
from shelfops_pipeline.http.limiter import TokenBucket

logger = logging.getLogger(__name__)

# Shopify refuses any single query whose requested cost exceeds this.
MAX_QUERY_COST = 1000.0
THROTTLED = "THROTTLED"
VERSION_HEADER = "X-Shopify-API-Version"
DEPRECATION_HEADER = "X-Shopify-API-Deprecated-Reason"
CURSOR_VARIABLE = "after"
OVERLAP = "shelfops_overlap_points"


def query_key(body: Any) -> str | None:
    """What a query's cost depends on: its text and its variables other than the cursor."""
    if not isinstance(body, Mapping) or not isinstance(body.get("query"), str):
        return None
    variables = {k: v for k, v in (body.get("variables") or {}).items() if k != CURSOR_VARIABLE}
    return json.dumps([body["query"], variables], sort_keys=True, default=str)


class QueryCosts:
    """The requested cost of each query shape, learned from the server's replies."""

    def __init__(self, known: Mapping[str, float] | None = None) -> None:
        self._known = dict(known or {})
        self._costs: dict[str, float] = {}

    def requested(self, body: Any) -> float:
        key = query_key(body)
        if key is None:
            return 1.0
        return self._costs.get(key) or self._known.get(body["query"], MAX_QUERY_COST)

    def learn(self, body: Any, cost: float) -> None:
        key = query_key(body)
        if key is not None and cost > 0:
            self._costs[key] = cost


@dataclass(frozen=True)
class CostReport:
    """`extensions.cost` of one reply."""

    requested: float | None
    actual: float | None
    maximum: float
    available: float
    restore_rate: float

    @property
    def refill_seconds(self) -> float:
        """How long the bucket needs to hold the requested cost again."""
        need = (self.requested or 0.0) - self.available
        return max(0.0, need / self.restore_rate) if self.restore_rate > 0 else 1.0


def cost_report(body: Any) -> CostReport | None:
    extensions = body.get("extensions") if isinstance(body, dict) else None
    cost = extensions.get("cost") if isinstance(extensions, dict) else None
    status = cost.get("throttleStatus") if isinstance(cost, dict) else None
    if not isinstance(status, dict):
        return None
    try:
        return CostReport(
            requested=_number(cost.get("requestedQueryCost")),
            actual=_number(cost.get("actualQueryCost")),
            maximum=float(status["maximumAvailable"]),
            available=float(status["currentlyAvailable"]),
            restore_rate=float(status["restoreRate"]),
        )
    except (KeyError, TypeError, ValueError):
        return None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def is_throttled(body: Any) -> bool:
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list):
        return False
    return any(
        isinstance(e, dict) and (e.get("extensions") or {}).get("code") == THROTTLED for e in errors
    )


class FlightLedger:
    """The queries in flight against one points bucket, from every client sharing it.

    Replies to concurrent queries arrive in any order, so a reply's figure may predate charges
    the server made since. Its overlap is the requested cost of every other query in flight at
    any time while it was: those in flight when it was sent and those sent before its reply was
    read. Subtracting it never overestimates the bucket.
    """

    def __init__(self) -> None:
        # A thread lock: clients of one shop may run on several event loops.
        self._lock = threading.Lock()
        # id(request) -> [its requested cost, the overlap so far]
        self._open: dict[int, list[float]] = {}

    def sent(self, request: httpx.Request, cost: float) -> None:
        with self._lock:
            overlap = sum(entry[0] for entry in self._open.values())
            for entry in self._open.values():
                entry[1] += cost
            self._open[id(request)] = [cost, overlap]

    def settle(self, request: httpx.Request) -> None:
        with self._lock:
            entry = self._open.pop(id(request), None)
        if entry is not None:
            request.extensions[OVERLAP] = entry[1]


_LEDGERS: "weakref.WeakKeyDictionary[TokenBucket, FlightLedger]" = weakref.WeakKeyDictionary()
_LEDGERS_LOCK = threading.Lock()


def ledger_for(limiter: TokenBucket) -> FlightLedger:
    """The ledger of everything sent under `limiter`, shared like the limiter is."""
    with _LEDGERS_LOCK:
        found = _LEDGERS.get(limiter)
        if found is None:
            found = _LEDGERS[limiter] = FlightLedger()
        return found


class InFlight(httpx.AsyncBaseTransport):
    """Wraps the transport to enter each query in the bucket's `FlightLedger`; a query is
    settled when its reply's body has been read, the moment before `ReplyObserver` sees it."""

    def __init__(self, inner: httpx.AsyncBaseTransport, costs: QueryCosts) -> None:
        self._inner = inner
        self._costs = costs
        self.ledger = FlightLedger()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        ledger = self.ledger
        ledger.sent(request, self._costs.requested(_request_body(request)))
        try:
            response = await self._inner.handle_async_request(request)
        except BaseException:
            ledger.settle(request)
            raise
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=_Settling(response.stream, ledger, request),
            extensions=response.extensions,
            request=request,
        )

    async def aclose(self) -> None:
        await self._inner.aclose()


class _Settling(httpx.AsyncByteStream):
    """A reply body that settles its query once it is closed."""

    def __init__(self, inner: Any, ledger: FlightLedger, request: httpx.Request) -> None:
        self._inner = inner
        self._ledger = ledger
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        finally:
            self._ledger.settle(self._request)


class ReplyObserver:
    """The `on_response` hook of a Shopify client: version, deprecations, cost and throttling."""

    def __init__(self, shop: str, api_version: str, costs: QueryCosts) -> None:
        self.shop = shop
        self.api_version = api_version
        self.costs = costs
        self.limiter: TokenBucket | None = None
        self._warned: set[str] = set()

    def __call__(self, response: httpx.Response) -> None:
        self._check_version(response)
        if not response.is_success or "json" not in response.headers.get("content-type", ""):
            return
        try:
            body = response.json()
        except ValueError:
            return
        report = cost_report(body)
        if report is None:
            return
        if self.limiter is not None:
            self.limiter.observe(
                available=report.available - response.request.extensions.get(OVERLAP, 0.0),
                capacity=report.maximum,
                restore_rate=report.restore_rate,
            )
        sent = _request_body(response.request)
        if report.requested is not None:
            self.costs.learn(sent, report.requested)
        if is_throttled(body):
            raise RateLimited(
                source="shopify",
                account=self.shop,
                method=response.request.method,
                path=response.request.url.path,
                status=response.status_code,
                detail=f"THROTTLED: the query needs {report.requested or 0:g} points, the bucket "
                f"holds {report.available:g} and refills {report.restore_rate:g}/s",
                retry_after=report.refill_seconds,
            )

    def _check_version(self, response: httpx.Response) -> None:
        served = response.headers.get(VERSION_HEADER)
        if served and served != self.api_version:
            self._warn_once(
                f"version:{served}",
                "shopify %s served API version %s, not the pinned %s: replies may differ from what "
                "the connector expects; update API_VERSION once its changes are reviewed",
                self.shop,
                served,
                self.api_version,
            )
        reason = response.headers.get(DEPRECATION_HEADER)
        if reason:
            self._warn_once(
                f"deprecated:{response.request.url.path}",
                "shopify %s flags %s as using deprecated API features: %s",
                self.shop,
                response.request.url.path,
                reason,
            )

    def _warn_once(self, key: str, message: str, *args: Any) -> None:
        if key not in self._warned:
            self._warned.add(key)
            logger.warning(message, *args)


def _request_body(request: httpx.Request) -> Any:
    try:
        return json.loads(request.content or b"null")
    except (ValueError, httpx.RequestNotRead):
        return None
