"""A seeded mix of webhook deliveries for both providers, each with the reply it must get.

- valid: a new event (`new`), or a new event posted twice at once (`twin`): 200, and exactly one
  of an event's deliveries is answered `queued`.
- duplicate: an event the receiver already acknowledged, delivered again with the same headers or
  other ones (Square's retry headers; Shopify's second webhook id for the event): 200 `duplicate`.
- forged: a byte of the body changed, the signature of another body, no signature, a signature
  under the wrong key (or, for Square, over the wrong URL), a signature that is not base64: 401.
  A forgery names a fresh id, an event already acknowledged, or an event whose genuine delivery
  is still to come (storing the forgery would turn that delivery into a duplicate).
- malformed, genuinely signed: not JSON, cut short, a JSON array, an unknown topic, no event id,
  no account (400 or 422); larger than the limit, with a Content-Length or chunked (413).
"""

import json
import random
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from itertools import count

from webhook_events import PROVIDERS, SIGNATURE_HEADER, Event, EventFactory

from shelfops_pipeline.webhooks.settings import MAX_BODY_BYTES

VALID, DUPLICATE, FORGED, MALFORMED = "valid", "duplicate", "forged", "malformed"
CATEGORY_WEIGHTS = {VALID: 40, DUPLICATE: 15, FORGED: 25, MALFORMED: 20}
TWIN_SHARE = 0.1
OTHER_HEADERS_SHARE = 0.5
FORGERY_TARGETS = ("fresh", "acknowledged", "upcoming")
WRONG_KEY = "a-key-the-receiver-does-not-know"
FORGERIES = (
    "tampered_body", "signature_of_another_body", "unsigned", "wrong_key", "wrong_url",
    "not_base64",
)  # fmt: skip
SQUARE_ONLY = frozenset({"wrong_url"})
MALFORMED_REPLIES = {
    "not_json": (400, "malformed_json"),
    "truncated_json": (400, "malformed_json"),
    "json_array": (400, "malformed_json"),
    "unknown_topic": (422, "unknown_topic"),
    "missing_event_id": (400, "missing_field"),
    "missing_account": (400, "missing_field"),
    "oversized": (413, "body_too_large"),
    "oversized_chunked": (413, "body_too_large"),
}
# What each malformation changes: Square's body fields, Shopify's headers (None removes one).
SQUARE_BREAKS: dict[str, dict[str, str | None]] = {
    "unknown_topic": {"type": "team_member.created"},
    "missing_event_id": {"event_id": None},
    "missing_account": {"merchant_id": None},
}
SHOPIFY_BREAKS: dict[str, dict[str, str | None]] = {
    "unknown_topic": {"x-shopify-topic": "customers/create"},
    "missing_event_id": {"x-shopify-event-id": None, "x-shopify-webhook-id": None},
    "missing_account": {"x-shopify-shop-domain": None},
}
KINDS = {
    VALID: ("new", "twin"),
    DUPLICATE: ("same_headers", "other_headers"),
    FORGED: FORGERIES,
    MALFORMED: tuple(MALFORMED_REPLIES),
}


def every_kind(provider: str) -> set[tuple[str, str]]:
    """(category, kind) of every delivery the mix sends to `provider`."""
    return {
        (category, kind)
        for category, kinds in KINDS.items()
        for kind in kinds
        if provider == "square" or kind not in SQUARE_ONLY
    }


@dataclass(frozen=True)
class Delivery:
    """One POST: what it is, what it carries and what the receiver must answer (`reply` is the
    200's `status` or the refusal's `error`; None for a twin, either `queued` or `duplicate`)."""

    provider: str
    category: str
    kind: str
    event_id: str | None
    body: bytes
    headers: Mapping[str, str]
    status: int
    reply: str | None
    chunked: bool = False
    event: Event | None = None


Forgery = Callable[[Event], tuple[bytes, dict[str, str]]]


def _changed(fields: Mapping[str, object], changes: Mapping[str, str | None]) -> dict[str, object]:
    """`fields` with `changes` applied: a value replaces the field's, None removes the field."""
    merged = {**fields, **changes}
    return {name: value for name, value in merged.items() if value is not None}


