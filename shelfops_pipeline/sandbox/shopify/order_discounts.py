"""Discount applications of an order and the LineItem fields that point at them.

The world discounts single lines (a staff member's price override at the till or a promotion
online), so every discounted line gets its own manual application of a fixed amount, targeted
explicitly at that line; `index` is the application's position on the order.
"""

from dataclasses import dataclass
from typing import Any

from shelfops_pipeline.sandbox.shopify.model import ShopifyLineItem, ShopifyOrder
from shelfops_pipeline.sandbox.shopify.order_money import money_bag, money_v2


@dataclass(frozen=True)
class DiscountApplicationObject:
    index: int
    title: str
    value: dict[str, Any]
    description: str | None = None
    allocationMethod: str = "ACROSS"
    targetSelection: str = "EXPLICIT"
    targetType: str = "LINE_ITEM"
    graphql_type: str = "ManualDiscountApplication"


def discount_applications(order: ShopifyOrder) -> list[DiscountApplicationObject]:
    discounted = [item for item in order.line_items if item.discount_minor]
    return [
        DiscountApplicationObject(
            index=index,
            title=f"{item.title} discount",
            value=money_v2(order, item.discount_minor),
        )
        for index, item in enumerate(discounted)
    ]


class LineItemExtras:
    """Mixed into `LineItemObject`; resolves from `self._order` and `self._item`."""

    _order: ShopifyOrder
    _item: ShopifyLineItem

    def customAttributes(self, info: Any) -> list[Any]:
        return []

    def duties(self, info: Any) -> list[Any]:
        return []

    def lineItemGroup(self, info: Any) -> None:
        return None

    def discountAllocations(self, info: Any) -> list[dict[str, Any]]:
        order, item = self._order, self._item
        if not item.discount_minor:
            return []
        discounted = [li.id for li in order.line_items if li.discount_minor]
        application = discount_applications(order)[discounted.index(item.id)]
        return [
            {
                "allocatedAmountSet": money_bag(order, item.discount_minor),
                "discountApplication": application,
            }
        ]

    def _fulfilled(self) -> bool:
        return self._order.fulfillment_status == "FULFILLED" or bool(self._order.cancelled_at)

    def unfulfilledDiscountedTotalSet(self, info: Any) -> dict[str, Any]:
        minor = 0 if self._fulfilled() else self._item.discounted_total_minor
        return money_bag(self._order, minor)

    def unfulfilledOriginalTotalSet(self, info: Any) -> dict[str, Any]:
        minor = 0 if self._fulfilled() else self._item.gross_minor
        return money_bag(self._order, minor)
