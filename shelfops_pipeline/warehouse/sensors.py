"""Newly connected customers join the warehouse: a partition key each, and a first stores run.

The sensor compares the credential store with the instance's `customers` partitions, so a replayed
or retried tick adds nothing twice; each first run's run key names its customer, so a customer is
never registered by two runs either.
"""

import dagster as dg

from shelfops_pipeline.warehouse.customers import connected_customers, unregistered
from shelfops_pipeline.warehouse.jobs import stores_job
from shelfops_pipeline.warehouse.partitions import customers

MAX_CUSTOMERS_PER_TICK = 50


def registration_run_key(customer_id: str) -> str:
    return f"register:{customer_id}"


@dg.sensor(
    name="connected_customers_sensor",
    job=stores_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Registers each customer with an active connection as a `customers` partition "
    "and materializes its stores once.",
)
def connected_customers_sensor(
    context: dg.SensorEvaluationContext,
) -> dg.SensorResult | dg.SkipReason:
    connected = connected_customers()
    if not connected:
        return dg.SkipReason("no customer has an active connection yet")
    new = unregistered(context.instance, connected)[:MAX_CUSTOMERS_PER_TICK]
    if not new:
        return dg.SkipReason(f"all {len(connected)} connected customers are registered")
    context.log.info("registering %d customers: %s", len(new), ", ".join(new))
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(run_key=registration_run_key(customer), partition_key=customer)
            for customer in new
        ],
        dynamic_partitions_requests=[customers.build_add_request(new)],
    )
