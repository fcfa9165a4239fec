"""The webhook sensor: queued events become runs of the warehouse jobs that rewrite the
partitions they touch, through the same idempotent partition writes as the schedules.

Why a partition re-sync rather than patching rows in: a partition file is only ever replaced
whole, by the job that owns it, so an event applied twice, out of order, or alongside the daily
re-sync leaves exactly what the provider reports (Square's order search for the day is the same
call as the schedule's). Events of one tick that touch the same partition share one run.

Each tick: settle the runs requested earlier (success applies their events; failure retries them,
and after MAX_ATTEMPTS sends them to the dead-letter table), read up to MAX_EVENTS_PER_TICK new
events after the cursor (the last queue row id read) plus retries that are due, and request one
run per partition. Run keys name the events and their attempt, so a replayed tick launches
nothing twice while a retry after a failed run does launch.
"""

import hashlib
from collections import defaultdict
from datetime import datetime, timedelta

import dagster as dg

from shelfops_pipeline.warehouse.customers import registered_customers
from shelfops_pipeline.warehouse.jobs import catalog_job, inventory_job, transactions_job
from shelfops_pipeline.warehouse.resources import WarehouseResource
from shelfops_pipeline.webhooks.accounts import AccountDirectory
from shelfops_pipeline.webhooks.planning import (
    PLANNERS,
    Deferred,
    Placement,
    Target,
    Unplaceable,
)
from shelfops_pipeline.webhooks.queue import EventQueue, QueuedEvent, queue_path
from shelfops_pipeline.webhooks.stores import timezone_lookup

MAX_EVENTS_PER_TICK = 1000
MAX_RUNS_SETTLED_PER_TICK = 200
MAX_ATTEMPTS = 5
RETRY_AFTER = timedelta(minutes=2)
SENSOR_INTERVAL_SECONDS = 15
EVENTS_TAG = "shelfops/webhook_events"


def run_key(target: Target, events: list[QueuedEvent]) -> str:
    """Deterministic per partition, event set and attempt."""
    names = sorted(f"{e.provider}:{e.event_id}:{e.attempts}" for e in events)
    digest = hashlib.sha256("\n".join(names).encode()).hexdigest()[:16]
    return f"webhooks:{target.job}:{target.partition_key}:{digest}"


def _settle(
    context: dg.SensorEvaluationContext, queue: EventQueue, now: datetime
) -> tuple[int, int]:
    """Mark the events of finished runs applied or failed; (applied runs, failed runs)."""
    applied = failed = 0
    for key in queue.requested_run_keys(MAX_RUNS_SETTLED_PER_TICK):
        runs = context.instance.get_runs(dg.RunsFilter(tags={"dagster/run_key": key}), limit=1)
        if not runs:
            continue
        run = runs[0]
        if run.status == dg.DagsterRunStatus.SUCCESS:
            queue.mark_applied(key)
            applied += 1
        elif run.status in (dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED):
            events = queue.events_of_run(key)
            reason = f"run {run.run_id} ({run.job_name}) ended {run.status.value}"
            _fail(queue, events, reason, now)
            failed += 1
    return applied, failed


def _fail(queue: EventQueue, events: list[QueuedEvent], reason: str, now: datetime) -> None:
    dead = [e.row for e in events if e.attempts + 1 >= MAX_ATTEMPTS]
    retry = [e.row for e in events if e.attempts + 1 < MAX_ATTEMPTS]
    if dead:
        queue.kill(dead, f"{reason} (after {MAX_ATTEMPTS} attempts)")
    if retry:
        queue.retry_later(retry, reason, now + RETRY_AFTER)


def _cursor_row(cursor: str | None) -> int:
    return int(cursor) if cursor and cursor.isdigit() else 0


def evaluate(
    context: dg.SensorEvaluationContext, warehouse: WarehouseResource
) -> dg.SensorResult | dg.SkipReason:
    path = queue_path(warehouse.home)
    if not path.exists():
        return dg.SkipReason(f"no webhook queue at {path}; `shelfops webhooks serve` creates it")
    queue = EventQueue(path)
    now = warehouse.now()
    applied, failed = _settle(context, queue, now)
    fresh = queue.after(_cursor_row(context.cursor), MAX_EVENTS_PER_TICK)
    due = queue.due(now, MAX_EVENTS_PER_TICK)
    cursor = str(fresh[-1].row) if fresh else context.cursor
    # A fresh event already `requested` was read by a tick whose result Dagster did not keep.
    pending = [*due, *(e for e in fresh if e.state in ("queued", "waiting", "requested"))]
    if not pending:
        return dg.SkipReason(
            f"no new webhook events ({applied} runs applied, {failed} failed since last tick)"
        )
    registered = set(registered_customers(context.instance))
    accounts = AccountDirectory(warehouse.home)
    placement = Placement(now, timezone_lookup(warehouse))
    groups: dict[Target, list[QueuedEvent]] = defaultdict(list)
    for event in pending:
        customer = event.customer_id or accounts.customer(event.provider, event.account)
        try:
            if customer is None:
                raise Unplaceable(f"no active {event.provider} connection for {event.account}")
            if customer not in registered:
                raise Unplaceable(f"customer {customer} is not a `customers` partition yet")
            for target in PLANNERS[event.provider](event, customer, placement):
                groups[target].append(event)
        except Deferred as wait:
            queue.retry_later([event.row], str(wait), wait.until, count_attempt=False)
        except (Unplaceable, ValueError, KeyError) as error:
            _fail(queue, [event], f"{event.topic}: {error}", now)
    requests = []
    for target, events in sorted(groups.items()):
        key = run_key(target, events)
        queue.mark_requested([e.row for e in events], key)
        requests.append(
            dg.RunRequest(
                run_key=key,
                job_name=target.job,
                partition_key=target.partition_key,
                tags={EVENTS_TAG: str(len(events))},
            )
        )
    context.log.info(
        "%d webhook events -> %d runs (%d runs applied, %d failed since last tick)",
        len(pending),
        len(requests),
        applied,
        failed,
    )
    return dg.SensorResult(run_requests=requests, cursor=cursor)


@dg.sensor(
    name="webhook_events_sensor",
    jobs=[transactions_job, inventory_job, catalog_job],
    minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Applies queued Square and Shopify webhooks: re-syncs the sales days, stock hours "
    "and catalog they touch; events that keep failing go to the dead-letter table "
    "(`shelfops webhooks dead-letters`, `replay`).",
)
def webhook_events_sensor(
    context: dg.SensorEvaluationContext, warehouse: WarehouseResource
) -> dg.SensorResult | dg.SkipReason:
    return evaluate(context, warehouse)
