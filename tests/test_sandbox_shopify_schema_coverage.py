"""The extra Order fields tap-shopify selects answer without errors and agree with each other."""

from decimal import Decimal

from test_sandbox_shopify_graphql_harness import serve_shopify_graphql

ORDERS = """
query Orders($after: String) {
  orders(first: 100, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id
      test
      displayFinancialStatus
      displayFulfillmentStatus
      fullyPaid
      unpaid
      subtotalLineItemsQuantity
      totalPriceSet { shopMoney { amount } }
      totalReceivedSet { shopMoney { amount } }
      totalRefundedSet { shopMoney { amount } }
      netPaymentSet { shopMoney { amount } }
      fulfillments { status }
      discountApplications(first: 20) { nodes { index } }
      lineItems(first: 50) {
        nodes { quantity discountAllocations { discountApplication { index } } }
      }
      customer { id }
      billingAddress { city }
      taxLines { rate priceSet { shopMoney { amount } } }
    }
  }
}
"""


def _amount(bag: dict) -> Decimal:
    return Decimal(bag["shopMoney"]["amount"])


def test_payment_fulfillment_and_discount_fields_are_consistent() -> None:
    with serve_shopify_graphql() as server:
        checked = 0
        for shop in server.world.shops:
            cursor = None
            while True:
                data = server.data(shop, ORDERS, {"after": cursor})["orders"]
                for order in data["nodes"]:
                    status = order["displayFinancialStatus"]
                    received = _amount(order["totalReceivedSet"])
                    if status in ("PAID", "PARTIALLY_REFUNDED", "REFUNDED"):
                        assert received == _amount(order["totalPriceSet"]) and order["fullyPaid"]
                    else:
                        assert received == 0 and not order["fullyPaid"]
                    assert _amount(order["netPaymentSet"]) == received - _amount(
                        order["totalRefundedSet"]
                    )
                    lines = order["lineItems"]["nodes"]
                    assert order["subtotalLineItemsQuantity"] == sum(
                        line["quantity"] for line in lines
                    )
                    fulfilled = order["displayFulfillmentStatus"] == "FULFILLED"
                    assert bool(order["fulfillments"]) == fulfilled
                    indexes = {d["index"] for d in order["discountApplications"]["nodes"]}
                    for line in lines:
                        for allocation in line["discountAllocations"]:
                            assert allocation["discountApplication"]["index"] in indexes
                    checked += 1
                if not data["pageInfo"]["hasNextPage"]:
                    break
                cursor = data["pageInfo"]["endCursor"]
    assert checked > 200
