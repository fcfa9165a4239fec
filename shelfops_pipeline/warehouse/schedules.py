"""When the warehouse refreshes: stock every hour, stores, catalog and sales once a day.

Each schedule asks for one run per registered customer (the `customers` partitions), so one
customer's failure never holds up another's. `build_schedule_from_partitioned_job` asks for the
latest window only; the daily sales schedule must also re-sync the two days before it, and every
request needs a customer key, so the run requests are built here.

Daily schedules run at 12:30 UTC: by then the previous UTC calendar day has ended in every time
zone from UTC-12 to UTC+14, so "the previous business day" is complete for every store.
"""

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta

import dagster as dg

from shelfops_pipeline.warehouse.customers import registered_customers
from shelfops_pipeline.warehouse.jobs import (
    catalog_job,
    inventory_job,
    stores_job,
    transactions_job,
)
from shelfops_pipeline.warehouse.partitions import business_days, utc_hours

DAILY_CRON = "30 12 * * *"
STORES_CRON = "15 12 * * *"
HOURLY_CRON = "5 * * * *"
# Square POS orders taken offline reach the API up to 72 hours late: each daily run re-syncs the
# two business days before the previous one, which by then have had their late uploads.
RESYNC_DAYS = 2


def previous_business_day(tick: datetime) -> date:
    return tick.astimezone(UTC).date() - timedelta(days=1)


def transaction_days(tick: datetime) -> list[date]:
    """The previous business day, then the days it re-syncs, newest first."""
    latest = previous_business_day(tick)
    return [latest - timedelta(days=back) for back in range(RESYNC_DAYS + 1)]


def last_complete_hour(tick: datetime) -> datetime:
    """The start of the latest UTC hour that has ended by `tick`: stock is known at its end."""
    return tick.astimezone(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)


def day_key(customer_id: str, day: date) -> dg.MultiPartitionKey:
    return dg.MultiPartitionKey({"customer": customer_id, "date": day.strftime(business_days.fmt)})


def hour_key(customer_id: str, hour: datetime) -> dg.MultiPartitionKey:
    return dg.MultiPartitionKey({"customer": customer_id, "hour": hour.strftime(utc_hours.fmt)})


def _per_customer(
    context: dg.ScheduleEvaluationContext,
    keys: Callable[[str, datetime], Sequence[dg.MultiPartitionKey | str]],
) -> list[dg.RunRequest] | dg.SkipReason:
    """One run request per registered customer and key; run keys are unique within the tick."""
    registered = registered_customers(context.instance)
    if not registered:
        return dg.SkipReason("no customer is registered yet; connect one with `shelfops connect`")
    tick = context.scheduled_execution_time
    return [
        dg.RunRequest(run_key=str(key), partition_key=key)
        for customer in registered
        for key in keys(customer, tick)
    ]


@dg.schedule(
    name="hourly_inventory_schedule",
    cron_schedule=HOURLY_CRON,
    execution_timezone="UTC",
    job=inventory_job,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Five minutes past every hour, each customer's stock at the end of the hour "
    "that just ended.",
)
def hourly_inventory_schedule(
    context: dg.ScheduleEvaluationContext,
) -> list[dg.RunRequest] | dg.SkipReason:
    return _per_customer(
        context, lambda customer, tick: [hour_key(customer, last_complete_hour(tick))]
    )


@dg.schedule(
    name="daily_stores_schedule",
    cron_schedule=STORES_CRON,
    execution_timezone="UTC",
    job=stores_job,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every day, each customer's stores, before the catalog and sales runs.",
)
def daily_stores_schedule(
    context: dg.ScheduleEvaluationContext,
) -> list[dg.RunRequest] | dg.SkipReason:
    return _per_customer(context, lambda customer, tick: [customer])


@dg.schedule(
    name="daily_catalog_schedule",
    cron_schedule=DAILY_CRON,
    execution_timezone="UTC",
    job=catalog_job,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every day, each customer's catalog changes for the previous business day.",
)
def daily_catalog_schedule(
    context: dg.ScheduleEvaluationContext,
) -> list[dg.RunRequest] | dg.SkipReason:
    return _per_customer(
        context, lambda customer, tick: [day_key(customer, previous_business_day(tick))]
    )


@dg.schedule(
    name="daily_transactions_schedule",
    cron_schedule=DAILY_CRON,
    execution_timezone="UTC",
    job=transactions_job,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every day, each customer's sales for the previous business day, and again for "
    f"the {RESYNC_DAYS} days before it (offline orders arrive up to 72 h late).",
)
def daily_transactions_schedule(
    context: dg.ScheduleEvaluationContext,
) -> list[dg.RunRequest] | dg.SkipReason:
    return _per_customer(
        context,
        lambda customer, tick: [day_key(customer, day) for day in transaction_days(tick)],
    )


warehouse_schedules = [
    hourly_inventory_schedule,
    daily_stores_schedule,
    daily_catalog_schedule,
    daily_transactions_schedule,
]
