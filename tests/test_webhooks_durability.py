"""A receiver killed with SIGKILL in the middle of a burst has every event it acknowledged on
disk: the queue commits before the 200 goes out."""

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from conftest import SEED, Running
from webhook_helpers import SQUARE_KEY, first_attempt

from shelfops_pipeline.sandbox.runner import free_loopback_port
from shelfops_pipeline.sandbox.square.serialize import SquareSerializer
from shelfops_pipeline.sandbox.square.webhook_events import square_recent_events
from shelfops_pipeline.sandbox.square.webhook_signing import SquareWebhookSigner, square_message
from shelfops_pipeline.sandbox.webhook_delivery import WebhookMessage
from shelfops_pipeline.webhooks.queue import EventQueue, queue_path
from shelfops_pipeline.webhooks.settings import SQUARE_KEY_ENV, SQUARE_URL_ENV

BURST = 1500
KILL_AFTER_ACKS = 300
IN_FLIGHT = 32


def _serve(home: Path, port: int, url: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "SHELFOPS_HOME": str(home),
        SQUARE_KEY_ENV: SQUARE_KEY,
        SQUARE_URL_ENV: url,
    }
    command = [sys.executable, "-m", "shelfops_pipeline.webhooks", "--port", str(port)]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 405:
                return process
        except httpx.TransportError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("the receiver did not start")


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
    port = free_loopback_port()
    url = f"http://127.0.0.1:{port}/webhooks/square"
    process = _serve(tmp_path, port, url)
    try:
        acknowledged = asyncio.run(_burst(url, messages, process))
    finally:
        process.kill()
        process.wait(timeout=10)
    assert process.returncode == -signal.SIGKILL
    assert KILL_AFTER_ACKS <= len(acknowledged) < len(messages)
    stored = {event.event_id for event in EventQueue(queue_path(tmp_path)).all_events()}
    assert set(acknowledged) <= stored
