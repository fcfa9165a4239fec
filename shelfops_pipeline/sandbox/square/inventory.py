"""BatchRetrieveInventoryCounts and BatchRetrieveInventoryChanges over the hourly stock curves."""

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from shelfops_pipeline.sandbox.square import validation
from shelfops_pipeline.sandbox.square.context import SquareCall
from shelfops_pipeline.sandbox.square.cursors import decode_cursor
from shelfops_pipeline.sandbox.square.errors import SquareError
from shelfops_pipeline.sandbox.square.paging import page
from shelfops_pipeline.sandbox.world.entities import Item, Store, Variation
from shelfops_pipeline.sandbox.world.inventory import StockCurve

COUNT_STATES = frozenset({"IN_STOCK", "SOLD", "RETURNED_BY_CUSTOMER", "RESERVED_FOR_SALE", "SOLD_ONLINE", "ORDERED_FROM_VENDOR", "RECEIVED_FROM_VENDOR", "IN_TRANSIT_TO", "NONE", "WASTE", "UNLINKED_RETURN", "COMPOSED", "DECOMPOSED", "SUPPORTED_BY_NEWER_VERSION", "IN_TRANSIT"})  # fmt: skip
CHANGE_TYPES = frozenset({"PHYSICAL_COUNT", "ADJUSTMENT", "TRANSFER"})
# Stock tracking began with a physical count one day before the history: changes start there.
TRACKING_LEAD = timedelta(days=1)


def _tracked(
    call: SquareCall, body: dict[str, Any], at: datetime
) -> Iterator[tuple[Variation, Store, StockCurve]]:
    location_ids = validation.string_list(body, "location_ids")
    stores = call.own_stores(location_ids, "location_ids") if location_ids else call.stores()
    wanted = set(validation.string_list(body, "catalog_object_ids"))
    items: list[Item] = [i for i in call.world.items(call.merchant_id) if i.exists_at(at)]
    for item in items:
        for variation in item.variations:
            if wanted and variation.id not in wanted:
                continue
            for store in stores:
                yield (
                    variation,
                    store,
                    call.world.stock(variation.id, store.id, variation.sold_by_weight),
                )


def batch_retrieve_counts(call: SquareCall, body: dict[str, Any]) -> dict[str, Any]:
    states = validation.enum_list(body, "states", COUNT_STATES)
    size = validation.limit(body, "limit", default=1000, maximum=1000)
    updated_after = validation.timestamp(body, "updated_after")
    state = decode_cursor(body, validation.cursor(body), call.now)
    at = state.started_at
    counts = []
    if not states or "IN_STOCK" in states:
        for variation, store, curve in _tracked(call, body, at):
            count = call.serializer.count(
                variation.id, store.id, curve, at, variation.sold_by_weight
            )
            changed = curve.changed_at(curve.last_change_hour(curve.hour_of(at)))
            if updated_after is None or changed > updated_after:
                counts.append((changed, count))
    counts.sort(
        key=lambda pair: (pair[0], pair[1]["catalog_object_id"], pair[1]["location_id"]),
        reverse=True,
    )
    chunk, next_cursor = page([c for _, c in counts], body, state, size)
    reply: dict[str, Any] = {"counts": list(chunk)} if chunk else {}
    if next_cursor:
        reply["cursor"] = next_cursor
    return reply


def batch_retrieve_changes(call: SquareCall, body: dict[str, Any]) -> dict[str, Any]:
    types = set(validation.enum_list(body, "types", CHANGE_TYPES)) or CHANGE_TYPES
    states = set(validation.enum_list(body, "states", COUNT_STATES))
    size = validation.limit(body, "limit", default=100, maximum=1000)
    state = decode_cursor(body, validation.cursor(body), call.now)
    tracking_start = call.world.history_start - TRACKING_LEAD
    after = validation.timestamp(body, "updated_after")
    before = min(validation.timestamp(body, "updated_before") or state.started_at, state.started_at)
    if after is not None and before < after:
        raise SquareError(
            "INVALID_TIME_RANGE",
            "`updated_before` is earlier than `updated_after`.",
            "updated_before",
        )

    def compute() -> list[dict[str, Any]]:
        changes: list[tuple[datetime, str, dict[str, Any]]] = []
        wants_in_stock = not states or "IN_STOCK" in states or "SOLD" in states or "NONE" in states
        for variation, store, curve in _tracked(call, body, state.started_at):
            weighted = variation.sold_by_weight
            first_hour = curve.hour_of(tracking_start)
            first_change = curve.changed_at(first_hour)
            counted = (after is None or after < first_change) and first_change <= before
            if "PHYSICAL_COUNT" in types and counted:
                entry = call.serializer.physical_count(
                    variation.id, store.id, curve, first_hour, weighted
                )
                changes.append((first_change, entry["physical_count"]["id"], entry))
            if "ADJUSTMENT" not in types or not wants_in_stock:
                continue
            for hour, delta in curve.changes_between(
                max(after or first_change, first_change), before
            ):
                entry = call.serializer.adjustment(
                    variation.id, store.id, curve, hour, delta, weighted
                )
                changes.append((curve.changed_at(hour), entry["adjustment"]["id"], entry))
        changes.sort(key=lambda c: (c[0], c[1]))
        return [c for _, _, c in changes]

    results = call.cached("inventory-changes", body, state, compute)
    chunk, next_cursor = page(results, body, state, size)
    reply: dict[str, Any] = {"changes": list(chunk)} if chunk else {}
    if next_cursor:
        reply["cursor"] = next_cursor
    return reply
