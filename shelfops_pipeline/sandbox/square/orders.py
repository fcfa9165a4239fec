"""SearchOrders, RetrieveOrder and BatchRetrieveOrders with Square's filter and sort rules."""

from datetime import datetime
from typing import Any

from shelfops_pipeline.sandbox.square import validation
from shelfops_pipeline.sandbox.square.context import SquareCall
from shelfops_pipeline.sandbox.square.cursors import decode_cursor
from shelfops_pipeline.sandbox.square.errors import SquareError
from shelfops_pipeline.sandbox.square.paging import page
from shelfops_pipeline.sandbox.world.entities import Order, Store

ORDER_STATES = frozenset({"OPEN", "COMPLETED", "CANCELED", "DRAFT"})
SORT_FIELDS = {"CREATED_AT": "created_at", "UPDATED_AT": "updated_at", "CLOSED_AT": "closed_at"}
MAX_LOCATIONS = 10
MAX_BATCH_IDS = 100


def _moment(order: Order, field: str, at: datetime) -> datetime | None:
    if field == "created_at":
        return order.created_at
    if field == "updated_at":
        return order.updated_at(at)
    return order.closed_at_as_of(at)


def _date_range(date_filter: dict[str, Any]) -> tuple[str, datetime | None, datetime | None] | None:
    fields = [
        f for f in ("created_at", "updated_at", "closed_at") if date_filter.get(f) is not None
    ]
    if not fields:
        return None
    if len(fields) > 1:
        raise SquareError(
            "BAD_REQUEST",
            "Only one time range may be set in date_time_filter.",
            "query.filter.date_time_filter",
        )
    field = fields[0]
    span = validation.mapping(date_filter, field)
    path = f"query.filter.date_time_filter.{field}"
    start = validation.timestamp(span, "start_at", f"{path}.start_at")
    end = validation.timestamp(span, "end_at", f"{path}.end_at")
    if start and end and end < start:
        raise SquareError("INVALID_TIME_RANGE", "end_at is earlier than start_at.", path)
    return field, start, end


def search_orders(call: SquareCall, body: dict[str, Any]) -> dict[str, Any]:
    location_ids = validation.string_list(body, "location_ids")
    if not location_ids:
        raise SquareError(
            "MISSING_REQUIRED_PARAMETER", "At least one location_id is required.", "location_ids"
        )
    if len(location_ids) > MAX_LOCATIONS:
        raise SquareError(
            "VALUE_TOO_HIGH",
            f"At most {MAX_LOCATIONS} location_ids may be searched at once.",
            "location_ids",
        )
    stores = call.own_stores(location_ids, "location_ids")
    size = validation.limit(body, "limit", default=500, maximum=1000)
    return_entries = validation.boolean(body, "return_entries")
    query = validation.mapping(body, "query")
    order_filter = validation.mapping(query, "filter")
    for unsupported in ("fulfillment_filter", "customer_filter"):
        if order_filter.get(unsupported):
            raise SquareError(
                "BAD_REQUEST", f"The sandbox does not emulate `{unsupported}`.", unsupported
            )
    states = set(
        validation.enum_list(
            validation.mapping(order_filter, "state_filter"), "states", ORDER_STATES
        )
    )
    sources = set(
        validation.string_list(validation.mapping(order_filter, "source_filter"), "source_names")
    )
    date_range = _date_range(validation.mapping(order_filter, "date_time_filter"))
    sort = validation.mapping(query, "sort")
    sort_key = sort.get("sort_field", "CREATED_AT")
    sort_order = sort.get("sort_order", "DESC")
    if sort_key not in SORT_FIELDS or sort_order not in ("ASC", "DESC"):
        raise SquareError("INVALID_ENUM_VALUE", "Unknown sort_field or sort_order.", "query.sort")
    sort_field = SORT_FIELDS[sort_key]
    if date_range and date_range[0] != sort_field:
        raise SquareError(
            "BAD_REQUEST",
            f"sort_field must be {date_range[0].upper()} when date_time_filter.{date_range[0]} is set.",
            "query.sort.sort_field",
        )
    if sort_field == "closed_at" and "OPEN" in states:
        raise SquareError(
            "BAD_REQUEST",
            "Orders cannot be sorted by CLOSED_AT when OPEN orders are included.",
            "query.sort",
        )
    state = decode_cursor(body, validation.cursor(body), call.now)
    at = state.started_at
    field, start, end = date_range or (sort_field, None, None)
    # A range without end_at ends at the first request of this cursor, as Square documents.
    end = min(end or at, at)

    def compute() -> list[Order]:
        matches = _matching(call, stores, at, field, start, end, states, sources)
        matches.sort(key=lambda pair: (pair[0], pair[1].id), reverse=sort_order == "DESC")
        return [o for _, o in matches]

    chunk, next_cursor = page(call.cached("orders", body, state, compute), body, state, size)
    if return_entries:
        reply: dict[str, Any] = {
            "order_entries": [
                {"order_id": o.id, "version": o.version_at(at), "location_id": o.store_id}
                for o in chunk
            ]
        }
    else:
        reply = {"orders": [_order_json(call, o, at) for o in chunk]}
    if next_cursor:
        reply["cursor"] = next_cursor
    return reply


def _matching(
    call: SquareCall,
    stores: list[Store],
    at: datetime,
    field: str,
    start: datetime | None,
    end: datetime,
    states: set[str],
    sources: set[str],
) -> list[tuple[datetime, Order]]:
    found = []
    for store in stores:
        window_start = start or call.world.history_start
        for order in call.world.orders_touching(store.id, window_start, end):
            if not order.visible_at(at):
                continue
            moment = _moment(order, field, at)
            if moment is None or (start and moment < start) or moment > end:
                continue
            if states and order.state_at(at) not in states:
                continue
            if sources and order.source_name not in sources:
                continue
            found.append((moment, order))
    return found


def _order_json(call: SquareCall, order: Order, at: datetime) -> dict[str, Any]:
    store = call.world.store(order.store_id)
    assert store is not None
    return call.serializer.order(order, at, store.tax_percent, store.country)


def retrieve_order(call: SquareCall, order_id: str) -> dict[str, Any]:
    order = call.world.find_order(call.merchant_id, order_id)
    if order is None or not order.visible_at(call.now):
        raise SquareError("NOT_FOUND", f"Order `{order_id}` was not found.", "order_id")
    return {"order": _order_json(call, order, call.now)}


def batch_retrieve_orders(call: SquareCall, body: dict[str, Any]) -> dict[str, Any]:
    if "order_ids" not in body:
        raise SquareError("MISSING_REQUIRED_PARAMETER", "`order_ids` is required.", "order_ids")
    order_ids = validation.string_list(body, "order_ids", max_items=MAX_BATCH_IDS)
    location_id = body.get("location_id")
    if location_id is not None:
        call.own_stores([location_id], "location_id")
    orders = []
    for order_id in order_ids:
        order = call.world.find_order(call.merchant_id, order_id)
        # Unknown ids are silently omitted, as Square does.
        if order is None or not order.visible_at(call.now):
            continue
        if location_id and order.store_id != location_id:
            continue
        orders.append(_order_json(call, order, call.now))
    return {"orders": orders} if orders else {}
