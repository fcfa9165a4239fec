"""Shopify's GraphQL error shapes: messages, `extensions.code` values and the fixed reply texts."""

from typing import Any

RATE_LIMIT_DOCS = "https://shopify.dev/api/usage/rate-limits"
MAX_PAGE_SIZE = 250
MAX_QUERY_COST = 1000
MAX_COST_MESSAGE = (
    "Query cost is {cost}, which exceeds the single query max cost limit ({limit}).\n\n"
    "See https://shopify.dev/concepts/about-apis/rate-limits for more information on how the\n"
    "cost of a query is calculated.\n\n"
    "To query larger amounts of data with fewer limits, bulk operations should be used instead.\n"
    "See https://shopify.dev/tutorials/perform-bulk-operations-with-admin-api for usage details.\n"
)


class ShopifyGraphQLError(Exception):
    """An error a resolver raises; it becomes one entry of the reply's `errors`."""

    def __init__(self, message: str, code: str | None = None, **extensions: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extensions: dict[str, Any] = {"code": code, **extensions} if code else extensions


def throttled_error() -> dict[str, Any]:
    return {
        "message": "Throttled",
        "extensions": {"code": "THROTTLED", "documentation": RATE_LIMIT_DOCS},
    }


def max_cost_error(cost: int) -> dict[str, Any]:
    return {
        "message": MAX_COST_MESSAGE.format(cost=cost, limit=MAX_QUERY_COST),
        "extensions": {"code": "MAX_COST_EXCEEDED", "cost": cost, "maxCost": MAX_QUERY_COST},
    }


def page_size_error(argument: str, value: int) -> ShopifyGraphQLError:
    # Wording not confirmed against a captured reply; the limit and the top-level error are.
    return ShopifyGraphQLError(
        f"The '{argument}' argument must be less than or equal to {MAX_PAGE_SIZE}, "
        f"but was {value}.",
        "MAX_PAGE_SIZE_EXCEEDED",
    )


def missing_page_size_error() -> ShopifyGraphQLError:
    return ShopifyGraphQLError("you must provide one of first or last")


def invalid_id_error(value: object) -> ShopifyGraphQLError:
    return ShopifyGraphQLError(f"Invalid global id '{value}'", "argumentLiteralsIncompatible")
