"""Paging orders stays true to the world while the sandbox keeps each filtered, sorted history
between pages: pages of different searches and sort keys interleave without mixing, and orders
that appear when the clock moves on are in the next pages."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from clocks import MovableClock
from test_sandbox_shopify_graphql_harness import (
    FROZEN_AT,
    ShopifyGraphQLServer,
    serve_shopify_graphql,
)

from shelfops_pipeline.sandbox.world.entities import Shop

ORDERS = """query($q: String, $sort: OrderSortKeys, $after: String) {
  orders(first: 10, after: $after, query: $q, sortKey: $sort) {
    nodes { id createdAt } pageInfo { hasNextPage endCursor } } }"""


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock(FROZEN_AT)


@pytest.fixture
def server(clock: MovableClock) -> Iterator[ShopifyGraphQLServer]:
    with serve_shopify_graphql(clock=clock) as served:
        yield served


def _pages(server: ShopifyGraphQLServer, shop: Shop, variables: dict[str, str]) -> Iterator[list]:
    after = None
    while True:
        orders = server.data(shop, ORDERS, {**variables, "after": after})["orders"]
        yield [node["id"] for node in orders["nodes"]]
        if not orders["pageInfo"]["hasNextPage"]:
            return
        after = orders["pageInfo"]["endCursor"]


def _all(server: ShopifyGraphQLServer, shop: Shop, variables: dict[str, str]) -> list[str]:
    return [order for page in _pages(server, shop, variables) for order in page]


def test_interleaved_searches_and_sort_keys_page_as_they_would_alone(
    server: ShopifyGraphQLServer,
) -> None:
    shop = server.world.shops[0]
    since = f"created_at:>='{FROZEN_AT - timedelta(days=3):%Y-%m-%d %H:%M:%S+00:00}'"
    asks = [
        {"q": since, "sort": "CREATED_AT"},
        {"q": since, "sort": "ID"},
        {"sort": "CREATED_AT"},
    ]
    alone = [_all(server, shop, ask) for ask in asks]
    assert len(alone[0]) == len(alone[1]) < len(alone[2])
    assert sorted(alone[0]) == sorted(alone[1]) and alone[0] != alone[1]
    walkers = [_pages(server, shop, ask) for ask in asks]
    interleaved: list[list[str]] = [[] for _ in asks]
    while walkers:
        for index, walker in list(enumerate(walkers)):
            page = next(walker, None)
            if page is None:
                walkers[index] = iter(())
            else:
                interleaved[index].extend(page)
        if all(len(got) == len(want) for got, want in zip(interleaved, alone, strict=True)):
            break
    assert interleaved == alone


def test_orders_that_appear_while_paging_are_in_later_pages(
    server: ShopifyGraphQLServer, clock: MovableClock
) -> None:
    shop = server.world.shops[0]
    clock.moment = FROZEN_AT - timedelta(hours=12)
    since = f"created_at:>='{FROZEN_AT - timedelta(days=3):%Y-%m-%d %H:%M:%S+00:00}'"
    ask = {"q": since, "sort": "CREATED_AT"}
    before = _all(server, shop, ask)
    walker = _pages(server, shop, ask)
    first = next(walker)
    clock.moment = FROZEN_AT
    rest = [order for page in walker for order in page]
    later = _all(server, shop, ask)
    assert len(before) > len(first) and first + rest == later
    assert len(later) > len(before) and later[: len(before)] == before
    newest = server.data(
        shop, "{ orders(first: 1, reverse: true, sortKey: CREATED_AT) { nodes { createdAt } } }"
    )["orders"]["nodes"][0]["createdAt"]
    assert datetime.fromisoformat(newest) > FROZEN_AT.astimezone(UTC) - timedelta(hours=12)
