"""Injected faults in Shopify's words, for the fault middleware.

REST paths get `{"errors": "<text>"}`: a 429 says what Shopify's leaky bucket says; the others
their reason phrase. The GraphQL endpoint gets GraphQL's `{"errors": [{"message",
"extensions": {"code"}}]}`: a 429 is `THROTTLED`, a 5xx is Shopify's internal-error message with
a request id, as captured from the real API (shopify-captured/error-cases.jsonl). Retry-After is
a decimal number of seconds, as Shopify writes it ("2.0").
"""

import json
import uuid

from shelfops_pipeline.sandbox.shopify.errors import throttled_error
from shelfops_pipeline.sandbox.shopify.rest_limits import RestLimits

REASONS = {
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def is_shopify_path(path: str) -> bool:
    return path.startswith(("/shopify/", "/admin/"))


def _graphql_error(status: int) -> dict[str, object]:
    if status == 429:
        return {"errors": [throttled_error()]}
    request_id = str(uuid.uuid4())
    message = (
        "Internal error. Looks like something went wrong on our end.\n"
        f"Request ID: {request_id} (include this in support requests)."
    )
    extensions = {"requestId": request_id, "code": "INTERNAL_SERVER_ERROR"}
    return {"errors": [{"message": message, "extensions": extensions}], "data": None}


def render_shopify_error(
    path: str, status: int, code: str, detail: str, retry_after: float | None = None
) -> tuple[bytes, dict[str, str]]:
    """The reply body and headers of an injected fault on a Shopify path."""
    if path.endswith("/graphql.json"):
        body: object = _graphql_error(status)
    elif status == 429:
        rate = RestLimits().leak_per_second
        body = {
            "errors": f"Exceeded {rate:g} calls per second for api client. "
            "Reduce request rates to resume uninterrupted service."
        }
    else:
        body = {"errors": REASONS.get(status, detail)}
    headers = {"content-type": "application/json; charset=utf-8"}
    if retry_after is not None:
        headers["retry-after"] = f"{max(0.1, retry_after):.1f}"
    return json.dumps(body).encode(), headers
