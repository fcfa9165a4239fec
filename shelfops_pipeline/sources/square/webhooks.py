"""Square's Webhook Subscriptions API, as ShelfOps uses it: subscribe the receiver, unsubscribe.

A Square subscription belongs to the application and covers every seller who authorized it. Its
signature key is in the create reply only, so the caller must store it before anything else.
Real Square wants the application owner's access token for these calls; see `webhook_token`.
"""

import uuid
from dataclasses import dataclass
from typing import Any

from shelfops_pipeline.credentials.secret import Secret
from shelfops_pipeline.http.client import ApiClient
from shelfops_pipeline.http.errors import ApiError
from shelfops_pipeline.http.paginate import query_cursor_pages
from shelfops_pipeline.sources.square.client import SQUARE_VERSION

SUBSCRIPTIONS_PATH = "/v2/webhooks/subscriptions"
SUBSCRIPTION_NAME = "ShelfOps"


@dataclass(frozen=True)
class CreatedSubscription:
    id: str
    notification_url: str
    event_types: tuple[str, ...]
    signature_key: Secret


class UnexpectedReply(ValueError):
    """Square answered 2xx with a body that lacks what the call must return."""


async def create_subscription(
    api: ApiClient, notification_url: str, event_types: tuple[str, ...]
) -> CreatedSubscription:
    """Create an enabled subscription; one idempotency key per call, so a retried POST that
    Square already applied returns the same subscription instead of a second one."""
    body = {
        "idempotency_key": uuid.uuid4().hex,
        "subscription": {
            "name": SUBSCRIPTION_NAME,
            "enabled": True,
            "event_types": list(event_types),
            "notification_url": notification_url,
            "api_version": SQUARE_VERSION,
        },
    }
    reply = await api.request_json("POST", SUBSCRIPTIONS_PATH, json=body, kind="write")
    found: Any = reply.get("subscription") if isinstance(reply, dict) else None
    if not isinstance(found, dict) or not found.get("id") or not found.get("signature_key"):
        raise UnexpectedReply("Square's CreateWebhookSubscription reply has no id or signature_key")
    return CreatedSubscription(
        id=str(found["id"]),
        notification_url=str(found.get("notification_url", notification_url)),
        event_types=tuple(found.get("event_types") or event_types),
        signature_key=Secret(str(found["signature_key"])),
    )


async def delete_subscription(api: ApiClient, subscription_id: str) -> bool:
    """Delete it; False when Square no longer has it (deleted by hand, or by an earlier try)."""
    try:
        await api.request_json("DELETE", f"{SUBSCRIPTIONS_PATH}/{subscription_id}", kind="write")
    except ApiError as error:
        if error.status == 404:
            return False
        raise
    return True


async def enabled_subscription_ids(api: ApiClient) -> set[str]:
    """The ids of the app's enabled subscriptions (Square disables one that keeps failing)."""
    found: set[str] = set()
    async for page in query_cursor_pages(api, SUBSCRIPTIONS_PATH, {"limit": "100"}):
        found.update(str(s["id"]) for s in page.get("subscriptions") or () if s.get("id"))
    return found
