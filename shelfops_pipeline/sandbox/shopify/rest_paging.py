"""REST list parameters and `Link` header paging with `page_info`, by Shopify's rules.

- `limit`: 1 to 250, default 50; above 250 -> 400 `Limit exceeds maximum limit of 250`.
- The old `page` parameter -> 400 `{"errors": {"page": "page cannot be passed."}}`.
- `page_info` is an opaque cursor holding the query's filters, the direction and the boundary
  record's sort value and id (as Shopify's own base64 JSON does). With it a request may carry
  only `limit` and `fields`; any other parameter -> 400 `<name> cannot be passed when page_info
  is present. ...` (measured on a real shop; api-notes section 7). A page_info that does not
  decode -> 400 `{"errors": {"page_info": "Invalid value."}}`.
- Replies link the next and previous pages in `Link`, and send none when one page holds it all.
"""

import base64
import binascii
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

from starlette.datastructures import URL

from shelfops_pipeline.sandbox.shopify.admin_errors import AdminApiError

T = TypeVar("T")
SortValue = int | str
SortKey = tuple[SortValue, int]
Direction = Literal["next", "prev"]
MAX_LIMIT = 250
DEFAULT_LIMIT = 50
PAGING_PARAMS = ("limit", "fields", "page_info")
PAGINATION_DOCS = "https://shopify.dev/api/usage/pagination-rest"


def _bad(field: str, message: str) -> AdminApiError:
    return AdminApiError(400, {field: message})


def parse_limit(params: Mapping[str, str]) -> int:
    text = params.get("limit")
    if text is None or text == "":
        return DEFAULT_LIMIT
    try:
        limit = int(text)
    except ValueError:
        raise _bad("limit", "Invalid value.") from None
    if limit > MAX_LIMIT:
        raise AdminApiError(400, f"Limit exceeds maximum limit of {MAX_LIMIT}")
    if limit < 1:
        raise _bad("limit", "Invalid value.")
    return limit


def parse_fields(params: Mapping[str, str]) -> tuple[str, ...] | None:
    text = params.get("fields")
    fields = tuple(f.strip() for f in (text or "").split(",") if f.strip())
    return fields or None


@dataclass(frozen=True)
class PageCursor:
    """Where the next (or previous) page starts, and the filters of the query it pages."""

    direction: Direction
    last_value: SortValue
    last_id: int
    filters: dict[str, str]

    def encode(self) -> str:
        body = {
            "direction": self.direction,
            "last_id": self.last_id,
            "last_value": self.last_value,
            **self.filters,
        }
        raw = json.dumps(body, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @property
    def key(self) -> SortKey:
        return (self.last_value, self.last_id)


def decode_cursor(text: str) -> PageCursor:
    invalid = _bad("page_info", "Invalid value.")
    try:
        body = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
        raise invalid from None
    if not isinstance(body, dict):
        raise invalid
    direction = body.pop("direction", None)
    last_id = body.pop("last_id", None)
    last_value = body.pop("last_value", None)
    if direction not in ("next", "prev") or type(last_id) is not int:
        raise invalid
    if type(last_value) not in (int, str) or not all(isinstance(v, str) for v in body.values()):
        raise invalid
    return PageCursor(direction, last_value, last_id, body)


@dataclass(frozen=True)
class ListRequest:
    """A list call's paging: its filters (from the URL or from page_info), limit and fields."""

    filters: dict[str, str]
    limit: int
    fields: tuple[str, ...] | None
    cursor: PageCursor | None


def list_request(params: Mapping[str, str]) -> ListRequest:
    """Read the paging parameters; 400 in Shopify's words for the ones it refuses."""
    if "page" in params:
        raise _bad("page", "page cannot be passed.")
    limit = parse_limit(params)
    fields = parse_fields(params)
    page_info = params.get("page_info")
    if page_info is None:
        filters = {k: v for k, v in params.items() if k not in PAGING_PARAMS}
        return ListRequest(filters, limit, fields, None)
    extra = next((k for k in params if k not in PAGING_PARAMS), None)
    if extra is not None:
        raise _bad(
            extra,
            f"{extra} cannot be passed when page_info is present. "
            f"See {PAGINATION_DOCS} for more information.",
        )
    cursor = decode_cursor(page_info)
    return ListRequest(cursor.filters, limit, fields, cursor)


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: PageCursor | None
    previous_cursor: PageCursor | None


def page_of(
    ordered: Callable[[Direction, SortKey | None], Iterable[T]],
    key: Callable[[T], SortKey],
    request: ListRequest,
) -> Page[T]:
    """One page of a result in display order.

    `ordered(direction, after)` yields the records strictly after `after` (None: from the
    start) in display order for "next", or strictly before it, nearest first, for "prev".
    """
    cursor = request.cursor
    direction: Direction = cursor.direction if cursor else "next"
    stream: Iterator[T] = iter(ordered(direction, cursor.key if cursor else None))
    taken = [item for _, item in zip(range(request.limit + 1), stream, strict=False)]
    more = len(taken) > request.limit
    items = taken[: request.limit]
    if direction == "prev":
        items.reverse()
    filters = request.filters
    if not items:
        return Page(items, None, None)
    first, last = key(items[0]), key(items[-1])
    has_next = more if direction == "next" else cursor is not None
    has_previous = cursor is not None if direction == "next" else more
    next_cursor = PageCursor("next", last[0], last[1], filters) if has_next else None
    previous_cursor = PageCursor("prev", first[0], first[1], filters) if has_previous else None
    return Page(items, next_cursor, previous_cursor)


def link_header(url: URL, page: Page[object], request: ListRequest) -> str | None:
    """`<...page_info=...>; rel="previous", <...>; rel="next"`, or None for a lone page."""
    links = []
    for cursor, rel in ((page.previous_cursor, "previous"), (page.next_cursor, "next")):
        if cursor is None:
            continue
        query = {"limit": str(request.limit), "page_info": cursor.encode()}
        if request.fields:
            query["fields"] = ",".join(request.fields)
        links.append(f'<{url.replace_query_params(**query)}>; rel="{rel}"')
    return ", ".join(links) or None
