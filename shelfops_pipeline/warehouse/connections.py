"""Source assets of a customer the source does not serve: an empty result, nothing written."""

import dagster as dg

from shelfops_pipeline.credentials.store import CredentialStore


def skip_unconnected(
    context: dg.AssetExecutionContext, store: CredentialStore, customer_id: str, source: str
) -> dg.MaterializeResult | None:
    """None when `customer_id` has a `source` connection; else an empty materialization, so the
    unified tables treat the source as not serving the customer (a Square-only retailer, say)."""
    if store.find(customer_id, source) is not None:  # type: ignore[arg-type]
        return None
    context.log.info(
        "%s: customer %s has no %s connection", context.partition_key, customer_id, source
    )
    return dg.MaterializeResult(metadata={f"{source}_connected": False, "dagster/row_count": 0})
