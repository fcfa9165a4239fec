"""Load: the webhook receiver, in its own process, under sustained load of valid, duplicate,
forged and malformed deliveries to both providers, loses no valid event and stores no invalid one.

A few senders keep requests in flight for the whole run, drawing from a seeded mix (webhook_mix.py
lists what it sends and the reply each must get) and recording every reply. Then: every delivery
got exactly its reply (200 `queued` or `duplicate`; 401 for every forgery; 400, 413 or 422 with a
reason for every malformed one; never a 5xx, never a dropped connection); every acknowledged event
was answered `queued` exactly once; the queue, read by another process, holds exactly the
acknowledged events, each once, with the bytes that were acknowledged (so nothing forged or
malformed is stored, by id or by body); and the receiver still takes new events, its log free of
tracebacks and secrets.

The short form (`make test`) loads for 10 seconds, the full form (`make chaos`) for 60.
"""

import asyncio
import hashlib
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
import pytest
from chaos_scale import scaled
from conftest import Running
from webhook_events import PROVIDERS, EventFactory
from webhook_helpers import SHOPIFY_SECRET, SQUARE_KEY
from webhook_mix import VALID, WRONG_KEY, Delivery, DeliveryMix, every_kind
from webhook_process import ReceiverProcess, receiver_process

pytestmark = pytest.mark.chaos

LOAD_SECONDS = scaled(10.0, 60.0)
SENDERS = 6
MIX_SEED = 60_2026
REQUEST_TIMEOUT_SECONDS = 30.0
CHUNK_BYTES = 64 * 1024
# Far below what the receiver sustains on two shared cores; a stalled receiver falls under it.
MIN_DELIVERIES_PER_SECOND = 30
ACCEPTED = ("queued", "duplicate")
EXAMPLES = 10


@dataclass(frozen=True)
class Outcome:
    """One delivery (its bytes kept as a digest only) and the reply it got (`status` None: no
    reply, `reply` says why)."""

    delivery: Delivery
    digest: str
    status: int | None
    reply: str | None
    reason: str | None

    @property
    def key(self) -> tuple[str, str | None]:
        return self.delivery.provider, self.delivery.event_id

    @property
    def as_expected(self) -> bool:
        wanted = self.delivery
        if self.status != wanted.status:
            return False
        if self.status == 200:
            return self.reply == wanted.reply or (wanted.reply is None and self.reply in ACCEPTED)
        return self.reply == wanted.reply and bool(self.reason)

    @property
    def label(self) -> str:
        d = self.delivery
        return f"{d.provider} {d.category}/{d.kind}"

    def summary(self) -> str:
        d = self.delivery
        return f"{self.label}: wanted {d.status} {d.reply}, got {self.status} {self.reply}"


def _digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


async def _chunks(body: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(body), CHUNK_BYTES):
        yield body[start : start + CHUNK_BYTES]


async def _post(
    client: httpx.AsyncClient, receiver: ReceiverProcess, delivery: Delivery
) -> Outcome:
    content = _chunks(delivery.body) if delivery.chunked else delivery.body
    digest = _digest(delivery.body)
    d = replace(delivery, body=b"", headers={}, event=None)
    try:
        reply = await client.post(
            receiver.url(d.provider), content=content, headers=delivery.headers
        )
    except httpx.HTTPError as error:
        return Outcome(d, digest, None, f"{type(error).__name__}: {error}", None)
    try:
        payload = reply.json()
    except ValueError:
        return Outcome(d, digest, reply.status_code, f"not JSON: {reply.text[:80]!r}", None)
    if reply.status_code == 200:
        return Outcome(d, digest, 200, payload.get("status"), None)
    return Outcome(d, digest, reply.status_code, payload.get("error"), payload.get("reason"))


async def _load(receiver: ReceiverProcess, mix: DeliveryMix) -> tuple[list[Outcome], float]:
    """Every delivery's outcome, and how many seconds the senders ran."""
    outcomes: list[Outcome] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + LOAD_SECONDS
    limits = httpx.Limits(max_connections=2 * SENDERS, max_keepalive_connections=2 * SENDERS)

    async def sender(client: httpx.AsyncClient) -> None:
        while loop.time() < deadline:
            deliveries = mix.draw()
            sent = await asyncio.gather(*(_post(client, receiver, d) for d in deliveries))
            outcomes.extend(sent)
            for delivery, outcome in zip(deliveries, sent, strict=True):
                if delivery.event is not None and outcome.status == 200:
                    mix.acknowledged(delivery.event)

    timeout = httpx.Timeout(REQUEST_TIMEOUT_SECONDS)
    async with httpx.AsyncClient(timeout=timeout, limits=limits, trust_env=False) as client:
        started = loop.time()
        await asyncio.gather(*(sender(client) for _ in range(SENDERS)))
        return outcomes, loop.time() - started


