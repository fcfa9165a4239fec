"""Bad input, Square: orders, catalog items, stock counts and changes and locations, each valid
or broken in one place (a field missing, of the wrong type, an unknown enum value, a huge or
over-precise number, odd unicode, a time without zone), parsed and mapped as the syncs do.

Each either maps to exactly the rows the payload specifies (`square_payloads.expected_*`: ids,
currency and every amount as exact decimals, which makes every sum exact too) and those rows
store in the warehouse's Arrow schema unchanged, or raises `MalformedRecord` naming the field
that was broken. Nothing else: no bare KeyError or TypeError, no rows the payload does not say.
"""

from typing import Any

import pyarrow as pa
import pytest
import square_payloads as spec
from chaos_scale import scaled
from hypothesis import given, settings
from hypothesis import strategies as st
from payload_mutations import Mutation, mutated
from payload_spec import check, outcome

from shelfops_pipeline.sources.square.mapping import product_rows, store_row, transaction_rows
from shelfops_pipeline.sources.square.models import (
    MalformedRecord,
    parse_change,
    parse_count,
    parse_item,
    parse_location,
    parse_order,
)
from shelfops_pipeline.warehouse.schema import PRODUCTS, QUANTITY, STORES, TRANSACTIONS

pytestmark = pytest.mark.chaos

CUSTOMER = "cust-042"
EXAMPLES = settings(max_examples=scaled(250, 4000), deadline=None)


@EXAMPLES
@given(st.data(), spec.locations())
def test_orders_map_to_exactly_their_lines_or_name_what_is_broken(
    data: st.DataObject, location_payload: dict[str, Any]
) -> None:
    location = parse_location(location_payload)
    order, mutation = data.draw(mutated(spec.orders(location.id)))

    def mapped() -> list[Any]:
        return list(transaction_rows(parse_order(order), location, CUSTOMER))

    got = outcome(mapped, MalformedRecord)
    check(
        got,
        mutation,
        lambda: spec.expected_transactions(order, location.timezone, CUSTOMER),
        TRANSACTIONS,
    )


@EXAMPLES
@given(mutated(spec.items()), st.sampled_from(["USD", "JPY"]))
def test_catalog_items_map_to_exactly_their_variations_or_name_what_is_broken(
    case: tuple[dict[str, Any], Mutation | None], currency: str
) -> None:
    item, mutation = case
    got = outcome(lambda: list(product_rows(parse_item(item), CUSTOMER, currency)), MalformedRecord)
    check(got, mutation, lambda: spec.expected_products(item, CUSTOMER, currency), PRODUCTS)


@EXAMPLES
@given(mutated(spec.locations()))
def test_locations_map_to_exactly_their_store_or_name_what_is_broken(
    case: tuple[dict[str, Any], Mutation | None],
) -> None:
    payload, mutation = case

    got = outcome(lambda: [store_row(parse_location(payload), CUSTOMER)], MalformedRecord)
    check(got, mutation, lambda: spec.expected_stores(payload, CUSTOMER), STORES)


@EXAMPLES
@given(mutated(spec.counts()), mutated(spec.changes()))
def test_stock_counts_and_changes_parse_exactly_or_name_what_is_broken(
    count_case: tuple[dict[str, Any], Mutation | None],
    change_case: tuple[dict[str, Any], Mutation | None],
) -> None:
    count, count_mutation = count_case
    change, change_mutation = change_case

    parsed_count = outcome(lambda: [parse_count(count)], MalformedRecord)
    check(parsed_count, count_mutation, lambda: spec.expected_counts(count))
    parsed_change = outcome(lambda: [parse_change(change)], MalformedRecord)
    check(parsed_change, change_mutation, lambda: spec.expected_changes(change))
    for parsed in (parsed_count, parsed_change):
        if isinstance(parsed, list):
            assert pa.array([parsed[0].quantity], QUANTITY).to_pylist() == [parsed[0].quantity]
