"""tap-shopify 3.13.0, unchanged, syncing the busy world's Shopify-only shop's orders.

The tap builds `https://{shop}.myshopify.com` itself, so it reaches the sandbox by name: a
generated `sitecustomize.py` resolves `*.myshopify.com` to the sandbox's TLS port, whose
certificate chains to a throwaway CA the tap trusts through SSL_CERT_FILE (urllib) and
REQUESTS_CA_BUNDLE (requests). It reads orders with one bulk operation per date window (one
window here: `date_window_size` 365), polling it every 60 s: that interval is its fixed cost.
Only `orders` is selected, with every field the sandbox's schema can serve.
"""

import json
import os
from datetime import date
from pathlib import Path

from benchmarks.busy_world import BusyWorld, day_start
from benchmarks.peers.install import PeerEnv
from benchmarks.peers.singer import PeerRun, copy_template, read_records, timed_tap
from benchmarks.truth import tap_shopify
from shelfops_pipeline.sandbox.shopify import schema as sandbox_schema

REQUIREMENT = "tap-shopify==3.13.0"
NAME = "tap-shopify 3.13.0"
WINDOW_DAYS = 365
SCHEMA_FILE = Path(sandbox_schema.__file__).with_name("schema.graphql")


def run(
    peer: PeerEnv,
    world: BusyWorld,
    folder: Path,
    limits: str,
    days: list[date],
    truth: list[dict[str, str]],
) -> PeerRun:
    """One timed sync of the shop's orders; its requests come from the sandbox's log."""
    if world.served.tls_port is None or world.served.ca_file is None:
        raise RuntimeError("tap-shopify needs the sandbox served over TLS")
    folder.mkdir(parents=True, exist_ok=True)
    start = day_start(days[0], *world.zones("shopify"))
    config = folder / "config.json"
    config.write_text(
        json.dumps(
            {
                "shop": world.shop.handle,
                "access_token": world.shopify_token(),
                "start_date": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "date_window_size": WINDOW_DAYS,
            }
        )
    )
    copy_template("myshopify_resolver.py", folder / "site" / "sitecustomize.py")
    selector = copy_template("shopify_select.py", folder / "select_streams.py")
    ca = str(world.served.ca_file)
    env = {
        **os.environ,
        "PYTHONPATH": str(folder / "site"),
        "SANDBOX_TLS_PORT": str(world.served.tls_port),
        "SSL_CERT_FILE": ca,
        "REQUESTS_CA_BUNDLE": ca,
    }
    tap = str(peer.script("tap-shopify"))
    catalog = folder / "catalog.json"
    found, _ = timed_tap([tap, "--config", str(config), "--discover"], env, folder, "discover")
    if not found.ok:
        return PeerRun(NAME, limits, reason=f"discovery failed: {found.output_tail[-300:]}")
    (folder / "discover.jsonl").replace(catalog)
    selected, picked = timed_tap(
        [str(peer.python), str(selector), str(catalog), str(SCHEMA_FILE), "orders"], env, folder,
        "select",
    )  # fmt: skip
    if not selected.ok:
        return PeerRun(NAME, limits, reason=f"selecting fields failed: {selected.output_tail}")
    left_out = json.loads(picked.read_text() or "{}")
    mark = world.log.mark()
    child, out = timed_tap([tap, "--config", str(config), "--catalog", str(catalog)], env,
                           folder, "sync")  # fmt: skip
    result = PeerRun(NAME, limits, child=child, window=world.log.since(mark))
    if child.ok:
        counts, orders = read_records(out, "orders")
        result.records = dict(counts)
        result.line_items = sum(1 for o in orders for item in o.get("lineItems") or [] if item)
        result.match = tap_shopify(orders, truth)
    result.notes = {
        "start_date": start.isoformat(),
        "streams": ["orders"],
        "fields_left_out": len(left_out.get("orders", [])),
        "line_items_selected": "lineItems" not in left_out.get("orders", []),
        "longest_idle_s": round(result.longest_idle_seconds(), 1),
    }
    return result
