"""Paging through list endpoints, one page at a time, so memory stays flat however big the sync.

Each way of paging is a small strategy: the first request, and the next one read off the last
reply (or None at the end). `pages` drives any strategy through an ApiClient, so every page
gets the client's limits and retries, and counts in its stats. A reply that repeats the request
it answered is refused rather than paged forever.
"""

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import httpx

from shelfops_pipeline.http.client import ApiClient, CallKind, JsonReply
from shelfops_pipeline.http.errors import ApiError, BadRequest, PayloadInvalid, RateLimited

LINK_KEPT_PARAMS = ("limit", "fields")
GRAPHQL_THROTTLED = "THROTTLED"


@dataclass(frozen=True)
class PageRequest:
    method: str
    path: str
    params: Mapping[str, Any] | None = None
    json: Any = None


class PageProblem(Exception):
    """A page that cannot be read or continued; `pages` turns it into a client error."""

    def __init__(self, error_class: type[ApiError], detail: str) -> None:
        super().__init__(detail)
        self.error_class = error_class
        self.detail = detail


class PageStrategy(Protocol):
    def first(self) -> PageRequest: ...

    def page(self, reply: JsonReply) -> Any:
        """What to yield for this reply."""
        ...

    def next(self, request: PageRequest, reply: JsonReply) -> PageRequest | None: ...


async def pages(
    client: ApiClient, strategy: PageStrategy, *, kind: CallKind = "read"
) -> AsyncIterator[Any]:
    """Yield each page as it arrives, following `strategy` until it says there is no next."""
    request: PageRequest | None = strategy.first()
    while request is not None:
        reply = await client.request_json_reply(
            request.method, request.path, params=request.params, json=request.json, kind=kind
        )
        client.stats.record_page()
        try:
            page = strategy.page(reply)
            following = strategy.next(request, reply)
        except PageProblem as problem:
            status = reply.response.status_code
            raise client.error(
                problem.error_class,
                request.method,
                request.path,
                detail=problem.detail,
                status=status,
            ) from None
        if following == request:
            raise client.error(
                PayloadInvalid,
                request.method,
                request.path,
                detail="the reply's cursor repeats the request it answered; paging would never end",
                status=reply.response.status_code,
            )
        yield page
        request = following


@dataclass(frozen=True)
class BodyCursor:
    """Square POST searches: the same JSON body again, plus the reply's cursor."""

    path: str
    body: Mapping[str, Any]
    cursor_field: str = "cursor"

    def first(self) -> PageRequest:
        return PageRequest("POST", self.path, json=dict(self.body))

    def page(self, reply: JsonReply) -> dict[str, Any]:
        return _object_body(reply)

    def next(self, request: PageRequest, reply: JsonReply) -> PageRequest | None:
        cursor = _object_body(reply).get(self.cursor_field)
        if not cursor:
            return None
        return replace(request, json={**self.body, self.cursor_field: cursor})


@dataclass(frozen=True)
class QueryCursor:
    """Square GET lists: the same query parameters again, plus the reply's cursor."""

    path: str
    params: Mapping[str, Any] = field(default_factory=dict)
    cursor_field: str = "cursor"

    def first(self) -> PageRequest:
        return PageRequest("GET", self.path, params=dict(self.params))

    def page(self, reply: JsonReply) -> dict[str, Any]:
        return _object_body(reply)

    def next(self, request: PageRequest, reply: JsonReply) -> PageRequest | None:
        cursor = _object_body(reply).get(self.cursor_field)
        if not cursor:
            return None
        return replace(request, params={**self.params, self.cursor_field: cursor})


@dataclass(frozen=True)
class LinkHeader:
    """Shopify REST: follow `Link: <...page_info=...>; rel="next"`.

    Shopify rejects any filter next to `page_info`, so later pages carry only `page_info` and the
    first request's `limit` and `fields` (the two parameters it allows alongside).
    """

    path: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def first(self) -> PageRequest:
        return PageRequest("GET", self.path, params=dict(self.params))

    def page(self, reply: JsonReply) -> dict[str, Any]:
        return _object_body(reply)

    def next(self, request: PageRequest, reply: JsonReply) -> PageRequest | None:
        link = reply.response.links.get("next")
        if link is None:
            return None
        page_info = httpx.URL(link.get("url", "")).params.get("page_info")
        if not page_info:
            raise PageProblem(PayloadInvalid, 'the rel="next" Link carries no page_info')
        kept = {k: self.params[k] for k in LINK_KEPT_PARAMS if k in self.params}
        return replace(request, params={**kept, "page_info": page_info})


