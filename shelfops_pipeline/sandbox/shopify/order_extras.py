"""The Order fields beyond totals and lines: payment state, counts, apps, customer, fulfillments.

The world knows no shipping, tips, duties, additional fees, addresses or disputes, so those are
zero money bags, nulls where Shopify allows null, and empty lists; everything else follows the
order's amounts and status at the request's instant.
"""

from typing import Any

from shelfops_pipeline.sandbox.shopify.catalog_objects import LocationObject, count, weight_unit
from shelfops_pipeline.sandbox.shopify.context import Connection, Info, RequestContext
from shelfops_pipeline.sandbox.shopify.model import ShopifyOrder, gid, graphql_datetime
from shelfops_pipeline.sandbox.shopify.order_discounts import (
    DiscountApplicationObject,
    discount_applications,
)
from shelfops_pipeline.sandbox.shopify.order_money import money_bag
from shelfops_pipeline.sandbox.world.ids import numeric_id, upper_id

PAID_STATUSES = frozenset({"PAID", "PARTIALLY_REFUNDED", "REFUNDED"})
# Shopify's own sales-channel apps: the Online Store and Point of Sale.
_CHANNEL_APPS = {"web": (580111, "Online Store"), "pos": (129785, "Point of Sale")}
_GRAMS_PER_UNIT = {"KILOGRAMS": 1000, "POUNDS": 453.59237}
_LOCALES = {"JP": "ja"}


