"""The measures of one client against one limit or one process: sandbox start-up, rate-limit
efficiency (Square paging, Shopify GraphQL paging, Shopify bulk export), a warehouse day's peak
memory at two scales, and the webhook receiver. Each returns `Measure`s for the results file."""

import statistics
from datetime import UTC, datetime

from benchmarks import busy_world, rate_limit, shopify_pacing, warehouse_day, webhooks
from benchmarks.results import Measure, at_least, at_most
from benchmarks.sandbox_startup import measure_scale

STARTUP_SCALES = ("small", "large")
STARTUP_REPEAT = 3
SEED = 7
FROZEN_NOW = datetime(2026, 11, 5, 18, 30, tzinfo=UTC)
SQUARE_BUDGET_PER_SECOND = 20.0
EFFICIENCY_BOUND = 1.05
THROTTLED_BOUND = 0.01


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _throttled(name: str, throttled: int, requests: int) -> Measure:
    share = _share(throttled, requests)
    return Measure(
        name,
        share,
        "share of replies",
        goal="<= 1%",
        met=at_most(share, THROTTLED_BOUND),
        details={"throttled": throttled, "requests": requests},
    )


def _efficiency(
    name: str, seconds: float, floor: float, floor_text: str, note: str = "", **details: object
) -> Measure:
    ratio = seconds / floor if floor else None
    return Measure(
        name,
        seconds,
        "s",
        f"rate-limit floor: {floor_text}",
        floor,
        goal="ratio <= 1.05",
        met=at_most(ratio, EFFICIENCY_BOUND),
        note=note,
        details=dict(details),
    )


def startup() -> list[Measure]:
    measures = []
    for scale in STARTUP_SCALES:
        figures = measure_scale(scale, SEED, FROZEN_NOW, STARTUP_REPEAT)
        measures.append(
            Measure(
                f"sandbox.startup.{scale}",
                figures.startup_seconds,
                "s",
                "bound",
                figures.bound_seconds,
                goal="<= 5 s",
                met=figures.within_bound,
                note=f"median of {STARTUP_REPEAT} starts",
                details={
                    "samples": figures.startup_samples,
                    "pages": figures.pages,
                    "orders": figures.orders.objects,
                    "lines": figures.orders.line_items,
                    "ready_rss_mb": figures.ready_rss_mb,
                    "peak_rss_mb": figures.peak_rss_mb,
                },
            )
        )
    return measures


def square_rate_limit() -> list[Measure]:
    rate = rate_limit.measure_rate_limit(SQUARE_BUDGET_PER_SECOND, SEED)
    floor_text = f"{rate.requests} requests at {SQUARE_BUDGET_PER_SECOND:g}/s"
    return [
        _efficiency(
            "square.paging.wall_over_floor",
            rate.seconds,
            rate.bound_seconds,
            floor_text,
            requests=rate.requests,
        ),
        _throttled("square.paging.throttled", rate.throttled, rate.requests),
    ]


def shopify_paging() -> list[Measure]:
    pacing = shopify_pacing.measure_pacing(SEED)
    floor_text = (
        f"({pacing.charged_cost:g} points - {pacing.initial_bucket:g} in the bucket) / "
        f"{pacing.restore_rate:g}/s"
    )
    return [
        _efficiency(
            "shopify.graphql_paging.wall_over_floor",
            pacing.seconds,
            pacing.bound_seconds,
            floor_text,
            orders=pacing.orders,
            requests=pacing.requests,
            points_requested=pacing.requested_cost,
            points_charged=pacing.charged_cost,
        ),
        _throttled("shopify.graphql_paging.throttled", pacing.throttled, pacing.requests),
    ]


def shopify_bulk() -> list[Measure]:
    with busy_world.busy_world(busy_world.STANDARD_LIMITS) as world:
        bulk = shopify_pacing.measure_bulk(world)
    floor_text = f"{bulk.objects} objects at {bulk.objects_per_second:g}/s (sandbox's bulk pace)"
    phases = bulk.phases.as_details(bulk.seconds) if bulk.phases else {}
    return [
        _efficiency(
            "shopify.bulk_export.wall_over_floor",
            bulk.seconds,
            bulk.floor_seconds,
            floor_text,
            note="wall: start, poll, then download, store, reassemble and fetch refund lines; "
            "floor: the sandbox writing the file at its pace, nothing else (details split the "
            "rest: poll_overshoot_s, after_completion_s)",
            orders=bulk.orders,
            requests=bulk.requests,
            **phases,
        ),
        _throttled("shopify.bulk_export.throttled", bulk.throttled, bulk.requests),
    ]


def memory_small_large() -> list[Measure]:
    small, large = warehouse_day.measure_warehouse_days()

    def details(day: warehouse_day.DayFigures) -> dict[str, object]:
        return {
            "day": day.day,
            "customers": day.customers,
            "lines": day.lines,
            "seconds": day.seconds,
            "baseline_rss_mb": day.baseline_rss_mb,
        }

    growth = large.peak_rss_mb / small.peak_rss_mb
    return [
        Measure(
            "warehouse_day.peak_memory.small",
            small.peak_rss_mb,
            "MB",
            note="shelfops sync: stores, catalog, one day; Square; limits off",
            details=details(small),
        ),
        Measure(
            "warehouse_day.peak_memory.large",
            large.peak_rss_mb,
            "MB",
            "small's peak",
            small.peak_rss_mb,
            goal="ratio < 2",
            met=growth < warehouse_day.PEAK_RATIO_BOUND,
            note=f"lines x{large.lines / max(1, small.lines):.0f}",
            details=details(large),
        ),
    ]


def receiver() -> list[Measure]:
    burst = webhooks.measure_throughput()
    rate = burst.events / burst.seconds
    p99 = webhooks.percentile(burst.latencies, 0.99) * 1000
    delivery = webhooks.measure_delivery_to_row()
    load = {
        "events": burst.events,
        "in_flight": webhooks.IN_FLIGHT,
        "receiver_cpu_ms_per_event": burst.receiver_cpu_seconds / burst.events * 1000,
    }
    return [
        Measure(
            "webhooks.acknowledged_per_second",
            rate,
            "events/s",
            "goal",
            webhooks.GOAL_EVENTS_PER_SECOND,
            goal=f">= {webhooks.GOAL_EVENTS_PER_SECOND:g}",
            met=at_least(rate, webhooks.GOAL_EVENTS_PER_SECOND),
            note="durable commits; load generator and receiver in separate processes",
            details=load,
        ),
        Measure("webhooks.ack_latency.p50", statistics.median(burst.latencies) * 1000, "ms"),
        Measure(
            "webhooks.ack_latency.p99",
            p99,
            "ms",
            "goal",
            webhooks.GOAL_P99_MS,
            goal="< 100 ms",
            met=p99 < webhooks.GOAL_P99_MS,
        ),
        Measure(
            "webhooks.delivery_to_row",
            delivery,
            "s",
            "goal",
            webhooks.GOAL_DELIVERY_TO_ROW_SECONDS,
            goal="< 60 s",
            met=delivery < webhooks.GOAL_DELIVERY_TO_ROW_SECONDS,
            note=f"worst case: the sensor ticks a full {webhooks.SENSOR_INTERVAL_SECONDS} s later",
        ),
    ]