@dataclass(frozen=True)
class GraphQLCursor:
    """GraphQL connections: `pageInfo {hasNextPage endCursor}`, sent back as `$after`.

    Yields the connection object (`nodes`/`edges` and `pageInfo`) found at `connection_path`
    under `data`. Any GraphQL error fails the page: partial data is never passed on.
    """

    path: str
    query: str
    variables: Mapping[str, Any]
    connection_path: Sequence[str]
    cursor_variable: str = "after"

    def first(self) -> PageRequest:
        return PageRequest(
            "POST", self.path, json={"query": self.query, "variables": dict(self.variables)}
        )

    def page(self, reply: JsonReply) -> dict[str, Any]:
        body = _object_body(reply)
        errors = body.get("errors")
        if errors:
            codes = (
                {_graphql_code(error) for error in errors} if isinstance(errors, list) else set()
            )
            error_class = RateLimited if GRAPHQL_THROTTLED in codes else BadRequest
            raise PageProblem(error_class, f"GraphQL errors: {_graphql_messages(errors)}")
        node: Any = body.get("data")
        for name in self.connection_path:
            node = node.get(name) if isinstance(node, dict) else None
        if not isinstance(node, dict) or not isinstance(node.get("pageInfo"), dict):
            where = ".".join(["data", *self.connection_path])
            raise PageProblem(PayloadInvalid, f"no connection with pageInfo at {where}")
        return node

    def next(self, request: PageRequest, reply: JsonReply) -> PageRequest | None:
        info = self.page(reply)["pageInfo"]
        if not info.get("hasNextPage"):
            return None
        cursor = info.get("endCursor")
        if not cursor:
            raise PageProblem(PayloadInvalid, "pageInfo says hasNextPage but gives no endCursor")
        variables = {**self.variables, self.cursor_variable: cursor}
        return replace(request, json={"query": self.query, "variables": variables})


def body_cursor_pages(
    client: ApiClient,
    path: str,
    body: Mapping[str, Any],
    *,
    cursor_field: str = "cursor",
    kind: CallKind = "read",
) -> AsyncIterator[dict[str, Any]]:
    return pages(client, BodyCursor(path, body, cursor_field), kind=kind)


def query_cursor_pages(
    client: ApiClient,
    path: str,
    params: Mapping[str, Any] | None = None,
    *,
    cursor_field: str = "cursor",
    kind: CallKind = "read",
) -> AsyncIterator[dict[str, Any]]:
    return pages(client, QueryCursor(path, params or {}, cursor_field), kind=kind)


def link_header_pages(
    client: ApiClient,
    path: str,
    params: Mapping[str, Any] | None = None,
    *,
    kind: CallKind = "read",
) -> AsyncIterator[dict[str, Any]]:
    return pages(client, LinkHeader(path, params or {}), kind=kind)


def graphql_pages(
    client: ApiClient,
    path: str,
    query: str,
    variables: Mapping[str, Any] | None,
    connection_path: Sequence[str],
    *,
    cursor_variable: str = "after",
    kind: CallKind = "read",
) -> AsyncIterator[dict[str, Any]]:
    strategy = GraphQLCursor(path, query, variables or {}, tuple(connection_path), cursor_variable)
    return pages(client, strategy, kind=kind)


def _object_body(reply: JsonReply) -> dict[str, Any]:
    if not isinstance(reply.body, dict):
        raise PageProblem(
            PayloadInvalid, f"expected a JSON object, got {type(reply.body).__name__}"
        )
    return reply.body


def _graphql_code(error: Any) -> str | None:
    extensions = error.get("extensions") if isinstance(error, dict) else None
    return extensions.get("code") if isinstance(extensions, dict) else None


def _graphql_messages(errors: Any) -> str:
    if not isinstance(errors, list):
        return str(errors)[:300]
    return "; ".join(
        str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors[:3]
    )