class OrderExtras:
    """Mixed into `OrderObject`; resolves lazily from `self._order` and `self._context`."""

    _context: RequestContext
    _order: ShopifyOrder

    def _bag(self, minor: int) -> dict[str, Any]:
        return money_bag(self._order, minor)

    def _paid(self) -> bool:
        return self._order.financial_status in PAID_STATUSES

    def _received_minor(self) -> int:
        return self._order.total_price_minor if self._paid() else 0

    def _seed(self) -> int:
        return self._context.view.seed

    def additionalFees(self, info: Info) -> list[Any]:
        return []

    def app(self, info: Info) -> dict[str, Any]:
        number, name = _CHANNEL_APPS[self._order.source_name]
        icon = {"id": gid("ImageSource", number), "altText": None, "width": 512, "height": 512}
        icon["url"] = f"https://cdn.shopify.com/app-store/listing_images/{number}/icon.png"
        return {"id": gid("App", number), "name": name, "icon": icon}

    def billingAddress(self, info: Info) -> None:
        return None

    def shippingAddress(self, info: Info) -> None:
        return None

    def billingAddressMatchesShippingAddress(self, info: Info) -> bool:
        return False

    def canMarkAsPaid(self, info: Info) -> bool:
        return self._order.financial_status == "PENDING"

    def canNotifyCustomer(self, info: Info) -> bool:
        return self._order.location_id is None

    def cancellation(self, info: Info) -> dict[str, Any] | None:
        return {"staffNote": None} if self._order.cancelled_at else None

    def capturable(self, info: Info) -> bool:
        return False

    def cartDiscountAmountSet(self, info: Info) -> None:
        return None

    def channelInformation(self, info: Info) -> dict[str, Any]:
        number, name = _CHANNEL_APPS[self._order.source_name]
        return {
            "id": gid("ChannelInformation", self._order.id),
            "channelId": gid("Channel", numeric_id(self._seed(), 13, "Channel", number)),
            "displayName": name,
        }

    def clientIp(self, info: Info) -> None:
        return None

    def confirmationNumber(self, info: Info) -> str:
        return upper_id(self._seed(), 9, "confirmation", self._order.id)

    def currentCartDiscountAmountSet(self, info: Info) -> dict[str, Any]:
        return self._bag(0)

    def currentShippingPriceSet(self, info: Info) -> dict[str, Any]:
        return self._bag(0)

    def currentSubtotalLineItemsQuantity(self, info: Info) -> int:
        return sum(_current_quantities(self._order).values())

    def currentTotalAdditionalFeesSet(self, info: Info) -> None:
        return None

    def currentTotalDutiesSet(self, info: Info) -> None:
        return None

    def currentTotalWeight(self, info: Info) -> str:
        current = _current_quantities(self._order)
        return str(self._grams(lambda item: current[item.id] / max(item.quantity, 1)))

    def totalWeight(self, info: Info) -> str:
        return str(self._grams(lambda item: 1))

    def _grams(self, share: Any) -> int:
        per_unit = _GRAMS_PER_UNIT[weight_unit(self._order.shop)]
        return round(
            sum(float(item.weight) * per_unit * share(item) for item in self._weighed_items())
        )

    def _weighed_items(self) -> list[Any]:
        return [item for item in self._order.line_items if item.weight is not None]

    def customAttributes(self, info: Info) -> list[Any]:
        return []

    def customer(self, info: Info) -> dict[str, Any] | None:
        order = self._order
        if order.location_id is not None:
            return None
        number = numeric_id(self._seed(), 13, "Customer", order.order.id)
        created = graphql_datetime(order.created_at)
        return {
            "id": gid("Customer", number),
            "legacyResourceId": str(number),
            "email": f"customer-{order.id % 100000}@example.com",
            "firstName": None,
            "lastName": None,
            "displayName": f"customer-{order.id % 100000}@example.com",
            "addresses": [],
            "defaultAddress": None,
            "state": "DISABLED",
            "verifiedEmail": True,
            "taxExempt": False,
            "taxExemptions": [],
            "tags": [],
            "note": None,
            "multipassIdentifier": None,
            "createdAt": created,
            "updatedAt": created,
        }

    def customerAcceptsMarketing(self, info: Info) -> bool:
        return False

    def customerJourneySummary(self, info: Info) -> None:
        return None

    def customerLocale(self, info: Info) -> str:
        return _LOCALES.get(self._order.shop.country, "en")

    def discountApplications(
        self, info: Info, **arguments: Any
    ) -> Connection[DiscountApplicationObject]:
        order = self._order
        return Connection(
            self._context,
            lambda: discount_applications(order),
            lambda application: (application.index, application.index),
            lambda application: application,
            arguments,
        )

    def discountCode(self, info: Info) -> None:
        return None

    def disputes(self, info: Info) -> list[Any]:
        return []

    def dutiesIncluded(self, info: Info) -> bool:
        return False

    def edited(self, info: Info) -> bool:
        return False

    def estimatedTaxes(self, info: Info) -> bool:
        return False

    def fulfillable(self, info: Info) -> bool:
        order = self._order
        return order.cancelled_at is None and order.fulfillment_status != "FULFILLED"

    def fulfillments(
        self, info: Info, first: int | None = None, query: str | None = None
    ) -> list[dict[str, Any]]:
        shown = self._fulfillments()
        return shown[:first] if first is not None else shown

    def _fulfillments(self) -> list[dict[str, Any]]:
        order = self._order
        if order.fulfillment_status != "FULFILLED" or order.closed_at is None:
            return []
        context = self._context
        number = numeric_id(self._seed(), 13, "Fulfillment", order.order.id)
        at = graphql_datetime(order.closed_at)
        location = _fulfilling_location(context, order)
        return [
            {
                "id": gid("Fulfillment", number),
                "legacyResourceId": str(number),
                "name": f"{order.name}-F1",
                "status": "SUCCESS",
                "totalQuantity": sum(item.quantity for item in order.line_items),
                "createdAt": at,
                "updatedAt": at,
                "deliveredAt": at if order.location_id is not None else None,
                "estimatedDeliveryAt": None,
                "inTransitAt": None,
                "requiresShipping": order.location_id is None,
                "trackingInfo": [],
                "service": _manual_service(context, location),
                "location": location,
            }
        ]

    def fulfillmentsCount(self, info: Info) -> dict[str, Any]:
        return count(len(self._fulfillments()))

    def fullyPaid(self, info: Info) -> bool:
        return self._paid()

    def hasTimelineComment(self, info: Info) -> bool:
        return False

    def merchantBusinessEntity(self, info: Info) -> dict[str, Any]:
        shop = self._order.shop
        return {
            "id": gid("BusinessEntity", shop.numeric_id),
            "address": {
                "address1": None,
                "address2": None,
                "city": None,
                "countryCode": shop.country,
                "province": None,
                "zip": None,
            },
            "archived": False,
            "companyName": shop.name,
            "displayName": shop.name,
            "primary": True,
        }

    def merchantOfRecordApp(self, info: Info) -> None:
        return None

    def netPaymentSet(self, info: Info) -> dict[str, Any]:
        return self._bag(self._received_minor() - self._order.total_refunded_minor)

    def number(self, info: Info) -> int:
        return int(self._order.name.lstrip("#")) - 1000

    def originalTotalAdditionalFeesSet(self, info: Info) -> None:
        return None

    def originalTotalDutiesSet(self, info: Info) -> None:
        return None

    def originalTotalPriceSet(self, info: Info) -> dict[str, Any]:
        return self._bag(self._order.total_price_minor)

    def paymentGatewayNames(self, info: Info) -> list[str]:
        return ["shopify_payments"] if self._order.financial_status != "PENDING" else []

    def phone(self, info: Info) -> None:
        return None

    def poNumber(self, info: Info) -> None:
        return None

    def refundDiscrepancySet(self, info: Info) -> dict[str, Any]:
        return self._bag(0)

    def refundable(self, info: Info) -> bool:
        return self._paid() and self._order.financial_status != "REFUNDED"

    def registeredSourceUrl(self, info: Info) -> None:
        return None

    def requiresShipping(self, info: Info) -> bool:
        return self._order.location_id is None

    def restockable(self, info: Info) -> bool:
        return self._paid() and any(_current_quantities(self._order).values())

    def returnStatus(self, info: Info) -> str:
        returned = any(refund.line_items for refund in self._order.refunds)
        return "RETURNED" if returned else "NO_RETURN"

    def shippingLine(self, info: Info) -> None:
        return None

    def shopifyProtect(self, info: Info) -> None:
        return None

    def sourceIdentifier(self, info: Info) -> None:
        return None

    def statusPageUrl(self, info: Info) -> str:
        shop, seed = self._order.shop, self._seed()
        token = upper_id(seed, 32, "status-page", self._order.id).lower()
        return f"https://{shop.domain}/{shop.numeric_id}/orders/{token}/authenticate"

    def subtotalLineItemsQuantity(self, info: Info) -> int:
        return sum(item.quantity for item in self._order.line_items)

    def taxExempt(self, info: Info) -> bool:
        return False

    def totalCapturableSet(self, info: Info) -> dict[str, Any]:
        return self._bag(0)

    def totalCashRoundingAdjustment(self, info: Info) -> dict[str, Any]:
        return {"paymentSet": self._bag(0), "refundSet": self._bag(0)}

    def totalOutstandingSet(self, info: Info) -> dict[str, Any]:
        order = self._order
        pending = order.financial_status == "PENDING" and order.cancelled_at is None
        return self._bag(order.total_price_minor if pending else 0)

    def totalReceivedSet(self, info: Info) -> dict[str, Any]:
        return self._bag(self._received_minor())

    def totalRefundedShippingSet(self, info: Info) -> dict[str, Any]:
        return self._bag(0)

    def totalShippingPriceSet(self, info: Info) -> dict[str, Any]:
        return self._bag(0)

    def totalTipReceivedSet(self, info: Info) -> dict[str, Any]:
        return self._bag(0)

    def transactionsCount(self, info: Info) -> dict[str, Any]:
        sales = 1 if self._paid() else 0
        return count(sales + len(self._order.refunds))

    def unpaid(self, info: Info) -> bool:
        return not self._paid()


