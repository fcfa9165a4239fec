"""The Dagster code location: assembly only. Square's and Shopify's source assets feed the unified
tables; jobs, schedules and the customer sensor operate them; resources come from the environment
at launch."""

import dagster as dg

from shelfops_pipeline.alerts.sensors import run_failure_alert_sensor
from shelfops_pipeline.sources.shopify.assets import shopify_assets, shopify_reader
from shelfops_pipeline.sources.shopify.resources import ShopifyResource
from shelfops_pipeline.sources.square.assets import square_assets, square_reader
from shelfops_pipeline.sources.square.oauth import BASE_URL_ENV
from shelfops_pipeline.sources.square.resources import SquareResource
from shelfops_pipeline.warehouse.assets import build_unified_assets
from shelfops_pipeline.warehouse.checks import build_unified_checks
from shelfops_pipeline.warehouse.jobs import warehouse_jobs
from shelfops_pipeline.warehouse.resources import WarehouseResource
from shelfops_pipeline.warehouse.schedules import warehouse_schedules
from shelfops_pipeline.warehouse.sensors import connected_customers_sensor
from shelfops_pipeline.webhooks.checks import webhook_checks
from shelfops_pipeline.webhooks.sensors import webhook_events_sensor

# Every source feeding the unified tables: each joins by adding its reader and assets.
readers = [square_reader, shopify_reader]

defs = dg.Definitions(
    assets=[*square_assets, *shopify_assets, *build_unified_assets(readers)],
    asset_checks=[*build_unified_checks(readers), *webhook_checks],
    jobs=warehouse_jobs,
    schedules=warehouse_schedules,
    sensors=[connected_customers_sensor, webhook_events_sensor, run_failure_alert_sensor],
    resources={
        # The OAuth app (SHELFOPS_SQUARE_CLIENT_ID/_SECRET) is read from the run's environment
        # when a token needs refreshing, so a backfill submitted from a shell without the secret
        # (`dagster job backfill`) still runs with the one the daemon's runs see.
        "square": SquareResource(base_url=dg.EnvVar(BASE_URL_ENV)),
        # Shopify's host (SHELFOPS_SHOPIFY_BASE_URL) and app are read from the run's environment
        # too; unlike Square's, the host falls back to production when the variable is unset, so
        # deployments without Shopify customers need not set it.
        "shopify": ShopifyResource(),
        "warehouse": WarehouseResource(),
    },
)
