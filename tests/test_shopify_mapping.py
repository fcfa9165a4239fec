"""Shopify records -> unified rows, without HTTP: which orders count as sales, where and when
sales and refunds land, and which currency the amounts are in."""

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

from shelfops_pipeline.sources.shopify.mapping import day_total, store_rows, transaction_rows
from shelfops_pipeline.sources.shopify.models import (
    LineItem,
    Location,
    Order,
    Refund,
    RefundLineItem,
    Shop,
    parse_order,
)

SHOP = Shop("harbor-pantry.myshopify.com", "Harbor Pantry", "Asia/Tokyo", "JPY")
LINE = LineItem("11", "21", 3, Decimal("450"), Decimal("150"), Decimal("120"), Decimal("1200"))
BACK = RefundLineItem("31", "11", "21", 1, Decimal("450"), Decimal("40"), Decimal("400"))
# 23:30 UTC on Nov 2 is Nov 3 in Tokyo; the refund, 16:00 UTC on Nov 4, is Nov 5 there.
SOLD = datetime(2026, 11, 2, 23, 30, tzinfo=UTC)
REFUNDED = datetime(2026, 11, 4, 16, 0, tzinfo=UTC)
ORDER = Order(
    id="7", name="#1001", test=False, created_at=SOLD, processed_at=SOLD, updated_at=REFUNDED,
    cancelled_at=None, financial_status="PARTIALLY_REFUNDED", currency="JPY",
    presentment_currency="USD", location_id=None, total=Decimal("1320"), line_items=(LINE,),
    refunds=(Refund("41", REFUNDED, Decimal("440"), (BACK,)),),
)  # fmt: skip


def test_a_sale_lands_on_the_shops_local_day_at_the_online_store_in_shop_currency() -> None:
    sale, returned = transaction_rows(ORDER, SHOP, "cust-002")
    assert (sale.kind, sale.business_date, sale.store_id) == (
        "sale",
        date(2026, 11, 3),
        "online-harbor-pantry",
    )
    assert (sale.quantity, sale.net_amount, sale.tax, sale.currency) == (3, 1200, 120, "JPY")
    assert sale.transaction_id == "shopify:7:11" and sale.product_id == "21"
    assert (returned.kind, returned.business_date, returned.occurred_at) == (
        "return", date(2026, 11, 5), REFUNDED,
    )  # fmt: skip
    assert (returned.quantity, returned.discount, returned.tax, returned.net_amount) == (
        -1, -50, -40, -400,
    )  # fmt: skip


def test_test_orders_count_nothing_and_unpaid_or_cancelled_orders_no_sale() -> None:
    assert list(transaction_rows(replace(ORDER, test=True), SHOP, "c")) == []
    for unsold in (
        replace(ORDER, financial_status="PENDING"),
        replace(ORDER, financial_status="VOIDED", cancelled_at=SOLD),
    ):
        assert [row.kind for row in transaction_rows(unsold, SHOP, "c")] == ["return"]


def test_a_pos_order_lands_at_its_location_and_every_location_is_a_store() -> None:
    (sale, _) = transaction_rows(replace(ORDER, location_id="42"), SHOP, "c")
    assert sale.store_id == "42"
    stores = list(store_rows(SHOP, [Location("42", "Ginza", True)], "c"))
    assert [(s.store_id, s.kind, s.timezone) for s in stores] == [
        ("42", "physical", "Asia/Tokyo"),
        ("online-harbor-pantry", "online", "Asia/Tokyo"),
    ]


def test_day_totals_are_what_shopify_reported_for_that_days_lines() -> None:
    totals = {
        day: day_total(ORDER, SHOP, day)
        for day in (date(2026, 11, 3), date(2026, 11, 4), date(2026, 11, 5))
    }
    assert {day: (t.total, t.lines) if t else None for day, t in totals.items()} == {
        date(2026, 11, 3): (Decimal("1320"), 1),
        date(2026, 11, 4): None,
        date(2026, 11, 5): (Decimal("-440"), 1),
    }


def test_shop_money_is_kept_and_presentment_money_ignored() -> None:
    def money(shop: str, shown: str) -> dict[str, object]:
        return {
            "shopMoney": {"amount": shop, "currencyCode": "JPY"},
            "presentmentMoney": {"amount": shown, "currencyCode": "USD"},
        }

    order = parse_order(
        {
            "id": "gid://shopify/Order/7", "name": "#1001", "test": False,
            "createdAt": "2026-11-02T23:30:00Z", "processedAt": "2026-11-02T23:30:00Z",
            "updatedAt": "2026-11-02T23:30:00Z", "cancelledAt": None,
            "displayFinancialStatus": "PAID", "currencyCode": "JPY",
            "presentmentCurrencyCode": "USD", "location": None,
            "totalPriceSet": money("1320.0", "8.84"),
            "lineItems": {"nodes": [{
                "id": "gid://shopify/LineItem/11", "quantity": 3,
                "variant": {"id": "gid://shopify/ProductVariant/21"},
                "originalUnitPriceSet": money("450.0", "3.02"),
                "totalDiscountSet": money("150.0", "1.01"),
                "discountedTotalSet": money("1200.0", "8.04"),
                "taxLines": [{"priceSet": money("120.0", "0.8")}],
            }]},
            "refunds": [],
        }
    )  # fmt: skip
    (sale,) = transaction_rows(order, SHOP, "c")
    assert (sale.unit_price, sale.net_amount, sale.currency) == (450, 1200, "JPY")
    assert str(sale.unit_price) == "450"
