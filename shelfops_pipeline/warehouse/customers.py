"""Which customers the warehouse syncs: each one with an active connection becomes a partition key
of the dynamic `customers` partitions. Registration only ever adds keys, so it is safe to repeat.
"""

from collections.abc import Iterable, Sequence

import dagster as dg

from shelfops_pipeline.credentials.paths import store_path
from shelfops_pipeline.credentials.store import CredentialStore
from shelfops_pipeline.warehouse.partitions import customers


def connected_customers() -> list[str]:
    """Customers with at least one active connection, read without decrypting anything.

    An absent credential store means nobody is connected yet; it is not created here.
    """
    path = store_path()
    if not path.exists():
        return []
    return sorted(
        {info.customer_id for info in CredentialStore(path).overview() if info.status == "active"}
    )


def registered_customers(instance: dg.DagsterInstance) -> list[str]:
    """The customer keys the instance knows, in registration order."""
    return list(instance.get_dynamic_partitions(customers.name))


def unregistered(instance: dg.DagsterInstance, customer_ids: Iterable[str]) -> list[str]:
    known = set(registered_customers(instance))
    return [customer for customer in customer_ids if customer not in known]


def register(instance: dg.DagsterInstance, customer_ids: Sequence[str]) -> list[str]:
    """Add the customers the instance does not know yet; returns the ones added."""
    added = unregistered(instance, customer_ids)
    if added:
        instance.add_dynamic_partitions(customers.name, added)
    return added