async def _probe(receiver: ReceiverProcess, mix: DeliveryMix) -> list[Outcome]:
    """After the load: a new event to each provider, which must be queued."""
    async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT_SECONDS, trust_env=False) as client:
        return [await _post(client, receiver, mix.new(provider)) for provider in PROVIDERS]


def _examples(lines: Iterable[str]) -> str:
    counted = Counter(lines)
    return "; ".join(f"{n} x {line}" for line, n in counted.most_common(EXAMPLES))


def _store_differences(
    stored: Mapping[tuple[str, str], str],
    acknowledged: Mapping[tuple[str, str | None], str],
    outcomes: list[Outcome],
) -> list[str]:
    """How the store differs from the acknowledged events, naming the first delivery whose bytes
    (or, failing that, whose id) an unexpected row holds."""
    sent_id: dict[tuple[str, str | None], str] = {}
    sent_body: dict[str, str] = {}
    for o in outcomes:
        sent_id.setdefault(o.key, o.label)
        sent_body.setdefault(o.digest, f"{o.label} {o.delivery.event_id}")

    def origin(key: tuple[str, str]) -> str:
        return sent_body.get(stored[key]) or sent_id.get(key) or "nothing sent"

    problems = [f"acknowledged, not stored: {key}" for key in acknowledged.keys() - stored.keys()]
    problems += [
        f"stored, never acknowledged: {key}, from {origin(key)}"
        for key in stored.keys() - acknowledged.keys()
    ]
    problems += [
        f"stored with other bytes than acknowledged: {key}, from {origin(key)}"
        for key in stored.keys() & acknowledged.keys()
        if stored[key] != acknowledged[key]
    ]
    return problems


def test_sustained_mixed_load_loses_no_valid_event_and_stores_no_invalid_one(
    tmp_path: Path, small_sandbox: Running
) -> None:
    with receiver_process(tmp_path) as receiver:
        events = EventFactory(small_sandbox.sandbox.world, receiver.square_url)
        mix = DeliveryMix(MIX_SEED, events)
        outcomes, seconds = asyncio.run(_load(receiver, mix))
        probes = asyncio.run(_probe(receiver, mix))
        still_alive = receiver.alive()
        only_post = httpx.get(receiver.square_url, trust_env=False).status_code
        stored_events = receiver.queue.all_events()
        log = receiver.log()
    outcomes += probes

    assert [p.reply for p in probes] == ["queued", "queued"], [p.summary() for p in probes]
    assert still_alive and only_post == 405
    unanswered = [o.summary() for o in outcomes if o.status is None or o.status >= 500]
    assert not unanswered, f"no reply or a 5xx: {_examples(unanswered)}"
    wrong = [o.summary() for o in outcomes if not o.as_expected]
    assert not wrong, f"{len(wrong)} of {len(outcomes)}: {_examples(wrong)}"
    for provider in PROVIDERS:
        sent = {(o.delivery.category, o.delivery.kind) for o in outcomes if o.key[0] == provider}
        assert sent == every_kind(provider), every_kind(provider) - sent
    assert len(outcomes) >= MIN_DELIVERIES_PER_SECOND * seconds, (len(outcomes), seconds)

    valid = [o for o in outcomes if o.delivery.category == VALID]
    acknowledged = {o.key: o.digest for o in valid}
    queued = Counter(o.key for o in outcomes if o.reply == "queued")
    assert queued == Counter(acknowledged.keys()), "an event was queued twice or never"

    stored = {(e.provider, e.event_id): _digest(e.body) for e in stored_events}
    problems = _store_differences(stored, acknowledged, outcomes)
    assert not problems, f"{len(problems)}: {'; '.join(problems[:EXAMPLES])}"
    assert len(stored_events) == len(acknowledged), "an event is stored more than once"

    assert "Traceback" not in log
    for secret in (SQUARE_KEY, SHOPIFY_SECRET, WRONG_KEY):
        assert secret not in log
