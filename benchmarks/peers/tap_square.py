"""tap-square 2.3.1, unchanged, syncing the busy world's Square merchant's orders.

The tap insists on an OAuth app and a refresh token, so the merchant is authorized through the
sandbox's OAuth pages first (scripted approval), as a user would before a first run. A 3-line
launcher points the Square SDK at the sandbox. Only the `orders` stream is selected, from the
start of the first benchmarked day; the tap also reads the merchant's locations by itself.
"""

import json
import os
from datetime import date, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlparse

import httpx

from benchmarks.busy_world import BusyWorld, day_start
from benchmarks.peers.install import PeerEnv
from benchmarks.peers.singer import PeerRun, copy_template, read_records, timed_tap
from benchmarks.truth import tap_square

REQUIREMENT = "tap-square==2.3.1"
NAME = "tap-square 2.3.1"
SCOPES = "MERCHANT_PROFILE_READ ITEMS_READ INVENTORY_READ ORDERS_READ PAYMENTS_READ"
REDIRECT = "http://127.0.0.1/callback"


def _authorized_config(world: BusyWorld, start: datetime) -> dict[str, str]:
    """Authorize the merchant for the sandbox's OAuth app; the tap's config, with its tokens."""
    app = world.sandbox.tokens.application
    base = f"{world.base_url}/square/oauth2"
    query = urlencode({
        "client_id": app.client_id, "scope": SCOPES, "state": "bench", "redirect_uri": REDIRECT,
        "merchant_id": world.square_merchant, "approve": "true",
    })  # fmt: skip
    with httpx.Client(timeout=30, trust_env=False) as client:
        approved = client.get(f"{base}/authorize?{query}")
        location = approved.headers.get("location", "")
        code = parse_qs(urlparse(location).query).get("code", [""])[0]
        if not code:
            raise RuntimeError(
                f"the sandbox's authorize page gave no code ({approved.status_code})"
            )
        body = {"client_id": app.client_id, "client_secret": app.client_secret,
                "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}  # fmt: skip
        token = client.post(f"{base}/token", json=body).raise_for_status().json()
    return {
        "client_id": app.client_id,
        "client_secret": app.client_secret,
        "refresh_token": token["refresh_token"],
        "access_token": token["access_token"],
        "sandbox": "false",
        "start_date": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def run(
    peer: PeerEnv,
    world: BusyWorld,
    folder: Path,
    limits: str,
    days: list[date],
    truth: list[dict[str, str]],
) -> PeerRun:
    """One timed sync of the merchant's orders; its requests come from the sandbox's log."""
    folder.mkdir(parents=True, exist_ok=True)
    start = day_start(days[0], *world.zones("square"))
    config = folder / "config.json"
    config.write_text(json.dumps(_authorized_config(world, start), indent=1))
    launcher = copy_template("square_launcher.py", folder / "run_tap_square.py")
    selector = copy_template("square_select.py", folder / "select_streams.py")
    env = {**os.environ, "SQUARE_SANDBOX_BASE": f"{world.base_url}/square"}
    python = str(peer.python)
    catalog = folder / "catalog.json"
    found, _ = timed_tap([python, str(launcher), "--config", str(config), "--discover"], env,
                         folder, "discover")  # fmt: skip
    if not found.ok:
        return PeerRun(NAME, limits, reason=f"discovery failed: {found.output_tail[-300:]}")
    (folder / "discover.jsonl").replace(catalog)
    selected, _ = timed_tap([python, str(selector), str(catalog), "orders"], env, folder, "select")
    if not selected.ok:
        return PeerRun(NAME, limits, reason=f"selecting streams failed: {selected.output_tail}")
    mark = world.log.mark()
    child, out = timed_tap(
        [python, str(launcher), "--config", str(config), "--catalog", str(catalog)], env, folder,
        "sync",
    )  # fmt: skip
    result = PeerRun(NAME, limits, child=child, window=world.log.since(mark))
    if child.ok:
        counts, orders = read_records(out, "orders")
        result.records = dict(counts)
        result.line_items = sum(
            len(o.get("line_items") or [])
            + sum(len(r.get("return_line_items") or []) for r in o.get("returns") or [])
            for o in orders
        )
        result.match = tap_square(orders, truth)
    result.notes = {"start_date": start.isoformat(), "streams": ["orders"]}
    return result
