"""`python -m benchmarks.webhook_load`: the webhook benchmark's load generator, a process of its
own (the receiver is another), posting COUNT distinct signed Square events with IN_FLIGHT
requests open at once and writing every acknowledgement's latency to a JSON file.

The events are the sandbox's own, re-identified so each is new; all are signed before the clock
starts, so signing is not timed.
"""

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click
import httpx

from shelfops_pipeline.sandbox.server import build_sandbox
from shelfops_pipeline.sandbox.settings import SandboxSettings
from shelfops_pipeline.sandbox.square.serialize import SquareSerializer
from shelfops_pipeline.sandbox.square.webhook_events import square_events_between
from shelfops_pipeline.sandbox.square.webhook_signing import SquareWebhookSigner, square_message
from shelfops_pipeline.sandbox.webhook_delivery import DeliveryAttempt, WebhookMessage

SEED = 7
KEY_ENV = "SHELFOPS_SANDBOX_WEBHOOK_SIGNATURE_KEY"


def attempt(message: WebhookMessage) -> DeliveryAttempt:
    return DeliveryAttempt(message, 0, None, datetime.now(UTC))


def distinct_events(count: int) -> list[dict[str, Any]]:
    """`count` Square events: the sandbox's latest, re-identified so each is new."""
    world = build_sandbox(SandboxSettings(seed=SEED, scale="small")).world
    now = world.now()
    events = square_events_between(world, SquareSerializer(SEED), now - timedelta(hours=6), now)
    if not events:
        raise click.ClickException("the sandbox produced no webhook events")
    return [{**events[n % len(events)], "event_id": f"bench-{n:06d}"} for n in range(count)]


async def post_all(
    url: str, key: str, messages: list[WebhookMessage], in_flight: int
) -> tuple[float, list[float], int]:
    """(seconds for all, each acknowledgement's latency, replies other than 200)."""
    signer = SquareWebhookSigner(key, url)
    prepared = [(m.body, signer.headers(attempt(m))) for m in messages]
    latencies: list[float] = []
    refused = 0
    slots = asyncio.Semaphore(in_flight)
    limits = httpx.Limits(max_connections=in_flight, max_keepalive_connections=in_flight)

    async def post(client: httpx.AsyncClient, body: bytes, headers: dict[str, str]) -> None:
        nonlocal refused
        async with slots:
            started = time.perf_counter()
            reply = await client.post(url, content=body, headers=headers)
            latencies.append(time.perf_counter() - started)
        refused += reply.status_code != 200

    async with httpx.AsyncClient(timeout=30, limits=limits, trust_env=False) as client:
        started = time.perf_counter()
        await asyncio.gather(*(post(client, body, headers) for body, headers in prepared))
        return time.perf_counter() - started, latencies, refused


@click.command()
@click.option("--url", required=True)
@click.option("--count", type=click.IntRange(1, 1_000_000), required=True)
@click.option("--in-flight", type=click.IntRange(1, 1000), required=True)
@click.option("--signature-key", envvar=KEY_ENV, required=True, help=f"Default ${KEY_ENV}.")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
def main(url: str, count: int, in_flight: int, signature_key: str, out: Path) -> None:
    """Post COUNT signed events to URL and write the latencies to OUT."""
    messages = [square_message(event) for event in distinct_events(count)]
    seconds, latencies, refused = asyncio.run(post_all(url, signature_key, messages, in_flight))
    out.write_text(json.dumps({"seconds": seconds, "latencies": latencies, "refused": refused}))


if __name__ == "__main__":
    main(prog_name="python -m benchmarks.webhook_load")
