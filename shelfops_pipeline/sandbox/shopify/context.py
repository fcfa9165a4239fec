"""What every resolver sees: the shop, the instant the world is shown at, and connection plumbing.

Resolvers are plain objects whose attributes and methods carry the GraphQL field names; graphql-core's
default resolver reads an attribute, or calls a method as `method(info, **arguments)`. Only
`info.context` is used, so the bulk-operation walker can call the same methods.
"""

from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from shelfops_pipeline.sandbox.shopify.connections import (
    Ordered,
    Page,
    PageArgs,
    SortKey,
    order_by,
    paginate,
    walk_all,
)
from shelfops_pipeline.sandbox.shopify.errors import invalid_id_error
from shelfops_pipeline.sandbox.shopify.model import ShopifyView, parse_gid
from shelfops_pipeline.sandbox.shopify.search import SearchFields, SearchSyntaxError, parse_search
from shelfops_pipeline.sandbox.shopify.webhook_subscriptions import WebhookSubscriptions
from shelfops_pipeline.sandbox.world.entities import Shop

T = TypeVar("T")


class BulkRegistry(Protocol):
    """The bulk operations of the sandbox, as the query and mutation roots use them."""

    def find(self, shop: Shop, operation_id: int) -> Any: ...

    def current(self, shop: Shop, operation_type: str) -> Any: ...

    def all_of(self, shop: Shop) -> Sequence[Any]: ...

    def run_query(
        self, context: "RequestContext", query: str, group_objects: bool | None
    ) -> dict[str, Any]: ...

    def cancel(self, shop: Shop, operation_id: int) -> dict[str, Any]: ...


@dataclass
class RequestContext:
    """One GraphQL request (or one bulk operation): who asks (the app and its token's scopes),
    about which shop, as of when."""

    view: ShopifyView
    shop: Shop
    at: datetime
    api_version: str
    access_scopes: tuple[str, ...]
    bulk: BulkRegistry
    webhooks: WebhookSubscriptions
    app_id: str
    base_url: str = ""
    bulk_mode: bool = False


class Info(Protocol):
    """The part of graphql-core's resolve info the resolvers use."""

    @property
    def context(self) -> Any: ...


def numeric_id_argument(value: str, kind: str | None = None) -> int | None:
    """The number in a GID argument; None when it names another kind of object."""
    parsed = parse_gid(value)
    if parsed is None:
        raise invalid_id_error(value)
    found_kind, number = parsed
    return number if kind is None or found_kind == kind else None


class Edge:
    def __init__(self, cursor: str, node: Any) -> None:
        self.cursor = cursor
        self.node = node


class Connection(Generic[T]):
    """A Shopify connection over `items`, ordered by `key`, each shown through `wrap`; with a
    `memo` (everything the filtered ordering depends on) the view's cache keeps the ordering."""

    def __init__(
        self,
        context: RequestContext,
        items: Callable[[], Sequence[T]],
        key: Callable[[T], SortKey],
        wrap: Callable[[T], Any],
        arguments: Mapping[str, Any],
        search: SearchFields | None = None,
        paged: bool = True,
        memo: Hashable | None = None,
    ) -> None:
        self._view = context.view
        self._memo = memo
        self.args = PageArgs.from_arguments(dict(arguments))
        if paged and not context.bulk_mode:
            self.args.check()
        self._items = items
        self._key = key
        self._wrap = wrap
        self._query = arguments.get("query")
        self._search = search
        self._page: Page[T] | None = None

    def _filtered(self) -> Sequence[T]:
        items = self._items()
        if not self._query or self._search is None:
            return items
        try:
            expression = parse_search(self._query)
        except SearchSyntaxError:
            return items
        search = self._search
        return [item for item in items if search.matches(expression, item)]

    def count(self) -> int:
        """How many items the `query:` filter keeps (for the *Count fields)."""
        return len(self._filtered())

    def _ordered(self) -> Ordered[T]:
        if self._memo is None:
            return order_by(self._filtered(), self._key)
        return self._view.orderings.get_or_compute(
            (self._memo, self._query), lambda: order_by(self._filtered(), self._key)
        )

    def page(self) -> Page[T]:
        if self._page is None:
            self._page = paginate(self._ordered(), self.args)
        return self._page

    def edges(self, info: Info) -> list[Edge]:
        page = self.page()
        return [
            Edge(cursor, self._wrap(item))
            for cursor, item in zip(page.cursors, page.items, strict=True)
        ]

    def nodes(self, info: Info) -> list[Any]:
        return [self._wrap(item) for item in self.page().items]

    def pageInfo(self, info: Info) -> dict[str, Any]:
        page = self.page()
        cursors = page.cursors
        return {
            "hasNextPage": page.has_next_page,
            "hasPreviousPage": page.has_previous_page,
            "startCursor": cursors[0] if cursors else None,
            "endCursor": cursors[-1] if cursors else None,
        }

    def walk(self) -> Iterator[Any]:
        """Every node in connection order, paging ignored (bulk operations)."""
        for item in walk_all(self._ordered(), self.args.reverse):
            yield self._wrap(item)
