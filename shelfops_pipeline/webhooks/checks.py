"""Reconciliation of webhooks with `transactions`; the daily re-sync stays the source of truth.

`transactions_webhooks_reconciled` (per customer and day, WARN): orders a webhook announced with
lines on that day (Square: completed; Shopify: paid and live, or refunded) that the partition
lacks, and orders in the partition that no webhook announced although their lines fell after the
first webhook from that customer arrived.
`transactions_webhook_dead_letters` (WARN): events that failed too often, with their reasons.
"""

import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import dagster as dg

from shelfops_pipeline.warehouse.checks import TRANSACTIONS
from shelfops_pipeline.warehouse.partitions import CustomerDay, customer_day, customer_days
from shelfops_pipeline.warehouse.resources import WarehouseResource
from shelfops_pipeline.webhooks.planning import (
    Placement,
    Unplaceable,
    shopify_sale_days,
    square_sale_days,
)
from shelfops_pipeline.webhooks.queue import EventQueue, QueuedEvent, queue_path
from shelfops_pipeline.webhooks.stores import timezone_lookup

EXAMPLES = 5
# An event not applied yet counts as missing once it is this old (the sensor's runs are done).
APPLY_GRACE = timedelta(minutes=10)


def _examples(values: Iterable[str]) -> str:
    return ", ".join(sorted(values)[:EXAMPLES])


def _announced(
    events: Iterable[QueuedEvent], day: CustomerDay, placement: Placement
) -> tuple[set[str], set[str]]:
    """(every order id the customer's sales events named, those with lines on `day`)."""
    named: set[str] = set()
    completed: set[str] = set()
    for event in events:
        if event.kind != "sales":
            continue
        try:
            body = json.loads(event.body)
            if event.provider == "square":
                order_id, days, done = square_sale_days(body, day.customer_id, placement)
            else:
                order_id, days, done = shopify_sale_days(body, event.topic)
        except (Unplaceable, ValueError):
            continue
        named.add(order_id)
        if done and day.day in days:
            completed.add(order_id)
    return named, completed


def reconcile(
    warehouse: WarehouseResource, day: CustomerDay, run_key: str | None = None
) -> dg.AssetCheckResult:
    """`run_key`: the events this run applies count as applied."""
    path = queue_path(warehouse.home)
    table = warehouse.read("transactions", day.lake_partition)
    if not path.exists() or table is None:
        return dg.AssetCheckResult(passed=True, metadata={"events": 0})
    events = [e for e in EventQueue(path).all_events() if e.customer_id == day.customer_id]
    if not events:
        return dg.AssetCheckResult(passed=True, metadata={"events": 0})
    placement = Placement(warehouse.now(), timezone_lookup(warehouse))
    due_before = datetime.now(UTC) - APPLY_GRACE
    settled = [
        e
        for e in events
        if e.state in ("applied", "dead")
        or (run_key is not None and e.run_key == run_key)
        or e.received_at < due_before
    ]
    named, _ = _announced(events, day, placement)
    _, completed = _announced(settled, day, placement)
    first: datetime = min(e.received_at for e in events)
    present: dict[str, datetime] = {}
    for order_id, at in zip(
        table.column("order_id").to_pylist(), table.column("occurred_at").to_pylist(), strict=True
    ):
        present[order_id] = min(at, present.get(order_id, at))
    unreflected = completed - present.keys()
    unannounced = {o for o, at in present.items() if at >= first and o not in named}
    return dg.AssetCheckResult(
        passed=not unreflected and not unannounced,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "events": len(events),
            "announced_completed": len(completed),
            "received_not_reflected": len(unreflected),
            "received_not_reflected_examples": _examples(unreflected),
            "present_never_announced": len(unannounced),
            "present_never_announced_examples": _examples(unannounced),
            "webhooks_since": first.isoformat(),
        },
    )


@dg.asset_check(
    asset=TRANSACTIONS,
    partitions_def=customer_days,
    description="Orders announced by webhooks are in the day, and the day's orders since the "
    "first webhook were announced.",
)
def transactions_webhooks_reconciled(
    context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
) -> dg.AssetCheckResult:
    run_key = context.run.tags.get("dagster/run_key")
    return reconcile(warehouse, customer_day(context.partition_key), run_key)


@dg.asset_check(
    asset=TRANSACTIONS,
    description="Webhook events that failed too often to apply (`shelfops webhooks replay`).",
)
def transactions_webhook_dead_letters(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    path = queue_path(warehouse.home)
    letters = EventQueue(path).dead_letters() if path.exists() else []
    return dg.AssetCheckResult(
        passed=not letters,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "dead_letters": len(letters),
            "examples": "; ".join(
                f"{d.provider} {d.event_id} ({d.topic}): {d.reason}" for d in letters[:EXAMPLES]
            ),
        },
    )


webhook_checks = [transactions_webhooks_reconciled, transactions_webhook_dead_letters]
