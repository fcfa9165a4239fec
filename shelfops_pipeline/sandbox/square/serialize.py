"""World records as Square's JSON, exactly as the API would show them at a given instant."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from shelfops_pipeline.sandbox.timestamps import rfc3339, varied_precision
from shelfops_pipeline.sandbox.world.entities import Category, Item, Line, Order, ReturnLine, Store
from shelfops_pipeline.sandbox.world.ids import mixed_id, upper_id
from shelfops_pipeline.sandbox.world.inventory import StockCurve
from shelfops_pipeline.sandbox.world.orders import DISCOUNT_PERCENTS, discount_ids

JsonObject = dict[str, Any]
_LANGUAGE = {"US": "en-US", "GB": "en-GB", "JP": "ja-JP", "AU": "en-AU", "CA": "en-CA"}


def money(amount_minor: int, currency: str) -> JsonObject:
    return {"amount": amount_minor, "currency": currency}


def quantity_text(quantity: Decimal, sold_by_weight: bool) -> str:
    return f"{quantity:.5f}" if sold_by_weight else str(int(quantity))


class SquareSerializer:
    """Turns world records into Square JSON for one seed (ids of taxes, units and discounts)."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def _ts(self, at: datetime, key: str) -> str:
        return rfc3339(at, varied_precision(self.seed, key))

    def tax_id(self, merchant_id: str) -> str:
        return upper_id(self.seed, 24, "tax", merchant_id)

    def unit_id(self, merchant_id: str) -> str:
        return upper_id(self.seed, 24, "measurement-unit", merchant_id)

    def location(self, store: Store) -> JsonObject:
        return {
            "id": store.id,
            "name": store.name,
            "address": {
                "address_line_1": f"{10 + len(store.city) * 7} Market Street",
                "locality": store.city,
                "country": store.country,
            },
            "timezone": store.timezone,
            "capabilities": ["CREDIT_CARD_PROCESSING"],
            "status": "ACTIVE",
            "created_at": rfc3339(store.created_at, 0),
            "merchant_id": store.merchant_id,
            "country": store.country,
            "language_code": _LANGUAGE.get(store.country, "en-US"),
            "currency": store.currency,
            "business_name": store.name.rsplit(" ", 1)[0],
            "type": "PHYSICAL",
            "mcc": "5814",
        }

    # Catalog -----------------------------------------------------------------------------

    def _envelope(self, kind: str, object_id: str, updated: datetime, deleted: bool) -> JsonObject:
        return {
            "type": kind,
            "id": object_id,
            "updated_at": self._ts(updated, object_id),
            "version": int(updated.timestamp() * 1000),
            "is_deleted": deleted,
            "present_at_all_locations": True,
        }

    def item(
        self, item: Item, currency: str, at: datetime, with_category_id: bool = False
    ) -> JsonObject:
        deleted = item.deleted_at is not None and item.deleted_at <= at
        body = self._envelope("ITEM", item.id, item.updated_at(at), deleted)
        body["item_data"] = {
            "name": item.name_at(at),
            "categories": [{"id": item.category_id, "ordinal": 0}],
            "reporting_category": {"id": item.category_id},
            "tax_ids": [self.tax_id(item.merchant_id)] if item.taxable else [],
            "variations": self.variations(item, currency, at),
            "product_type": "REGULAR",
            "is_archived": False,
        }
        if with_category_id:
            body["item_data"]["category_id"] = item.category_id
        return body

    def variations(self, item: Item, currency: str, at: datetime) -> list[JsonObject]:
        deleted = item.deleted_at is not None and item.deleted_at <= at
        objects = []
        for variation in item.variations:
            changes = [item.created_at] + [p.effective_from for p in variation.prices]
            if deleted and item.deleted_at is not None:
                changes.append(item.deleted_at)
            updated = max(t for t in changes if t <= at)
            body = self._envelope("ITEM_VARIATION", variation.id, updated, deleted)
            data: JsonObject = {
                "item_id": item.id,
                "name": variation.name,
                "sku": variation.sku,
                "ordinal": variation.ordinal,
                "pricing_type": "FIXED_PRICING",
                "price_money": money(variation.price_at(at), currency),
                "track_inventory": True,
                "sellable": True,
                "stockable": True,
            }
            if variation.sold_by_weight:
                data["measurement_unit_id"] = self.unit_id(item.merchant_id)
            body["item_variation_data"] = data
            objects.append(body)
        return objects

    def category(self, category: Category) -> JsonObject:
        body = self._envelope("CATEGORY", category.id, category.created_at, False)
        body["category_data"] = {"name": category.name, "category_type": "REGULAR_CATEGORY"}
        return body

    def merchant_objects(
        self, merchant_id: str, tax_percent: Decimal, country: str, since: datetime
    ) -> list[JsonObject]:
        """The merchant's tax, discounts and weight unit; they never change in the sandbox."""
        tax = self._envelope("TAX", self.tax_id(merchant_id), since, False)
        tax["tax_data"] = {
            "name": "Sales Tax",
            "calculation_phase": "TAX_SUBTOTAL_PHASE",
            "inclusion_type": "ADDITIVE",
            "percentage": str(tax_percent),
            "applies_to_custom_amounts": True,
            "enabled": True,
        }
        objects = [tax]
        for percent, discount_id in discount_ids(self.seed, merchant_id).items():
            discount = self._envelope("DISCOUNT", discount_id, since, False)
            discount["discount_data"] = {
                "name": f"{percent}% off",
                "discount_type": "FIXED_PERCENTAGE",
                "percentage": str(percent),
                "modify_tax_basis": "MODIFY_TAX_BASIS",
            }
            objects.append(discount)
        unit = self._envelope("MEASUREMENT_UNIT", self.unit_id(merchant_id), since, False)
        unit["measurement_unit_data"] = {
            "measurement_unit": {"weight_unit": _weight_unit(country), "type": "TYPE_WEIGHT"},
            "precision": 2,
        }
        objects.append(unit)
        return objects

    # Inventory ---------------------------------------------------------------------------

    def count(
        self, variation_id: str, store_id: str, curve: StockCurve, at: datetime, weighted: bool
    ) -> JsonObject:
        hour = curve.hour_of(at)
        return {
            "catalog_object_id": variation_id,
            "catalog_object_type": "ITEM_VARIATION",
            "state": "IN_STOCK",
            "location_id": store_id,
            "quantity": quantity_text(curve.quantity(hour), weighted),
            "calculated_at": self._ts(curve.changed_at(curve.last_change_hour(hour)), variation_id),
            "is_estimated": False,
        }

    def adjustment(
        self,
        variation_id: str,
        store_id: str,
        curve: StockCurve,
        hour: int,
        delta: int,
        weighted: bool,
    ) -> JsonObject:
        occurred = curve.changed_at(hour)
        change_id = upper_id(self.seed, 26, "adjustment", variation_id, store_id, hour)
        sold = delta < 0
        return {
            "type": "ADJUSTMENT",
            "adjustment": {
                "id": change_id,
                "from_state": "IN_STOCK" if sold else "NONE",
                "to_state": "SOLD" if sold else "IN_STOCK",
                "location_id": store_id,
                "catalog_object_id": variation_id,
                "catalog_object_type": "ITEM_VARIATION",
                "quantity": quantity_text(abs(delta) * curve.quantum, weighted),
                "occurred_at": self._ts(occurred, change_id),
                "created_at": self._ts(occurred, change_id),
                "source": {"product": "SQUARE_POS", "name": "Square Point of Sale"},
            },
        }

    def physical_count(
        self, variation_id: str, store_id: str, curve: StockCurve, hour: int, weighted: bool
    ) -> JsonObject:
        occurred = curve.changed_at(hour)
        count_id = upper_id(self.seed, 26, "physical-count", variation_id, store_id, hour)
        return {
            "type": "PHYSICAL_COUNT",
            "physical_count": {
                "id": count_id,
                "catalog_object_id": variation_id,
                "catalog_object_type": "ITEM_VARIATION",
                "state": "IN_STOCK",
                "location_id": store_id,
                "quantity": quantity_text(curve.quantity(hour), weighted),
                "occurred_at": self._ts(occurred, count_id),
                "created_at": self._ts(occurred, count_id),
            },
        }

    # Orders ------------------------------------------------------------------------------

    def order(self, order: Order, at: datetime, tax_percent: Decimal, country: str) -> JsonObject:
        currency = order.currency
        stamp = order.id
        state = order.state_at(at)
        body: JsonObject = {
            "id": order.id,
            "location_id": order.store_id,
            "source": {"name": order.source_name},
            "created_at": self._ts(order.created_at, stamp),
            "updated_at": self._ts(order.updated_at(at), stamp),
            "state": state,
            "version": order.version_at(at),
        }
        closed_at = order.closed_at_as_of(at)
        if closed_at is not None:
            body["closed_at"] = self._ts(closed_at, stamp)
        if order.is_return:
            body.update(self._return_fields(order, country))
            return body
        tax_uid = mixed_id(self.seed, 22, "tax-uid", order.id)
        discount_uids = {
            p: mixed_id(self.seed, 22, "discount-uid", order.id, p) for p in DISCOUNT_PERCENTS
        }
        ids = discount_ids(self.seed, order.merchant_id)
        percent_by_id = {v: k for k, v in ids.items()}
        lines = [
            self._line(line, currency, country, tax_uid, discount_uids, percent_by_id)
            for line in order.lines
        ]
        body["line_items"] = lines
        tax_total = sum(line.tax_minor for line in order.lines)
        discount_total = sum(line.discount_minor for line in order.lines)
        total = sum(line.total_minor for line in order.lines)
        if tax_total:
            body["taxes"] = [
                {
                    "uid": tax_uid,
                    "catalog_object_id": self.tax_id(order.merchant_id),
                    "name": "Sales Tax",
                    "percentage": str(tax_percent),
                    "type": "ADDITIVE",
                    "scope": "LINE_ITEM",
                    "applied_money": money(tax_total, currency),
                }
            ]
        used = sorted({line.discount_id for line in order.lines if line.discount_id})
        if used:
            body["discounts"] = [
                {
                    "uid": discount_uids[percent_by_id[d]],
                    "catalog_object_id": d,
                    "name": f"{percent_by_id[d]}% off",
                    "percentage": str(percent_by_id[d]),
                    "type": "FIXED_PERCENTAGE",
                    "scope": "LINE_ITEM",
                    "applied_money": money(
                        sum(line.discount_minor for line in order.lines if line.discount_id == d),
                        currency,
                    ),
                }
                for d in used
            ]
        if state == "COMPLETED" and order.tender_id is not None and closed_at is not None:
            body["tenders"] = [
                {
                    "id": order.tender_id,
                    "location_id": order.store_id,
                    "transaction_id": order.id,
                    "created_at": self._ts(closed_at, stamp),
                    "amount_money": money(total, currency),
                    "type": order.tender_type,
                    "payment_id": order.tender_id,
                }
            ]
        refund = order.refund_at(at)
        if refund is not None:
            body["refunds"] = [
                {
                    "id": refund.id,
                    "location_id": order.store_id,
                    "transaction_id": order.id,
                    "tender_id": order.tender_id or "",
                    "created_at": self._ts(refund.created_at, stamp),
                    "reason": "Returned goods",
                    "amount_money": money(refund.amount_minor, currency),
                    "status": "APPROVED",
                }
            ]
        paid = total if state == "COMPLETED" else 0
        body.update(
            {
                "total_money": money(total, currency),
                "total_tax_money": money(tax_total, currency),
                "total_discount_money": money(discount_total, currency),
                "total_tip_money": money(0, currency),
                "total_service_charge_money": money(0, currency),
                "net_amount_due_money": money(total - paid, currency),
                "net_amounts": {
                    "total_money": money(total, currency),
                    "tax_money": money(tax_total, currency),
                    "discount_money": money(discount_total, currency),
                    "tip_money": money(0, currency),
                    "service_charge_money": money(0, currency),
                },
            }
        )
        return body

    def _line(
        self,
        line: Line,
        currency: str,
        country: str,
        tax_uid: str,
        discount_uids: dict[Decimal, str],
        percent_by_id: dict[str, Decimal],
    ) -> JsonObject:
        body: JsonObject = {
            "uid": line.uid,
            "name": line.name,
            "quantity": quantity_text(line.quantity, line.sold_by_weight),
            "item_type": "ITEM" if line.variation_id else "CUSTOM_AMOUNT",
            "base_price_money": money(line.base_price_minor, currency),
            "variation_total_price_money": money(line.gross_minor, currency),
            "gross_sales_money": money(line.gross_minor, currency),
            "total_tax_money": money(line.tax_minor, currency),
            "total_discount_money": money(line.discount_minor, currency),
            "total_money": money(line.total_minor, currency),
            "total_service_charge_money": money(0, currency),
        }
        if line.variation_id:
            body["catalog_object_id"] = line.variation_id
            body["catalog_version"] = line.catalog_version
            body["variation_name"] = line.variation_name
        if line.sold_by_weight:
            body["quantity_unit"] = _weight_quantity_unit(country)
        if line.tax_minor:
            body["applied_taxes"] = [
                {
                    "uid": mixed_id(self.seed, 22, "applied-tax", line.uid),
                    "tax_uid": tax_uid,
                    "applied_money": money(line.tax_minor, currency),
                }
            ]
        if line.discount_id:
            body["applied_discounts"] = [
                {
                    "uid": mixed_id(self.seed, 22, "applied-discount", line.uid),
                    "discount_uid": discount_uids[percent_by_id[line.discount_id]],
                    "applied_money": money(line.discount_minor, currency),
                }
            ]
        return body

    def _return_fields(self, order: Order, country: str) -> JsonObject:
        currency = order.currency
        items = [self._return_line(r, currency, country) for r in order.return_lines]
        total = sum(r.total_minor for r in order.return_lines)
        tax = sum(r.tax_minor for r in order.return_lines)
        discount = sum(r.discount_minor for r in order.return_lines)
        return {
            "returns": [
                {
                    "uid": mixed_id(self.seed, 22, "return-uid", order.id),
                    "source_order_id": order.source_order_id,
                    "return_line_items": items,
                }
            ],
            "return_amounts": {
                "total_money": money(total, currency),
                "tax_money": money(tax, currency),
                "discount_money": money(discount, currency),
                "tip_money": money(0, currency),
                "service_charge_money": money(0, currency),
            },
            "net_amounts": {
                "total_money": money(-total, currency),
                "tax_money": money(-tax, currency),
                "discount_money": money(-discount, currency),
                "tip_money": money(0, currency),
                "service_charge_money": money(0, currency),
            },
            "total_money": money(0, currency),
            "total_tax_money": money(0, currency),
            "total_discount_money": money(0, currency),
            "total_tip_money": money(0, currency),
            "total_service_charge_money": money(0, currency),
            "net_amount_due_money": money(0, currency),
        }

    def _return_line(self, line: ReturnLine, currency: str, country: str) -> JsonObject:
        body: JsonObject = {
            "uid": line.uid,
            "source_line_item_uid": line.source_line_uid,
            "name": line.name,
            "quantity": quantity_text(line.quantity, line.sold_by_weight),
            "item_type": "ITEM" if line.variation_id else "CUSTOM_AMOUNT",
            "base_price_money": money(line.base_price_minor, currency),
            "variation_total_price_money": money(line.gross_minor, currency),
            "gross_return_money": money(line.gross_minor, currency),
            "total_tax_money": money(line.tax_minor, currency),
            "total_discount_money": money(line.discount_minor, currency),
            "total_money": money(line.total_minor, currency),
        }
        if line.variation_id:
            body["catalog_object_id"] = line.variation_id
        if line.sold_by_weight:
            body["quantity_unit"] = _weight_quantity_unit(country)
        return body


def _weight_unit(country: str) -> str:
    return "IMPERIAL_POUND" if country == "US" else "METRIC_KILOGRAM"


def _weight_quantity_unit(country: str) -> JsonObject:
    return {"measurement_unit": {"weight_unit": _weight_unit(country)}, "precision": 2}
