"""The GraphQL documents the Shopify connector sends, paged and bulk, in one place.

Paged and bulk documents select the same fields, so one parser reads both. Bulk documents
cannot page (`first` is ignored), must use `edges { node }`, and cannot hold a connection inside
a list: an order's refunds come as a list, so their line items are fetched afterwards by the
order's id (`ORDER_REFUNDS`).
"""

# Nested connections are priced per page: these sizes keep an orders page under Shopify's
# 1000-point ceiling for a single query.
ORDERS_PER_PAGE = 100
PRODUCTS_PER_PAGE = 100
LINES_PER_ORDER = 100
VARIANTS_PER_PRODUCT = 100
LINES_PER_REFUND = 100

SHOP = "query Shop { shop { myshopifyDomain name ianaTimezone currencyCode } }"

LOCATIONS = """query Locations($first: Int!, $after: String) {
  locations(first: $first, after: $after, sortKey: ID) {
    nodes { id legacyResourceId name isActive }
    pageInfo { hasNextPage endCursor } } }"""

_VARIANT = "id title sku price updatedAt"
PRODUCTS = f"""query Products($first: Int!, $after: String) {{
  products(first: $first, after: $after, sortKey: ID) {{
    nodes {{ id title updatedAt
      variants(first: {VARIANTS_PER_PRODUCT}) {{ nodes {{ {_VARIANT} }} pageInfo {{ hasNextPage }} }} }}
    pageInfo {{ hasNextPage endCursor }} }} }}"""
PRODUCTS_BULK = f"""{{ products {{ edges {{ node {{ id title updatedAt
  variants {{ edges {{ node {{ {_VARIANT} }} }} }} }} }} }} }}"""

_MONEY = "shopMoney { amount currencyCode }"
_ORDER = (
    "id name test createdAt processedAt updatedAt cancelledAt displayFinancialStatus "
    f"currencyCode presentmentCurrencyCode location {{ id }} totalPriceSet {{ {_MONEY} }}"
)
_LINE = (
    f"id quantity variant {{ id }} originalUnitPriceSet {{ {_MONEY} }} "
    f"totalDiscountSet {{ {_MONEY} }} discountedTotalSet {{ {_MONEY} }} "
    f"taxLines {{ priceSet {{ {_MONEY} }} }}"
)
_REFUND_LINE = (
    f"id quantity lineItem {{ id variant {{ id }} }} priceSet {{ {_MONEY} }} "
    f"subtotalSet {{ {_MONEY} }} totalTaxSet {{ {_MONEY} }}"
)
_REFUND = (
    f"id createdAt totalRefundedSet {{ {_MONEY} }} "
    f"refundLineItems(first: {LINES_PER_REFUND}) {{ "
    f"nodes {{ {_REFUND_LINE} }} pageInfo {{ hasNextPage }} }}"
)
ORDERS = f"""query Orders($first: Int!, $after: String, $query: String) {{
  orders(first: $first, after: $after, query: $query, sortKey: CREATED_AT) {{
    nodes {{ {_ORDER}
      lineItems(first: {LINES_PER_ORDER}) {{ nodes {{ {_LINE} }} pageInfo {{ hasNextPage }} }}
      refunds {{ {_REFUND} }} }}
    pageInfo {{ hasNextPage endCursor }} }} }}"""
ORDER_REFUNDS = f"""query OrderRefunds($ids: [ID!]!) {{
  nodes(ids: $ids) {{ ... on Order {{ id refunds {{ {_REFUND} }} }} }} }}"""


INVENTORY_LEVELS = """query Stock($location: ID!, $first: Int!, $after: String) {
  location(id: $location) { inventoryLevels(first: $first, after: $after) {
    nodes { id location { id } item { variant { id } }
      quantities(names: ["available", "on_hand"]) { name quantity } }
    pageInfo { hasNextPage endCursor } } } }"""


BULK_RUN = """mutation RunBulk($query: String!) { bulkOperationRunQuery(query: $query) {
  bulkOperation { id status } userErrors { field message code } } }"""
BULK_RUN_GROUPED = """mutation RunBulk($query: String!, $group: Boolean!) {
  bulkOperationRunQuery(query: $query, groupObjects: $group) {
  bulkOperation { id status } userErrors { field message code } } }"""
BULK_STATUS = """query BulkStatus($id: ID!) { bulkOperation(id: $id) {
  id status errorCode objectCount rootObjectCount url partialDataUrl } }"""


WEBHOOK_SUBSCRIPTIONS = """query WebhookSubscriptions($first: Int!, $after: String, $uri: String) {
  webhookSubscriptions(first: $first, after: $after, uri: $uri, sortKey: ID) {
    nodes { id topic uri } pageInfo { hasNextPage endCursor } } }"""
WEBHOOK_CREATE = """mutation SubscribeWebhook($topic: WebhookSubscriptionTopic!, $uri: String!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: {uri: $uri, format: JSON}) {
  webhookSubscription { id topic uri } userErrors { field message } } }"""
WEBHOOK_DELETE = """mutation UnsubscribeWebhook($id: ID!) { webhookSubscriptionDelete(id: $id) {
  deletedWebhookSubscriptionId userErrors { field message } } }"""


# Each query's requestedQueryCost at the page sizes above (Shopify's replies report it; a reply
# corrects an entry for other sizes). The limiter waits for this much before sending.
REQUESTED_COSTS = {
    SHOP: 1.0,
    LOCATIONS: 13.0,
    PRODUCTS: 110.0,
    ORDERS: 551.0,
    INVENTORY_LEVELS: 58.0,
    ORDER_REFUNDS: 30.0,
    BULK_RUN: 10.0,
    BULK_RUN_GROUPED: 10.0,
    BULK_STATUS: 1.0,
    WEBHOOK_SUBSCRIPTIONS: 13.0,
    WEBHOOK_CREATE: 10.0,
    WEBHOOK_DELETE: 10.0,
}


def orders_bulk(search: str) -> str:
    """Every order matching `search`, line items as child objects, refunds without lines."""
    quoted = search.replace("\\", "\\\\").replace('"', '\\"')
    return f"""{{ orders(query: "{quoted}", sortKey: CREATED_AT) {{ edges {{ node {{ {_ORDER}
  lineItems {{ edges {{ node {{ {_LINE} }} }} }}
  refunds {{ id createdAt totalRefundedSet {{ {_MONEY} }} }} }} }} }} }}"""


# Bulk child objects, by the GID type of the child, go under this connection of their parent.
CHILD_CONNECTIONS = {"LineItem": "lineItems", "ProductVariant": "variants"}
