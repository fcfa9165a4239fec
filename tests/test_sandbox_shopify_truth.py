"""Shopify's ground truth is what a careful reader of REST `orders.json` would conclude.

For a few business days, the truth's Shopify lines are rebuilt here from the orders the sandbox
serves over loopback HTTP: paid, not cancelled and not test orders sell their line items at
`processed_at`; refund line items return at their refund's `created_at`.
"""

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from click.testing import CliRunner
from conftest import FROZEN_NOW, SEED

from shelfops_pipeline.cli import cli
from shelfops_pipeline.sandbox.runner import serve_in_thread
from shelfops_pipeline.sandbox.server import Sandbox, build_sandbox
from shelfops_pipeline.sandbox.settings import SandboxSettings
from shelfops_pipeline.sandbox.truth import truth_lines
from shelfops_pipeline.sandbox.world.entities import Shop

DAYS = [date(2026, 11, 1) + timedelta(days=n) for n in range(4)]
PAID = ("paid", "partially_refunded", "refunded")
Row = tuple[str, ...]


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[Sandbox, str]]:
    sandbox = build_sandbox(SandboxSettings(seed=SEED, scale="small", frozen_at=FROZEN_NOW))
    with serve_in_thread(sandbox.app) as base_url:
        yield sandbox, base_url


def every_order(sandbox: Sandbox, base_url: str, shop: Shop) -> list[dict[str, Any]]:
    token = sandbox.shopify_tokens.custom_apps[shop.domain].access_token
    headers = {"X-Shopify-Access-Token": token}
    url: str | None = f"{base_url}/shopify/{shop.handle}/admin/api/2026-10/orders.json"
    params: dict[str, str] | None = {"status": "any", "limit": "250"}
    orders: list[dict[str, Any]] = []
    while url:
        reply = httpx.get(url, params=params, headers=headers)
        assert reply.status_code == 200, reply.text
        orders.extend(reply.json()["orders"])
        following = [p for p in reply.headers.get("link", "").split(", ") if 'rel="next"' in p]
        url = following[0].split(";")[0].strip("<>") if following else None
        params = None
    return orders


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def row(order: dict[str, Any], item: dict[str, Any], line_id: int, kind: str, quantity: int,
        discount: Decimal, tax: Decimal, net: Decimal, at: datetime, day: date,
        store_id: str) -> Row:  # fmt: skip
    return (
        f"shopify:{order['id']}:{line_id}", store_id, str(item["variant_id"] or ""),
        str(order["id"]), str(line_id), kind, str(Decimal(quantity)), item["price"],
        str(discount), str(tax), str(net), order["currency"], at.isoformat(), day.isoformat(),
    )  # fmt: skip


def lines_from_rest(
    orders: list[dict[str, Any]], day: date, zones: dict[str, str], online: str
) -> set[Row]:
    expected: set[Row] = set()
    for order in orders:
        if order["test"]:
            continue
        store_id = str(order["location_id"]) if order["location_id"] else online
        zone = ZoneInfo(zones[store_id])
        sold_at = utc(order["processed_at"])
        paid = order["financial_status"] in PAID and order["cancelled_at"] is None
        if paid and sold_at.astimezone(zone).date() == day:
            for item in order["line_items"]:
                tax = sum((Decimal(t["price"]) for t in item["tax_lines"]), Decimal(0))
                discount = Decimal(item["total_discount"])
                net = Decimal(item["price"]) * item["quantity"] - discount
                expected.add(row(order, item, item["id"], "sale", item["quantity"], discount,
                                 tax.quantize(discount), net, sold_at, day, store_id))  # fmt: skip
        for refund in order["refunds"]:
            refunded_at = utc(refund["created_at"])
            if refunded_at.astimezone(zone).date() != day:
                continue
            for back in refund["refund_line_items"]:
                item = back["line_item"]
                subtotal = Decimal(back["subtotal_set"]["shop_money"]["amount"])
                tax = Decimal(back["total_tax_set"]["shop_money"]["amount"])
                discount = Decimal(item["price"]) * back["quantity"] - subtotal
                expected.add(row(order, item, back["id"], "return", -back["quantity"], -discount,
                                 -tax, -subtotal, refunded_at, day, store_id))  # fmt: skip
    return expected


def truth_rows(sandbox: Sandbox, day: date, shop: Shop) -> set[Row]:
    columns = (
        "transaction_id", "store_id", "product_id", "order_id", "line_id", "kind", "quantity",
        "unit_price", "discount", "tax", "net_amount", "currency",
    )  # fmt: skip
    found = set()
    for line in truth_lines(sandbox.world, day):
        if line.source_system == "shopify" and line.customer_id == shop.customer_id:
            text = line.as_text()
            found.add(
                (*(text[c] for c in columns), line.occurred_at.isoformat(), text["business_date"])
            )
    return found


def test_each_days_shopify_truth_is_what_rest_orders_show(served: tuple[Sandbox, str]) -> None:
    sandbox, base_url = served
    kinds = set()
    for shop in sandbox.world.shops:
        stores = sandbox.world.stores_of(shop.domain)
        zones = {s.id: s.timezone for s in stores}
        online = next(s.id for s in stores if s.kind == "online")
        orders = every_order(sandbox, base_url, shop)
        for day in DAYS:
            expected = lines_from_rest(orders, day, zones, online)
            assert truth_rows(sandbox, day, shop) == expected, (shop.domain, day)
            kinds |= {r[5] for r in expected}
    assert kinds == {"sale", "return"}


def test_open_cancelled_and_test_orders_sell_nothing(served: tuple[Sandbox, str]) -> None:
    sandbox, base_url = served
    shop = sandbox.world.shops[1]
    orders = {o["id"]: o for o in every_order(sandbox, base_url, shop)}
    sold = {
        int(line.order_id)
        for day in DAYS
        for line in truth_lines(sandbox.world, day)
        if line.source_system == "shopify"
        and line.kind == "sale"
        and line.customer_id == shop.customer_id
    }
    assert sold and sold <= set(orders)
    for order_id in sold:
        order = orders[order_id]
        assert order["financial_status"] in PAID
        assert order["cancelled_at"] is None and not order["test"]
    unsold = [o for o in orders.values() if o["financial_status"] in ("pending", "voided")]
    assert unsold and not {o["id"] for o in unsold} & sold


def test_the_truth_command_prints_shopify_lines_beside_squares() -> None:
    result = CliRunner().invoke(
        cli,
        ["sandbox", "truth", "--seed", str(SEED), "--scale", "small",
         "--now", FROZEN_NOW.isoformat(), "--date", DAYS[1].isoformat()],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert {r["source_system"] for r in rows} == {"square", "shopify"}
    shopify = [r for r in rows if r["source_system"] == "shopify"]
    assert all(r["transaction_id"].startswith(f"shopify:{r['order_id']}:") for r in shopify)
    assert all(r["occurred_at"].endswith(".000000Z") for r in shopify), "Shopify shows seconds"
    assert any(r["store_id"].startswith("online-") for r in shopify)
    assert any(r["store_id"].isdigit() for r in shopify), "POS sales carry their location"
