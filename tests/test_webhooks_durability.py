"""A receiver killed with SIGKILL in the middle of a burst has every event it acknowledged on
disk: the queue commits before the 200 goes out."""

import asyncio
import signal
import subprocess
from pathlib import Path

import httpx
from conftest import SEED, Running
from webhook_helpers import SQUARE_KEY, first_attempt
from webhook_process import receiver_process

from shelfops_pipeline.sandbox.square.serialize import SquareSerializer
from shelfops_pipeline.sandbox.square.webhook_events import square_recent_events
from shelfops_pipeline.sandbox.square.webhook_signing import SquareWebhookSigner, square_message
from shelfops_pipeline.sandbox.webhook_delivery import WebhookMessage
from shelfops_pipeline.webhooks.queue import EventQueue, queue_path

BURST = 1500
KILL_AFTER_ACKS = 300
IN_FLIGHT = 32


async def _burst(
    url: str, messages: list[WebhookMessage], process: subprocess.Popen[bytes]
) -> list[str]:
    signer = SquareWebhookSigner(SQUARE_KEY, url)
    acknowledged: list[str] = []
    slots = asyncio.Semaphore(IN_FLIGHT)

    async def send(client: httpx.AsyncClient, message: WebhookMessage) -> None:
        async with slots:
            try:
                reply = await client.post(
                    url, content=message.body, headers=signer.headers(first_attempt(message))
                )
            except httpx.TransportError:
                return
        if reply.status_code == 200:
            acknowledged.append(message.event_id)
            if len(acknowledged) == KILL_AFTER_ACKS:
                process.send_signal(signal.SIGKILL)

    async with httpx.AsyncClient(timeout=10) as client:
        await asyncio.gather(*(send(client, m) for m in messages))
    return acknowledged


def test_kill_9_during_a_burst_loses_no_acknowledged_event(
    tmp_path: Path, small_sandbox: Running
) -> None:
    events = square_recent_events(small_sandbox.sandbox.world, SquareSerializer(SEED), BURST)
    messages = [square_message(event) for event in events]
    with receiver_process(tmp_path) as receiver:
        acknowledged = asyncio.run(_burst(receiver.square_url, messages, receiver.process))
        receiver.process.wait(timeout=10)
    assert receiver.process.returncode == -signal.SIGKILL
    assert KILL_AFTER_ACKS <= len(acknowledged) < len(messages)
    stored = {event.event_id for event in EventQueue(queue_path(tmp_path)).all_events()}
    assert set(acknowledged) <= stored
