"""The webhook receiver as an operator runs it: `python -m shelfops_pipeline.webhooks` in a process
of its own on a loopback port, with the test's Square key and Shopify secret in its environment
and its log in a file."""

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from webhook_helpers import SHOPIFY_SECRET, SQUARE_KEY

from shelfops_pipeline.sandbox.runner import free_loopback_port
from shelfops_pipeline.webhooks.queue import EventQueue, queue_path
from shelfops_pipeline.webhooks.settings import SHOPIFY_SECRET_ENV, SQUARE_KEY_ENV, SQUARE_URL_ENV

STARTUP_SECONDS = 30.0
STOP_SECONDS = 15.0
LOG_FILE = "receiver.log"


@dataclass(frozen=True)
class ReceiverProcess:
    """A running receiver: where it listens, its process, and its data directory."""

    base_url: str
    process: "subprocess.Popen[bytes]"
    home: Path

    @property
    def square_url(self) -> str:
        return f"{self.base_url}/webhooks/square"

    def url(self, provider: str) -> str:
        return f"{self.base_url}/webhooks/{provider}"

    @property
    def queue(self) -> EventQueue:
        return EventQueue(queue_path(self.home))

    def log(self) -> str:
        return (self.home / LOG_FILE).read_text(errors="replace")

    def alive(self) -> bool:
        return self.process.poll() is None


def _wait_until_listening(process: "subprocess.Popen[bytes]", probe_url: str) -> None:
    """Until a GET on the Square route answers 405 (it only takes POST)."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(probe_url, timeout=1, trust_env=False).status_code == 405:
                return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError(f"the receiver did not start (exit code {process.poll()})")


@contextmanager
def receiver_process(home: Path) -> Iterator[ReceiverProcess]:
    """Serve the receiver over `home` until the block ends, then stop it with SIGTERM."""
    port = free_loopback_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "SHELFOPS_HOME": str(home),
        SQUARE_KEY_ENV: SQUARE_KEY,
        SQUARE_URL_ENV: f"{base_url}/webhooks/square",
        SHOPIFY_SECRET_ENV: SHOPIFY_SECRET,
    }
    command = [sys.executable, "-m", "shelfops_pipeline.webhooks", "--port", str(port)]
    with (home / LOG_FILE).open("wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_until_listening(process, f"{base_url}/webhooks/square")
        yield ReceiverProcess(base_url, process, home)
    finally:
        process.terminate()
        try:
            process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_SECONDS)
