"""GraphQL objects for orders, their line items, money bags, taxes and refunds."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from shelfops_pipeline.sandbox.shopify.catalog_objects import (
    LocationObject,
    ProductObject,
    VariantObject,
)
from shelfops_pipeline.sandbox.shopify.connections import id_key, time_value
from shelfops_pipeline.sandbox.shopify.context import Connection, Info, RequestContext
from shelfops_pipeline.sandbox.shopify.model import (
    OrderRecord,
    ShopifyLineItem,
    ShopifyOrder,
    ShopifyRefund,
    ShopifyRefundLineItem,
    graphql_datetime,
)
from shelfops_pipeline.sandbox.shopify.order_discounts import LineItemExtras
from shelfops_pipeline.sandbox.shopify.order_extras import OrderExtras
from shelfops_pipeline.sandbox.shopify.order_money import money_bag, tax_line
from shelfops_pipeline.sandbox.shopify.search import SearchFields
from shelfops_pipeline.sandbox.world.money import round_minor


def _location(context: RequestContext, location_id: int | None) -> LocationObject | None:
    if location_id is None:
        return None
    location = context.view.location(context.shop, location_id)
    return LocationObject(context, location) if location else None


class OrderObject(OrderExtras):
    graphql_type = "Order"

    def __init__(self, context: RequestContext, order: ShopifyOrder) -> None:
        self._context = context
        self._order = order
        refunded_subtotal = sum(
            item.subtotal_minor for refund in order.refunds for item in refund.line_items
        )
        refunded_tax = sum(item.tax_minor for refund in order.refunds for item in refund.line_items)
        cancelled = order.cancelled_at is not None
        self.id = order.gid
        self.legacyResourceId = str(order.id)
        self.name = order.name
        self.email = (
            f"customer-{order.id % 100000}@example.com" if order.location_id is None else None
        )
        self.note = None
        self.tags: list[str] = []
        self.test = order.test
        self.confirmed = True
        self.closed = order.closed_at is not None
        self.createdAt = graphql_datetime(order.created_at)
        self.updatedAt = graphql_datetime(order.updated_at)
        self.processedAt = graphql_datetime(order.processed_at)
        self.closedAt = graphql_datetime(order.closed_at) if order.closed_at else None
        self.cancelledAt = graphql_datetime(order.cancelled_at) if order.cancelled_at else None
        self.cancelReason = order.cancel_reason
        self.sourceName = order.source_name
        self.currencyCode = order.currency
        self.presentmentCurrencyCode = order.presentment_currency
        self.taxesIncluded = False
        self.displayFinancialStatus = order.financial_status
        self.displayFulfillmentStatus = order.fulfillment_status
        self.discountCodes: list[str] = []
        self.subtotalPriceSet = money_bag(order, order.subtotal_minor)
        self.totalPriceSet = money_bag(order, order.total_price_minor)
        self.totalTaxSet = money_bag(order, order.total_tax_minor)
        self.totalDiscountsSet = money_bag(order, order.total_discounts_minor)
        self.totalRefundedSet = money_bag(order, order.total_refunded_minor)
        self.currentTotalPriceSet = money_bag(order, order.current_total_minor)
        self.currentSubtotalPriceSet = money_bag(
            order, 0 if cancelled else order.subtotal_minor - refunded_subtotal
        )
        self.currentTotalTaxSet = money_bag(
            order, 0 if cancelled else order.total_tax_minor - refunded_tax
        )
        self.currentTotalDiscountsSet = money_bag(
            order, 0 if cancelled else order.total_discounts_minor
        )
        self.taxLines = [tax_line(order, order.total_tax_minor)] if order.total_tax_minor else []

    def location(self, info: Info) -> LocationObject | None:
        return _location(self._context, self._order.location_id)

    def retailLocation(self, info: Info) -> LocationObject | None:
        return _location(self._context, self._order.location_id)

    def lineItems(self, info: Info, **arguments: Any) -> Connection[tuple[int, ShopifyLineItem]]:
        context, order = self._context, self._order
        return Connection(
            context,
            lambda: list(enumerate(order.line_items)),
            lambda pair: (pair[0], pair[1].id),
            lambda pair: LineItemObject(context, order, pair[1]),
            arguments,
        )

    def refunds(self, info: Info, first: int | None = None) -> list["RefundObject"]:
        refunds = self._order.refunds[:first] if first is not None else self._order.refunds
        return [RefundObject(self._context, self._order, r) for r in refunds]


class LineItemObject(LineItemExtras):
    graphql_type = "LineItem"

    def __init__(self, context: RequestContext, order: ShopifyOrder, item: ShopifyLineItem) -> None:
        self._context = context
        self._order = order
        self._item = item
        refunded = sum(
            r.quantity for refund in order.refunds for r in refund.line_items if r.line_item == item
        )
        discounted_unit = round_minor(Decimal(item.discounted_total_minor) / max(item.quantity, 1))
        self.id = item.gid
        self.title = item.title
        self.name = f"{item.title} - {item.variant_title}" if item.variant_title else item.title
        self.variantTitle = item.variant_title
        self.sku = item.sku
        self.vendor = order.shop.name
        self.quantity = item.quantity
        self.currentQuantity = 0 if order.cancelled_at else item.quantity - refunded
        self.refundableQuantity = self.currentQuantity if order.financial_status != "PENDING" else 0
        self.taxable = item.taxable
        self.requiresShipping = order.location_id is None
        self.isGiftCard = False
        self.originalUnitPriceSet = money_bag(order, item.unit_price_minor)
        self.originalTotalSet = money_bag(order, item.gross_minor)
        self.discountedUnitPriceSet = money_bag(order, discounted_unit)
        self.discountedTotalSet = money_bag(order, item.discounted_total_minor)
        self.totalDiscountSet = money_bag(order, item.discount_minor)
        self._tax_lines = [tax_line(order, item.tax_minor)] if item.tax_minor else []

    def taxLines(self, info: Info, first: int | None = None) -> list[dict[str, Any]]:
        return self._tax_lines[:first] if first is not None else self._tax_lines

    def variant(self, info: Info) -> VariantObject | None:
        context = self._context
        if self._item.variant_id is None:
            return None
        variant = context.view.variant(context.shop, self._item.variant_id, context.at)
        return VariantObject(context, variant) if variant else None

    def product(self, info: Info) -> ProductObject | None:
        context = self._context
        if self._item.product_id is None:
            return None
        product = context.view.product(context.shop, self._item.product_id, context.at)
        return ProductObject(context, product) if product else None


class RefundObject:
    graphql_type = "Refund"

    def __init__(self, context: RequestContext, order: ShopifyOrder, refund: ShopifyRefund) -> None:
        self._context = context
        self._order = order
        self._refund = refund
        self.id = refund.gid
        self.legacyResourceId = str(refund.id)
        self.createdAt = graphql_datetime(refund.created_at)
        self.updatedAt = graphql_datetime(refund.created_at)
        self.note = None
        self.totalRefundedSet = money_bag(order, refund.amount_minor)

    def order(self, info: Info) -> OrderObject:
        return OrderObject(self._context, self._order)

    def refundLineItems(
        self, info: Info, **arguments: Any
    ) -> Connection[tuple[int, ShopifyRefundLineItem]]:
        context, order = self._context, self._order
        return Connection(
            context,
            lambda: list(enumerate(self._refund.line_items)),
            lambda pair: (pair[0], pair[1].id),
            lambda pair: RefundLineItemObject(context, order, pair[1]),
            arguments,
        )


class RefundLineItemObject:
    graphql_type = "RefundLineItem"

    def __init__(
        self, context: RequestContext, order: ShopifyOrder, item: ShopifyRefundLineItem
    ) -> None:
        self._context = context
        self._order = order
        self._item = item
        self.id = item.gid
        self.quantity = item.quantity
        self.restockType = "RETURN"
        self.restocked = True
        self.priceSet = money_bag(order, item.line_item.unit_price_minor)
        self.subtotalSet = money_bag(order, item.subtotal_minor)
        self.totalTaxSet = money_bag(order, item.tax_minor)

    def lineItem(self, info: Info) -> LineItemObject:
        return LineItemObject(self._context, self._order, self._item.line_item)

    def location(self, info: Info) -> LocationObject | None:
        return _location(self._context, self._item.location_id)


def _order_sort_key(sort: str, at: datetime) -> Any:
    def key(record: OrderRecord) -> tuple[str | int, int]:
        if sort == "CREATED_AT":
            return (time_value(record.order.created_at), record.id)
        if sort == "UPDATED_AT":
            return (time_value(record.order.updated_at(at)), record.id)
        if sort == "ORDER_NUMBER":
            return (record.position, record.id)
        if sort == "ID":
            return id_key(record.id)
        if sort == "TOTAL_PRICE":
            return (sum(line.total_minor for line in record.order.lines), record.id)
        return (time_value(record.processed_at(at)), record.id)

    return key


def order_connection(
    context: RequestContext, arguments: dict[str, Any], paged: bool = True
) -> Connection[OrderRecord]:
    view, shop, at = context.view, context.shop, context.at
    sort = arguments.get("sortKey") or "PROCESSED_AT"

    def full(record: OrderRecord) -> ShopifyOrder:
        return view.shopify_order(shop, record, at)

    search = SearchFields(
        fields={
            "id": lambda r: r.id,
            "name": lambda r: r.name,
            "created_at": lambda r: r.order.created_at,
            "updated_at": lambda r: r.order.updated_at(at),
            "processed_at": lambda r: r.processed_at(at),
            "test": lambda r: full(r).test,
            "financial_status": lambda r: full(r).financial_status.lower(),
            "fulfillment_status": lambda r: full(r).fulfillment_status.lower(),
            "status": lambda r: _status(full(r)),
            "location_id": lambda r: full(r).location_id,
            "source_name": lambda r: full(r).source_name,
            "sku": lambda r: [li.sku for li in full(r).line_items if li.sku],
        },
        timezone=shop.timezone,
        text=lambda r: r.name,
    )
    return Connection(
        context,
        lambda: [r for r in view.sale_orders(shop) if r.order.visible_at(at)],
        _order_sort_key(sort, at),
        lambda record: OrderObject(context, full(record)),
        arguments,
        search,
        paged,
        memo=("orders", shop.domain, at, sort),
    )


def _status(order: ShopifyOrder) -> str:
    if order.cancelled_at is not None:
        return "cancelled"
    return "closed" if order.closed_at is not None else "open"