class DeliveryMix:
    """Draws deliveries from one seeded generator; told which new events were acknowledged, it
    draws duplicates and forgeries of known events among them."""

    def __init__(self, seed: int, events: EventFactory) -> None:
        self._random = random.Random(seed)
        self._events = events
        self._serials = count()
        self._upcoming: dict[str, deque[Event]] = {p: deque() for p in PROVIDERS}
        self._acknowledged: dict[str, list[Event]] = {p: [] for p in PROVIDERS}
        self._acknowledged_ids: set[str] = set()
        self._oversized = {p: self._oversized_body(p) for p in PROVIDERS}
        self._forgeries: dict[str, Forgery] = {
            "tampered_body": self._tampered_body,
            "signature_of_another_body": self._signature_of_another_body,
            "unsigned": self._unsigned,
            "wrong_key": self._wrong_key,
            "wrong_url": self._wrong_url,
            "not_base64": self._not_base64,
        }

    def draw(self) -> tuple[Delivery, ...]:
        """One delivery, or the same one twice to post at once (a twin)."""
        provider = self._random.choice(PROVIDERS)
        (category,) = self._random.choices(
            list(CATEGORY_WEIGHTS), weights=list(CATEGORY_WEIGHTS.values())
        )
        if category == DUPLICATE and self._acknowledged[provider]:
            return (self._duplicate(provider),)
        if category == FORGED:
            return (self._forged(provider),)
        if category == MALFORMED:
            return (self._malformed(provider),)
        return self._new(provider)

    def acknowledged(self, event: Event) -> None:
        """`event`'s genuine delivery was answered 200."""
        if event.event_id not in self._acknowledged_ids:
            self._acknowledged_ids.add(event.event_id)
            self._acknowledged[event.provider].append(event)

    def _fresh(self, provider: str) -> Event:
        return self._events.event(provider, next(self._serials))

    def _signed(self, provider: str, body: bytes, headers: Mapping[str, str]) -> dict[str, str]:
        signature = self._events.signature(provider, body)
        return {**headers, SIGNATURE_HEADER[provider]: signature}

    def new(self, provider: str, twin: bool = False) -> Delivery:
        """A new event's genuine delivery (one whose forgery went out already, if there is)."""
        upcoming = self._upcoming[provider]
        event = upcoming.popleft() if upcoming else self._fresh(provider)
        return Delivery(
            provider=provider,
            category=VALID,
            kind="twin" if twin else "new",
            event_id=event.event_id,
            body=event.body,
            headers=event.headers,
            status=200,
            reply=None if twin else "queued",
            event=event,
        )

    def _new(self, provider: str) -> tuple[Delivery, ...]:
        if self._random.random() < TWIN_SHARE:
            twin = self.new(provider, twin=True)
            return (twin, twin)
        return (self.new(provider),)

    def _duplicate(self, provider: str) -> Delivery:
        event = self._random.choice(self._acknowledged[provider])
        headers = dict(event.headers)
        kind = "same_headers"
        if self._random.random() < OTHER_HEADERS_SHARE:
            kind = "other_headers"
            if provider == "square":
                headers = self._events.square_retry_headers(event, self._random.randint(1, 5))
            else:
                headers["x-shopify-webhook-id"] += "-second-subscription"
        return Delivery(
            provider, DUPLICATE, kind, event.event_id, event.body, headers, 200, "duplicate"
        )

    def _forged(self, provider: str) -> Delivery:
        kind = self._random.choice(
            [k for k in FORGERIES if provider == "square" or k not in SQUARE_ONLY]
        )
        target = self._random.choice(FORGERY_TARGETS)
        if target == "acknowledged" and self._acknowledged[provider]:
            event = self._random.choice(self._acknowledged[provider])
        else:
            event = self._fresh(provider)
            if target == "upcoming":
                self._upcoming[provider].append(event)
        body, headers = self._forgeries[kind](event)
        return Delivery(provider, FORGED, kind, event.event_id, body, headers, 401, "bad_signature")

    def _tampered_body(self, event: Event) -> tuple[bytes, dict[str, str]]:
        body = bytearray(event.body)
        body[self._random.randrange(len(body))] ^= 0x01
        return bytes(body), dict(event.headers)

    def _signature_of_another_body(self, event: Event) -> tuple[bytes, dict[str, str]]:
        name = SIGNATURE_HEADER[event.provider]
        return event.body, {**event.headers, name: self._fresh(event.provider).headers[name]}

    def _unsigned(self, event: Event) -> tuple[bytes, dict[str, str]]:
        name = SIGNATURE_HEADER[event.provider]
        return event.body, {k: v for k, v in event.headers.items() if k != name}

    def _wrong_key(self, event: Event) -> tuple[bytes, dict[str, str]]:
        signature = self._events.signature(event.provider, event.body, key=WRONG_KEY)
        return event.body, {**event.headers, SIGNATURE_HEADER[event.provider]: signature}

    def _wrong_url(self, event: Event) -> tuple[bytes, dict[str, str]]:
        url = f"{self._events.square_url}/elsewhere"
        signature = self._events.signature(event.provider, event.body, url=url)
        return event.body, {**event.headers, SIGNATURE_HEADER[event.provider]: signature}

    def _not_base64(self, event: Event) -> tuple[bytes, dict[str, str]]:
        return event.body, {**event.headers, SIGNATURE_HEADER[event.provider]: "not base64!"}

    def _malformed(self, provider: str) -> Delivery:
        kind = self._random.choice(KINDS[MALFORMED])
        status, error = MALFORMED_REPLIES[kind]
        if kind.startswith("oversized"):
            body, headers = self._oversized[provider]
            chunked = kind == "oversized_chunked"
            return Delivery(provider, MALFORMED, kind, None, body, headers, status, error, chunked)
        event = self._fresh(provider)
        body, headers = self._malformation(kind, event)
        named = None if kind == "missing_event_id" else event.event_id
        signed = self._signed(provider, body, headers)
        return Delivery(provider, MALFORMED, kind, named, body, signed, status, error)

    def _malformation(self, kind: str, event: Event) -> tuple[bytes, dict[str, str]]:
        """`event` broken in one place; the caller signs the result genuinely."""
        headers = dict(event.headers)
        if kind == "not_json":
            return b"not json " + self._random.randbytes(24), headers
        if kind == "truncated_json":
            return event.body[: self._random.randrange(1, len(event.body))], headers
        fields = json.loads(event.body)
        if kind == "json_array":
            return json.dumps([fields]).encode(), headers
        if event.provider == "square":
            return json.dumps(_changed(fields, SQUARE_BREAKS[kind])).encode(), headers
        return event.body, {k: str(v) for k, v in _changed(headers, SHOPIFY_BREAKS[kind]).items()}

    def _oversized_body(self, provider: str) -> tuple[bytes, dict[str, str]]:
        """One genuinely signed event padded past the receiver's limit, shared by every
        oversized delivery to the provider."""
        event = self._fresh(provider)
        padded = {**json.loads(event.body), "padding": "x" * MAX_BODY_BYTES}
        body = json.dumps(padded).encode()
        return body, self._signed(provider, body, event.headers)
