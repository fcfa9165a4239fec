"""The webhook topics the sandbox lets an app subscribe to: the GraphQL enum value, the form the
`X-Shopify-Topic` header carries, and the access scope a subscription needs.

The enum is the header upper-cased with `/` as `_` (`orders/create` is ORDERS_CREATE), but not
the other way round for every topic, so both forms are listed. The sandbox emits the topics of
`webhook_events.TOPICS`; the others may be subscribed to and never fire, as on a quiet shop.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class WebhookTopic:
    """One `WebhookSubscriptionTopic` value."""

    name: str
    header: str
    scope: str | None


_TOPICS = (
    WebhookTopic("ORDERS_CREATE", "orders/create", "read_orders"),
    WebhookTopic("ORDERS_UPDATED", "orders/updated", "read_orders"),
    WebhookTopic("ORDERS_CANCELLED", "orders/cancelled", "read_orders"),
    WebhookTopic("ORDERS_PAID", "orders/paid", "read_orders"),
    WebhookTopic("REFUNDS_CREATE", "refunds/create", "read_orders"),
    WebhookTopic("PRODUCTS_CREATE", "products/create", "read_products"),
    WebhookTopic("PRODUCTS_UPDATE", "products/update", "read_products"),
    WebhookTopic("PRODUCTS_DELETE", "products/delete", "read_products"),
    WebhookTopic("INVENTORY_LEVELS_UPDATE", "inventory_levels/update", "read_inventory"),
    WebhookTopic("APP_UNINSTALLED", "app/uninstalled", None),
    WebhookTopic("BULK_OPERATIONS_FINISH", "bulk_operations/finish", None),
)
WEBHOOK_TOPICS: dict[str, WebhookTopic] = {topic.name: topic for topic in _TOPICS}
BY_HEADER: dict[str, WebhookTopic] = {topic.header: topic for topic in _TOPICS}
