"""One asset job per unified table: the table, the source assets it is built from, and their checks.

Each job selects the unified asset and its direct parents, so a source that joins later (Shopify)
is in the job as soon as its raw asset feeds the table. Partitioning is inferred from the assets.
"""

import dagster as dg

STORES_JOB = "stores_job"
CATALOG_JOB = "catalog_job"
TRANSACTIONS_JOB = "transactions_job"
INVENTORY_JOB = "inventory_job"

# The job that rebuilds each unified table, by table name.
JOB_OF_TABLE = {
    "stores": STORES_JOB,
    "products": CATALOG_JOB,
    "transactions": TRANSACTIONS_JOB,
    "inventory_snapshots": INVENTORY_JOB,
}


def _parents_of(table: str) -> dg.AssetSelection:
    return dg.AssetSelection.assets(table).upstream(depth=1)


stores_job = dg.define_asset_job(
    STORES_JOB,
    selection=_parents_of("stores"),
    description="Stores of one customer: its locations at every source, into `stores`.",
)
catalog_job = dg.define_asset_job(
    CATALOG_JOB,
    selection=_parents_of("products"),
    description="Catalog changes of one customer on one day, into `products` (with history). "
    "Full refresh: set `full_refresh: true` in the catalog op's config.",
)
transactions_job = dg.define_asset_job(
    TRANSACTIONS_JOB,
    selection=_parents_of("transactions"),
    description="Sales and returns of one customer on one business day, into `transactions`.",
)
inventory_job = dg.define_asset_job(
    INVENTORY_JOB,
    selection=_parents_of("inventory_snapshots"),
    description="Stock of one customer at the end of one UTC hour, into `inventory_snapshots`.",
)

warehouse_jobs = [stores_job, catalog_job, transactions_job, inventory_job]
