"""`shelfops sandbox serve` and `tokens` work as a user runs them: a real process on loopback."""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from click.testing import CliRunner

from shelfops_pipeline.cli import cli
from shelfops_pipeline.sandbox.runner import free_loopback_port

SHELFOPS = str(Path(sys.executable).parent / "shelfops")
WORLD = ["--seed", "5", "--scale", "small", "--now", "2026-11-05T18:30:00Z"]


def test_serve_starts_quickly_and_answers_with_the_listed_tokens() -> None:
    listing = json.loads(CliRunner().invoke(cli, ["sandbox", "tokens", *WORLD]).output)
    merchant = listing["merchants"][0]
    port = free_loopback_port()
    started = time.monotonic()
    process = subprocess.Popen(
        [SHELFOPS, "sandbox", "serve", "--port", str(port), *WORLD, "--log-level", "warning"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        reply = None
        while time.monotonic() - started < 30:
            try:
                reply = httpx.get(
                    f"http://127.0.0.1:{port}/square/v2/locations",
                    headers={"Authorization": f"Bearer {merchant['access_token']}"},
                )
                break
            except httpx.ConnectError:
                time.sleep(0.05)
        assert reply is not None and reply.status_code == 200
        assert [loc["id"] for loc in reply.json()["locations"]] == merchant["location_ids"]
        described = httpx.get(f"http://127.0.0.1:{port}/_sandbox/world").json()
        assert (described["seed"], described["scale"], described["clock"]) == (5, "small", "frozen")
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=15)
    assert f"Square API at http://127.0.0.1:{port}/square/v2/" in output
    assert merchant["access_token"] not in output


def test_tokens_lists_the_app_and_one_token_per_merchant() -> None:
    listing = json.loads(CliRunner().invoke(cli, ["sandbox", "tokens", *WORLD]).output)
    again = json.loads(CliRunner().invoke(cli, ["sandbox", "tokens", *WORLD]).output)
    assert listing == again
    assert listing["application"]["client_id"].startswith("sandbox-sq0idb-")
    assert len({m["access_token"] for m in listing["merchants"]}) == len(listing["merchants"]) == 3


def test_bad_fault_text_is_a_one_line_usage_error() -> None:
    result = CliRunner().invoke(cli, ["sandbox", "serve", "--fault", "503=lots"])
    assert result.exit_code == 2
    assert "503=lots" in result.output and "Traceback" not in result.output
