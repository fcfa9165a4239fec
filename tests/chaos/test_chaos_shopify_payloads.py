"""Bad input, Shopify: GraphQL orders (line items, refunds) and products (variants), each valid
or broken in one place, parsed and mapped as the syncs do. Each either maps to exactly the rows
the node specifies (`shopify_payloads.expected_*`) and stores unchanged in the warehouse's Arrow
schema, or raises `MalformedRecord` naming the field that was broken.
"""

from typing import Any

import pytest
import shopify_payloads as spec
from chaos_scale import scaled
from hypothesis import given, settings
from payload_mutations import Mutation, mutated
from payload_spec import check, outcome

from shelfops_pipeline.sources.shopify.mapping import product_row, transaction_rows
from shelfops_pipeline.sources.shopify.models import MalformedRecord, parse_order, parse_variants
from shelfops_pipeline.warehouse.schema import PRODUCTS, TRANSACTIONS

pytestmark = pytest.mark.chaos

CUSTOMER = "cust-042"
EXAMPLES = settings(max_examples=scaled(250, 4000), deadline=None)


@EXAMPLES
@given(mutated(spec.orders()))
def test_orders_map_to_exactly_their_sales_and_refunds_or_name_what_is_broken(
    case: tuple[dict[str, Any], Mutation | None],
) -> None:
    order, mutation = case
    got = outcome(
        lambda: list(transaction_rows(parse_order(order), spec.SHOP, CUSTOMER)), MalformedRecord
    )
    check(got, mutation, lambda: spec.expected_transactions(order, CUSTOMER), TRANSACTIONS)


@EXAMPLES
@given(mutated(spec.products()))
def test_products_map_to_exactly_their_variants_or_name_what_is_broken(
    case: tuple[dict[str, Any], Mutation | None],
) -> None:
    product, mutation = case
    got = outcome(
        lambda: [product_row(v, spec.SHOP, CUSTOMER) for v in parse_variants(product)],
        MalformedRecord,
    )
    check(got, mutation, lambda: spec.expected_products(product, CUSTOMER), PRODUCTS)
