"""Orders, line items and refunds as the legacy REST Admin API and order webhooks write them.

Money is a decimal string with a `*_set` twin holding the shop and presentment amounts; the
line item's `total_discount` and `discount_allocations` both carry its discount. Refund line
items carry `subtotal` and `total_tax` as JSON numbers, as Shopify's own example does
(api-notes section 7).
"""

from decimal import Decimal

from shelfops_pipeline.sandbox.shopify.model import (
    ShopifyLineItem,
    ShopifyOrder,
    ShopifyRefund,
    rest_amount,
)
from shelfops_pipeline.sandbox.shopify.rest_serialize import JsonObject, RestSerializer
from shelfops_pipeline.sandbox.world.ids import numeric_id

GATEWAY_BY_TENDER = {"CARD": "shopify_payments", "CASH": "cash"}
TAX_TITLE_BY_COUNTRY = {"AU": "GST", "CA": "HST", "GB": "VAT", "JP": "CT", "US": "Sales Tax"}


class OrderSerializer(RestSerializer):
    """Writes one shop's orders."""

    def money_set(self, order: ShopifyOrder, minor: int) -> JsonObject:
        money = order.money(minor)
        return {
            "shop_money": {
                "amount": rest_amount(money.shop_amount, money.shop_currency),
                "currency_code": money.shop_currency,
            },
            "presentment_money": {
                "amount": rest_amount(money.presentment_amount, money.presentment_currency),
                "currency_code": money.presentment_currency,
            },
        }

    def _priced(self, order: ShopifyOrder, name: str, minor: int) -> JsonObject:
        """`name` as a decimal string and `name_set` as the money bag."""
        return {name: self.amount(minor), f"{name}_set": self.money_set(order, minor)}

    def order(self, order: ShopifyOrder) -> JsonObject:
        number = int(order.name.lstrip("#"))
        current_subtotal = order.subtotal_minor - sum(
            i.subtotal_minor for r in order.refunds for i in r.line_items
        )
        current_tax = order.total_tax_minor - sum(
            i.tax_minor for r in order.refunds for i in r.line_items
        )
        if order.cancelled_at is not None:
            current_subtotal = current_tax = 0
        gross_minor = sum(li.gross_minor for li in order.line_items)
        return {
            "id": order.id,
            "admin_graphql_api_id": order.gid,
            "app_id": None,
            "browser_ip": None,
            "buyer_accepts_marketing": False,
            "cancel_reason": order.cancel_reason.lower() if order.cancel_reason else None,
            "cancelled_at": self.at(order.cancelled_at),
            "closed_at": self.at(order.closed_at),
            "confirmation_number": f"{order.id % 10**9:09d}",
            "confirmed": True,
            "contact_email": None,
            "created_at": self.at(order.created_at),
            "currency": order.currency,
            **self._priced(order, "current_subtotal_price", current_subtotal),
            **self._priced(order, "current_total_discounts", order.total_discounts_minor),
            **self._priced(order, "current_total_price", order.current_total_minor),
            **self._priced(order, "current_total_tax", current_tax),
            "customer_locale": None,
            "discount_codes": [],
            "email": "",
            "estimated_taxes": False,
            "financial_status": order.financial_status.lower(),
            "fulfillment_status": "fulfilled" if order.fulfillment_status == "FULFILLED" else None,
            "location_id": order.location_id,
            "name": order.name,
            "note": None,
            "note_attributes": [],
            "number": number - 1000,
            "order_number": number,
            "payment_gateway_names": [GATEWAY_BY_TENDER.get(order.order.tender_type, "manual")],
            "presentment_currency": order.presentment_currency,
            "processed_at": self.at(order.processed_at),
            "source_name": order.source_name,
            **self._priced(order, "subtotal_price", order.subtotal_minor),
            "tags": "",
            "tax_lines": self._tax_lines(order, order.total_tax_minor),
            "taxes_included": False,
            "test": order.test,
            **self._priced(order, "total_discounts", order.total_discounts_minor),
            **self._priced(order, "total_line_items_price", gross_minor),
            "total_outstanding": self.amount(0),
            **self._priced(order, "total_price", order.total_price_minor),
            "total_shipping_price_set": self.money_set(order, 0),
            **self._priced(order, "total_tax", order.total_tax_minor),
            "total_tip_received": self.amount(0),
            "total_weight": 0,
            "updated_at": self.at(order.updated_at),
            "user_id": None,
            "customer": None,
            "billing_address": None,
            "shipping_address": None,
            "discount_applications": self._discount_applications(order),
            "fulfillments": [],
            "line_items": [self.line_item(order, li) for li in order.line_items],
            "refunds": [self.refund(order, r) for r in order.refunds],
            "shipping_lines": [],
        }

    def _tax_lines(self, order: ShopifyOrder, tax_minor: int) -> list[JsonObject]:
        if not tax_minor:
            return []
        return [
            {
                "title": TAX_TITLE_BY_COUNTRY.get(self.shop.country, "Tax"),
                "rate": float(self.shop.tax_percent / 100),
                "channel_liable": False,
                **self._priced(order, "price", tax_minor),
            }
        ]

    @staticmethod
    def _discount_percents(order: ShopifyOrder) -> list[Decimal]:
        percents = {
            (Decimal(li.discount_minor) * 100 / li.gross_minor).quantize(Decimal(1))
            for li in order.line_items
            if li.discount_minor and li.gross_minor
        }
        return sorted(percents)

    def _discount_applications(self, order: ShopifyOrder) -> list[JsonObject]:
        return [
            {
                "target_type": "line_item",
                "type": "manual",
                "value": f"{percent}.0",
                "value_type": "percentage",
                "allocation_method": "across",
                "target_selection": "explicit",
                "title": f"{percent}% off",
                "description": f"{percent}% off",
            }
            for percent in self._discount_percents(order)
        ]

    def line_item(self, order: ShopifyOrder, item: ShopifyLineItem) -> JsonObject:
        refunded = sum(
            rli.quantity
            for r in order.refunds
            for rli in r.line_items
            if rli.line_item.id == item.id
        )
        current = 0 if order.cancelled_at else item.quantity - refunded
        allocations = []
        if item.discount_minor:
            percent = (Decimal(item.discount_minor) * 100 / item.gross_minor).quantize(Decimal(1))
            allocations.append(
                {
                    "discount_application_index": self._discount_percents(order).index(percent),
                    **self._priced(order, "amount", item.discount_minor),
                }
            )
        title = item.title
        return {
            "id": item.id,
            "admin_graphql_api_id": item.gid,
            "current_quantity": current,
            "fulfillable_quantity": 0 if order.fulfillment_status == "FULFILLED" else current,
            "fulfillment_service": "manual",
            "fulfillment_status": "fulfilled" if order.fulfillment_status == "FULFILLED" else None,
            "gift_card": False,
            "grams": 0,
            "name": f"{title} - {item.variant_title}" if item.variant_title else title,
            **self._priced(order, "price", item.unit_price_minor),
            "product_exists": item.product_id is not None,
            "product_id": item.product_id,
            "properties": [],
            "quantity": item.quantity,
            "requires_shipping": order.location_id is None,
            "sku": item.sku or "",
            "taxable": item.taxable,
            "title": title,
            **self._priced(order, "total_discount", item.discount_minor),
            "variant_id": item.variant_id,
            "variant_inventory_management": "shopify" if item.variant_id else None,
            "variant_title": item.variant_title,
            "vendor": self.shop.name,
            "tax_lines": self._tax_lines(order, item.tax_minor),
            "duties": [],
            "discount_allocations": allocations,
        }

    def refund(self, order: ShopifyOrder, refund: ShopifyRefund) -> JsonObject:
        transaction_id = numeric_id(self.seed, 13, "RefundTransaction", refund.refund.id)
        return {
            "id": refund.id,
            "admin_graphql_api_id": refund.gid,
            "created_at": self.at(refund.created_at),
            "processed_at": self.at(refund.created_at),
            "note": None,
            "order_id": order.id,
            "restock": True,
            "user_id": None,
            "order_adjustments": [],
            "duties": [],
            "transactions": [
                {
                    "id": transaction_id,
                    "admin_graphql_api_id": f"gid://shopify/OrderTransaction/{transaction_id}",
                    "amount": self.amount(refund.amount_minor),
                    "currency": order.currency,
                    "kind": "refund",
                    "status": "success",
                    "gateway": GATEWAY_BY_TENDER.get(order.order.tender_type, "manual"),
                    "created_at": self.at(refund.created_at),
                    "processed_at": self.at(refund.created_at),
                    "order_id": order.id,
                    "parent_id": None,
                    "test": order.test,
                }
            ],
            "refund_line_items": [
                {
                    "id": rli.id,
                    "line_item_id": rli.line_item.id,
                    "location_id": rli.location_id,
                    "quantity": rli.quantity,
                    "restock_type": "return",
                    "subtotal": float(self.major(rli.subtotal_minor)),
                    "subtotal_set": self.money_set(order, rli.subtotal_minor),
                    "total_tax": float(self.major(rli.tax_minor)),
                    "total_tax_set": self.money_set(order, rli.tax_minor),
                    "line_item": self.line_item(order, rli.line_item),
                }
                for rli in refund.line_items
            ],
        }