def _current_quantities(order: ShopifyOrder) -> dict[int, int]:
    if order.cancelled_at is not None:
        return {item.id: 0 for item in order.line_items}
    refunded: dict[int, int] = {}
    for refund in order.refunds:
        for returned in refund.line_items:
            key = returned.line_item.id
            refunded[key] = refunded.get(key, 0) + returned.quantity
    return {item.id: item.quantity - refunded.get(item.id, 0) for item in order.line_items}


def _fulfilling_location(context: RequestContext, order: ShopifyOrder) -> LocationObject | None:
    """The POS location for in-store sales, the shop's primary (warehouse) location otherwise."""
    locations = context.view.locations(context.shop)
    if order.location_id is not None:
        chosen = [loc for loc in locations if loc.id == order.location_id]
    else:
        chosen = [loc for loc in locations if loc.store.kind == "warehouse"]
    return LocationObject(context, chosen[0]) if chosen else None


def _manual_service(context: RequestContext, location: LocationObject | None) -> dict[str, Any]:
    return {
        "id": gid(
            "FulfillmentService", numeric_id(context.view.seed, 13, "Manual", context.shop.domain)
        ),
        "handle": "manual",
        "serviceName": "Manual",
        "callbackUrl": None,
        "inventoryManagement": False,
        "location": location,
        "permitsSkuSharing": True,
        "trackingSupport": False,
        "type": "MANUAL",
    }
