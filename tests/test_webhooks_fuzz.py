"""Property-based: whatever bytes and headers arrive, signed or not, the receiver answers 4xx,
never 500, and queues nothing."""

from collections.abc import Iterator

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from webhook_helpers import SHOPIFY_SECRET, SQUARE_KEY, Receiver, running_receiver

from shelfops_pipeline.sandbox.shopify.webhook_signing import shopify_hmac
from shelfops_pipeline.sandbox.square.webhook_signing import square_signature

HEADER_NAMES = (
    "x-square-hmacsha256-signature", "x-shopify-hmac-sha256", "x-shopify-topic",
    "x-shopify-event-id", "x-shopify-webhook-id", "x-shopify-shop-domain", "content-type",
    "content-length", "square-retry-number", "x-custom",
)  # fmt: skip
header_values = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=0, max_size=80
).map(str.strip)  # a client cannot send a header value with surrounding spaces
headers = st.dictionaries(st.sampled_from(HEADER_NAMES), header_values, max_size=6)
json_scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=30)
json_objects = st.dictionaries(
    st.sampled_from(["type", "event_id", "merchant_id", "data", "created_at", "x"]),
    st.recursive(json_scalars, lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner)),
    max_size=6,
)
bodies = st.binary(max_size=2000) | json_objects.map(
    lambda o: httpx.Request("POST", "/", json=o).content
)


@pytest.fixture(scope="module")
def receiver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Receiver]:
    with running_receiver(tmp_path_factory.mktemp("fuzz")) as running:
        yield running


def _signed(receiver: Receiver, provider: str, body: bytes) -> dict[str, str]:
    if provider == "square":
        signature = square_signature(SQUARE_KEY, receiver.square_url, body)
        return {"x-square-hmacsha256-signature": signature}
    return {"x-shopify-hmac-sha256": shopify_hmac(SHOPIFY_SECRET, body)}


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    provider=st.sampled_from(["square", "shopify"]),
    body=bodies,
    extra=headers,
    sign=st.booleans(),
)
def test_fuzzed_deliveries_get_a_4xx_and_store_nothing(
    receiver: Receiver, provider: str, body: bytes, extra: dict[str, str], sign: bool
) -> None:
    sent = {k: v for k, v in extra.items() if k != "content-length"}
    if sign:
        sent |= _signed(receiver, provider, body)
    reply = httpx.post(f"{receiver.base_url}/webhooks/{provider}", content=body, headers=sent)
    assert 400 <= reply.status_code < 500, reply.text
    assert reply.json()["reason"]
    assert receiver.queue.all_events() == []
