"""Shopify access scopes the sandbox knows: comma-separated in OAuth, write implying read."""

from shelfops_pipeline.sandbox.shopify.admin_errors import OAuthError

READ_SCOPES = (
    "read_products", "read_orders", "read_all_orders", "read_inventory", "read_locations",
    "read_customers", "read_fulfillments", "read_shipping", "read_discounts", "read_price_rules",
    "read_draft_orders", "read_reports", "read_markets", "read_publications", "read_themes",
)  # fmt: skip
WRITE_SCOPES = tuple(
    scope.replace("read_", "write_", 1) for scope in READ_SCOPES if scope != "read_all_orders"
)
SHOPIFY_SCOPES = frozenset(READ_SCOPES + WRITE_SCOPES)
# What the sandbox app is configured to ask for, and what client credentials receive.
APP_SCOPES = ("read_products", "read_orders", "read_all_orders", "read_inventory", "read_locations")


def parse_scopes(text: str) -> tuple[str, ...]:
    """`read_orders, read_products` -> its distinct scopes; OAuthError names an unknown one."""
    scopes = tuple(dict.fromkeys(s.strip() for s in text.split(",") if s.strip()))
    unknown = [s for s in scopes if s not in SHOPIFY_SCOPES]
    if unknown:
        raise OAuthError("invalid_scope", f"The access scope is invalid: {', '.join(unknown)}")
    return scopes
