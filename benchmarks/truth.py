"""Whether a tool's rows match the sandbox's ground truth: ids and key fields, line by line.

Ours: every `transactions` row of the synced customer and days against the truth lines, on ids
and on kind, quantity, unit price, discount, tax, net amount, currency and business date
(product ids are left out: a line whose Shopify variant was deleted has none, as the API gives
none). Peers emit the provider's orders, not lines, so each truth line is looked up in them by
the provider's ids: tap-square's orders carry their line items and return line items, compared on
quantity, unit price, discount and tax; tap-shopify's carry line items but no refund lines, so its
sale lines are compared the same way and its return lines only by their order showing a refund.
"""

import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from shelfops_pipeline.sandbox.world.config import minor_unit_digits

OUR_FIELDS = (
    "kind", "quantity", "unit_price", "discount", "tax", "net_amount", "currency",
    "business_date",
)  # fmt: skip
SAMPLE = 3


@dataclass
class Match:
    """How many truth items a tool's output holds, and how many of those differ on a key field."""

    what: str
    expected: int = 0
    found: int = 0
    mismatched: int = 0
    extra: int = 0
    examples: list[str] = field(default_factory=list)

    @property
    def share(self) -> float:
        """Truth items found with every key field equal."""
        return (self.found - self.mismatched) / self.expected if self.expected else 0.0

    def differ(self, example: str) -> None:
        self.mismatched += 1
        if len(self.examples) < SAMPLE:
            self.examples.append(example)

    def summary(self) -> dict[str, Any]:
        return {
            "compared": self.what,
            "expected": self.expected,
            "found": self.found,
            "mismatched": self.mismatched,
            "extra": self.extra,
            "examples": self.examples,
        }


def load_truth(path: Path, customer: str, days: list[date]) -> list[dict[str, str]]:
    wanted = {d.isoformat() for d in days}
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [r for r in rows if r["customer_id"] == customer and r["business_date"] in wanted]


def _decimal(value: Any) -> Decimal:
    return Decimal(str(value)).normalize()


def ours(lake: Path, customer: str, days: list[date], truth: list[dict[str, str]]) -> Match:
    """Our `transactions` partitions against the truth."""
    rows: dict[str, dict[str, Any]] = {}
    for day in days:
        part = lake / "transactions" / f"customer_id={customer}" / f"business_date={day}"
        path = part / "part.parquet"
        if path.is_file():
            for row in pq.read_table(path).to_pylist():
                rows[row["transaction_id"]] = {**row, "business_date": day.isoformat()}
    match = Match("ids, " + ", ".join(OUR_FIELDS))
    match.expected = len(truth)
    expected_ids = {t["transaction_id"] for t in truth}
    match.extra = len(set(rows) - expected_ids)
    for line in truth:
        row = rows.get(line["transaction_id"])
        if row is None:
            continue
        match.found += 1
        for name in OUR_FIELDS:
            mine, true = row[name], line[name]
            same = (
                _decimal(mine) == _decimal(true)
                if name in ("quantity", "unit_price", "discount", "tax", "net_amount")
                else str(mine) == true
            )
            if not same:
                match.differ(f"{line['transaction_id']} {name}: {mine} != {true}")
                break
    return match


def _minor(amount: Any) -> int:
    return int(_decimal(amount))


def tap_square(records: list[dict[str, Any]], truth: list[dict[str, str]]) -> Match:
    """tap-square's orders: each truth line by (order id, line uid) among line items and return
    line items."""
    items: dict[tuple[str, str], dict[str, Any]] = {}
    for order in records:
        for item in order.get("line_items") or []:
            items[order["id"], item["uid"]] = item
        for back in order.get("returns") or []:
            for item in back.get("return_line_items") or []:
                items[order["id"], item["uid"]] = item
    match = Match("ids, quantity, unit price, discount, tax")
    match.expected = len(truth)
    for line in truth:
        item = items.get((line["order_id"], line["line_id"]))
        if item is None:
            continue
        match.found += 1
        scale = Decimal(10) ** minor_unit_digits(line["currency"])
        checks = {
            "quantity": (_decimal(item.get("quantity")), abs(_decimal(line["quantity"]))),
            "unit_price": (_money(item, "base_price_money"), _decimal(line["unit_price"]) * scale),
            "discount": (
                _money(item, "total_discount_money"),
                abs(_decimal(line["discount"])) * scale,
            ),
            "tax": (_money(item, "total_tax_money"), abs(_decimal(line["tax"])) * scale),
        }
        for name, (theirs, true) in checks.items():
            if theirs != true.normalize():
                match.differ(f"{line['transaction_id']} {name}: {theirs} != {true}")
                break
    return match


def _money(item: dict[str, Any], key: str) -> Decimal:
    money = item.get(key) or {}
    return _decimal(money.get("amount", 0))


def tap_shopify(records: list[dict[str, Any]], truth: list[dict[str, str]]) -> Match:
    """tap-shopify's orders: each sale line by its line item id, on quantity, unit price,
    discount and tax; each return line by its order, which must show a refund (the tap's orders
    carry no refund lines)."""
    items: dict[str, dict[str, Any]] = {}
    refunded: set[str] = set()
    for order in records:
        for item in order.get("lineItems") or []:
            if "id" in item:
                items[_gid_number(item["id"])] = item
        if _shop_money(order.get("totalRefundedSet")) > 0:
            refunded.add(_gid_number(order["id"]))
    match = Match("sale lines: ids, quantity, unit price, discount, tax; returns: order refunded")
    match.expected = len(truth)
    for line in truth:
        if line["kind"] != "sale":
            match.found += line["order_id"] in refunded
            continue
        item = items.get(line["line_id"])
        if item is None:
            continue
        match.found += 1
        taxes = sum(
            (_shop_money(tax.get("priceSet")) for tax in item.get("taxLines") or []), Decimal(0)
        )
        checks = {
            "quantity": (_decimal(item.get("quantity")), _decimal(line["quantity"])),
            "unit_price": (
                _shop_money(item.get("originalUnitPriceSet")),
                _decimal(line["unit_price"]),
            ),
            "discount": (_shop_money(item.get("totalDiscountSet")), _decimal(line["discount"])),
            "tax": (_decimal(taxes), _decimal(line["tax"])),
        }
        for name, (theirs, true) in checks.items():
            if theirs != true:
                match.differ(f"{line['transaction_id']} {name}: {theirs} != {true}")
                break
    return match


def _gid_number(gid: str) -> str:
    return gid.rsplit("/", 1)[-1]


def _shop_money(money_bag: dict[str, Any] | None) -> Decimal:
    amount = ((money_bag or {}).get("shopMoney") or {}).get("amount", 0)
    return _decimal(amount)
