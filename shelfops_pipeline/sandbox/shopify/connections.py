"""Cursor pagination as Shopify does it: `first`/`last` up to 250, `after`/`before`, `reverse`.

Cursors are base64 JSON `{"last_id": <numeric id>, "last_value": <sort value>}` like Shopify's.
Items are ordered by (sort value, numeric id); `pageInfo` tells truthfully whether items exist
beyond either end of the page. In a bulk operation the whole connection is walked and the
paging arguments are ignored, as Shopify ignores them there.
"""

import base64
import binascii
import bisect
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from shelfops_pipeline.sandbox.shopify.errors import (
    MAX_PAGE_SIZE,
    ShopifyGraphQLError,
    missing_page_size_error,
    page_size_error,
)

T = TypeVar("T")
SortValue = str | int
SortKey = tuple[SortValue, int]


@dataclass(frozen=True)
class PageArgs:
    first: int | None = None
    last: int | None = None
    after: str | None = None
    before: str | None = None
    reverse: bool = False

    @classmethod
    def from_arguments(cls, arguments: dict[str, Any]) -> "PageArgs":
        return cls(
            first=arguments.get("first"),
            last=arguments.get("last"),
            after=arguments.get("after"),
            before=arguments.get("before"),
            reverse=bool(arguments.get("reverse")),
        )

    def check(self) -> None:
        """Shopify's limits on page sizes; a connection needs `first` or `last`."""
        if self.first is None and self.last is None:
            raise missing_page_size_error()
        for name, value in (("first", self.first), ("last", self.last)):
            if value is not None and value > MAX_PAGE_SIZE:
                raise page_size_error(name, value)
            if value is not None and value < 0:
                raise ShopifyGraphQLError(f"The '{name}' argument must not be negative.")


def encode_cursor(key: SortKey) -> str:
    payload = json.dumps({"last_id": key[1], "last_value": key[0]}, separators=(",", ":"))
    return base64.b64encode(payload.encode()).decode()


def decode_cursor(cursor: str) -> SortKey:
    try:
        payload = json.loads(base64.b64decode(cursor.encode(), validate=True))
        value, last_id = payload["last_value"], payload["last_id"]
    except (binascii.Error, ValueError, KeyError, TypeError) as error:
        raise ShopifyGraphQLError(f"Invalid cursor '{cursor}'.", "BAD_REQUEST") from error
    if not isinstance(last_id, int) or not isinstance(value, str | int):
        raise ShopifyGraphQLError(f"Invalid cursor '{cursor}'.", "BAD_REQUEST")
    return value, last_id


@dataclass(frozen=True)
class Page(Generic[T]):
    items: tuple[T, ...]
    keys: tuple[SortKey, ...]
    has_next_page: bool
    has_previous_page: bool

    @property
    def cursors(self) -> tuple[str, ...]:
        return tuple(encode_cursor(k) for k in self.keys)


def _position(keys: Sequence[SortKey], cursor: SortKey, after: bool) -> int:
    value, last_id = cursor
    if not keys or isinstance(keys[0][0], type(value)):
        return bisect.bisect_right(keys, cursor) if after else bisect.bisect_left(keys, cursor)
    # A cursor written for another sort key still names its object.
    found = next((i for i, key in enumerate(keys) if key[1] == last_id), None)
    if found is None:
        raise ShopifyGraphQLError("Invalid cursor for the requested sort key.", "BAD_REQUEST")
    return found + 1 if after else found


def time_value(at: datetime) -> str:
    """A timestamp as Shopify's cursors carry it: UTC, "2026-04-24 23:51:30.272052"."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def id_key(number: int) -> SortKey:
    """Sorting by ID: Shopify's cursors carry the id as a string value."""
    return (str(number), number)


@dataclass(frozen=True)
class Ordered(Generic[T]):
    """A connection's items in ascending sort order, with their sort keys."""

    items: tuple[T, ...]
    keys: tuple[SortKey, ...]


def order_by(items: Sequence[T], key: Callable[[T], SortKey]) -> Ordered[T]:
    keyed = sorted(((key(item), item) for item in items), key=lambda pair: pair[0])
    return Ordered(tuple(item for _, item in keyed), tuple(k for k, _ in keyed))


def paginate(ordered: Ordered[T], args: PageArgs) -> Page[T]:
    """One page of `ordered` items, as `args` asks."""
    keys = ordered.keys
    count = len(keys)
    # Work in ascending positions; `reverse` flips which end `after` and `first` count from.
    low, high = 0, count
    start_cursor, end_cursor = (
        (args.before, args.after) if args.reverse else (args.after, args.before)
    )
    if start_cursor:
        low = _position(keys, decode_cursor(start_cursor), after=True)
    if end_cursor:
        high = max(low, _position(keys, decode_cursor(end_cursor), after=False))
    first, last = (args.last, args.first) if args.reverse else (args.first, args.last)
    if first is not None:
        high = min(high, low + first)
    if last is not None:
        low = max(low, high - last)
    window = list(range(low, high))
    if args.reverse:
        window.reverse()
    return Page(
        items=tuple(ordered.items[i] for i in window),
        keys=tuple(keys[i] for i in window),
        has_next_page=(low > 0) if args.reverse else (high < count),
        has_previous_page=(high < count) if args.reverse else (low > 0),
    )


def walk_all(ordered: Ordered[T], reverse: bool) -> Iterator[T]:
    """Every item in connection order, for bulk operations."""
    yield from reversed(ordered.items) if reverse else ordered.items
