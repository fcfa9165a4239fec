"""`shelfops demo`: start the sandbox and page through one merchant with plain HTTP.

This stands in for the main job until the warehouse exists: it shows what the sandbox serves.
"""

from collections import Counter
from datetime import timedelta
from typing import Any

import click
import httpx

from shelfops_pipeline.sandbox.runner import serve_in_thread
from shelfops_pipeline.sandbox.server import build_sandbox
from shelfops_pipeline.sandbox.settings import SandboxSettings
from shelfops_pipeline.sandbox.timestamps import rfc3339
from shelfops_pipeline.sandbox.world.config import minor_unit_digits
from shelfops_pipeline.sandbox.world.money import to_major


def _pages(
    client: httpx.Client, method: str, path: str, body: dict[str, Any], key: str
) -> tuple[list[Any], int]:
    """Every item under `key` across the pages of one Square list call, and the page count."""
    found: list[Any] = []
    cursor: str | None = None
    pages = 0
    while True:
        if method == "GET":
            reply = client.get(path, params={**body, **({"cursor": cursor} if cursor else {})})
        else:
            reply = client.post(path, json={**body, **({"cursor": cursor} if cursor else {})})
        reply.raise_for_status()
        data = reply.json()
        pages += 1
        found.extend(data.get(key, []))
        cursor = data.get("cursor")
        if not cursor:
            return found, pages


@click.command()
@click.option("--seed", type=int, default=7, show_default=True)
def demo(seed: int) -> None:
    """Serve the sandbox and print one merchant's stores, catalog, stock and last day's sales."""
    built = build_sandbox(SandboxSettings(seed=seed, scale="demo"))
    merchant = built.world.square_merchants[0]
    token = built.tokens.personal_tokens()[merchant]
    with serve_in_thread(built.app) as base_url:
        click.echo(f"sandbox serving at {base_url}/square (seed {seed}, scale demo)")
        headers = {"Authorization": f"Bearer {token}", "Square-Version": "2025-08-20"}
        with httpx.Client(base_url=f"{base_url}/square", headers=headers, timeout=30) as client:
            locations = client.get("/v2/locations").json()["locations"]
            catalog, catalog_pages = _pages(
                client, "GET", "/v2/catalog/list", {"types": "ITEM"}, "objects"
            )
            counts, count_pages = _pages(
                client, "POST", "/v2/inventory/counts/batch-retrieve", {"limit": 100}, "counts"
            )
            end = built.world.now()
            query = {
                "location_ids": [loc["id"] for loc in locations],
                "query": {
                    "filter": {
                        "date_time_filter": {
                            "closed_at": {
                                "start_at": rfc3339(end - timedelta(days=1)),
                                "end_at": rfc3339(end),
                            }
                        }
                    },
                    "sort": {"sort_field": "CLOSED_AT", "sort_order": "ASC"},
                },
                "limit": 25,
            }
            orders, order_pages = _pages(client, "POST", "/v2/orders/search", query, "orders")
    customer = built.world.customer_of_merchant(merchant)
    click.echo(f"merchant {merchant} ({customer.name})")
    for loc in locations:
        click.echo(
            f"  store      {loc['id']}  {loc['name']} ({loc['timezone']}, {loc['currency']})"
        )
    variations = sum(len(o["item_data"]["variations"]) for o in catalog)
    click.echo(
        f"  catalog    {len(catalog)} items, {variations} variations in {catalog_pages} page(s)"
    )
    click.echo(f"  inventory  {len(counts)} stock counts in {count_pages} page(s)")
    states = Counter(o["state"].lower() for o in orders)
    lines = sum(len(o.get("line_items", [])) for o in orders)
    click.echo(
        f"  orders     {len(orders)} closed in the last 24 h ({', '.join(f'{n} {s}' for s, n in states.items())}),"
        f" {lines} lines in {order_pages} page(s)"
    )
    totals: Counter[str] = Counter()
    for order in orders:
        if order["state"] == "COMPLETED":
            totals[order["total_money"]["currency"]] += order["total_money"]["amount"]
    for currency, minor in totals.items():
        amount = to_major(minor, minor_unit_digits(currency))
        click.echo(f"  sales      {currency} {amount:,} completed, tax included")
