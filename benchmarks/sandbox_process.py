"""One `shelfops sandbox serve` subprocess: spawned, timed until it answers, measured, stopped."""

import json
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

from shelfops_pipeline.sandbox.runner import free_loopback_port

SQUARE_VERSION = "2025-08-20"
POLL_SECONDS = 0.02
READY_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 10.0
TOKENS_TIMEOUT_SECONDS = 60.0


class SandboxFailure(RuntimeError):
    """The sandbox could not be started, listed or stopped as the benchmark needs."""


@dataclass(frozen=True)
class World:
    """The options that pick one sandbox world; serve and tokens must be given the same."""

    scale: str
    seed: int
    now: str

    def options(self) -> list[str]:
        return ["--scale", self.scale, "--seed", str(self.seed), "--now", self.now]


@dataclass(frozen=True)
class Merchant:
    merchant_id: str
    access_token: str
    location_ids: tuple[str, ...]


@dataclass(frozen=True)
class RunningSandbox:
    pid: int
    base_url: str
    startup_seconds: float

    def peak_rss_bytes(self) -> int:
        """The server's high-water resident set size, from /proc (Linux only)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        raise SandboxFailure(f"/proc/{self.pid}/status has no VmHWM line")


def shelfops_command() -> Path:
    """The `shelfops` console script installed next to the running interpreter."""
    script = Path(sys.executable).parent / "shelfops"
    if not script.is_file():
        raise SandboxFailure(f"{script} is missing; run `make venv` first")
    return script


def first_merchant(world: World) -> Merchant:
    """The first Square merchant's personal access token, from `shelfops sandbox tokens`."""
    done = subprocess.run(
        [str(shelfops_command()), "sandbox", "tokens", *world.options()],
        capture_output=True,
        text=True,
        timeout=TOKENS_TIMEOUT_SECONDS,
        check=False,
    )
    if done.returncode != 0:
        raise SandboxFailure(f"`shelfops sandbox tokens` failed: {_last_line(done.stderr)}")
    merchant = json.loads(done.stdout)["merchants"][0]
    return Merchant(
        merchant["merchant_id"], merchant["access_token"], tuple(merchant["location_ids"])
    )


def square_client(base_url: str, token: str, timeout: float) -> httpx.Client:
    """A client for the sandbox's Square API; trust_env=False keeps proxies off loopback calls."""
    return httpx.Client(
        base_url=f"{base_url}/square",
        headers={"Authorization": f"Bearer {token}", "Square-Version": SQUARE_VERSION},
        timeout=timeout,
        trust_env=False,
    )


@contextmanager
def running_sandbox(world: World, token: str) -> Iterator[RunningSandbox]:
    """Serve `world` on a free loopback port until the block ends; always stops the process."""
    port = free_loopback_port()
    base_url = f"http://127.0.0.1:{port}"
    command = [str(shelfops_command()), "sandbox", "serve", "--port", str(port), *world.options()]
    with tempfile.TemporaryFile("w+") as log:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, text=True)
        try:
            _wait_until_ready(process, base_url, token, log)
            yield RunningSandbox(process.pid, base_url, time.perf_counter() - started)
        finally:
            _stop(process)


def _wait_until_ready(
    process: subprocess.Popen[str], base_url: str, token: str, log: IO[str]
) -> None:
    deadline = time.perf_counter() + READY_TIMEOUT_SECONDS
    with square_client(base_url, token, timeout=READY_TIMEOUT_SECONDS) as client:
        while time.perf_counter() < deadline:
            if process.poll() is not None:
                log.seek(0)
                raise SandboxFailure(
                    f"the sandbox exited with {process.returncode}: {_last_line(log.read())}"
                )
            try:
                reply = client.get("/v2/locations")
            except httpx.TransportError:
                time.sleep(POLL_SECONDS)
                continue
            if reply.status_code != 200:
                raise SandboxFailure(f"GET /v2/locations answered {reply.status_code}")
            return
    raise SandboxFailure(f"the sandbox did not answer within {READY_TIMEOUT_SECONDS:.0f} s")


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT_SECONDS)


def _last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"
