"""A webhook receiver served on loopback over a temporary data directory, and the sandbox's own
signed Square and Shopify events to send it."""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
from conftest import SEED
from warehouse_helpers import QUIET, Lakehouse

from shelfops_pipeline.credentials.secret import Secret
from shelfops_pipeline.sandbox.runner import free_loopback_port, serve_in_thread
from shelfops_pipeline.sandbox.shopify.app_credentials import public_app_credentials
from shelfops_pipeline.sandbox.shopify.webhook_signing import ShopifyWebhookSigner
from shelfops_pipeline.sandbox.square.webhook_signing import SquareWebhookSigner
from shelfops_pipeline.sandbox.webhook_delivery import DeliveryAttempt, WebhookMessage
from shelfops_pipeline.warehouse.resources import WarehouseResource
from shelfops_pipeline.webhooks.queue import EventQueue, queue_path
from shelfops_pipeline.webhooks.receiver import build_receiver
from shelfops_pipeline.webhooks.sensors import webhook_events_sensor
from shelfops_pipeline.webhooks.settings import ReceiverSettings
from shelfops_pipeline.webhooks.signatures import SquareSubscription

SQUARE_KEY = "sq-signature-key-for-tests"
SHOPIFY_SECRET = public_app_credentials(SEED).client_secret


@dataclass
class Receiver:
    base_url: str
    home: Path

    @property
    def square_url(self) -> str:
        return f"{self.base_url}/webhooks/square"

    @property
    def shopify_url(self) -> str:
        return f"{self.base_url}/webhooks/shopify"

    @property
    def queue(self) -> EventQueue:
        return EventQueue(queue_path(self.home))

    def square_signer(self) -> SquareWebhookSigner:
        return SquareWebhookSigner(SQUARE_KEY, self.square_url)


def settings_for(home: Path, square_url: str) -> ReceiverSettings:
    return ReceiverSettings(
        home=home,
        square=(SquareSubscription(square_url, Secret(SQUARE_KEY)),),
        shopify_secrets=(Secret(SHOPIFY_SECRET),),
    )


@contextmanager
def running_receiver(home: Path) -> Iterator[Receiver]:
    port = free_loopback_port()
    base_url = f"http://127.0.0.1:{port}"
    app = build_receiver(settings_for(home, f"{base_url}/webhooks/square"))
    with serve_in_thread(app, port) as served:
        yield Receiver(served, home)


def first_attempt(message: WebhookMessage) -> DeliveryAttempt:
    return DeliveryAttempt(message, 0, None, datetime(2026, 11, 5, tzinfo=UTC))


def shopify_headers(message: WebhookMessage) -> dict[str, str]:
    return ShopifyWebhookSigner(SHOPIFY_SECRET).headers(first_attempt(message))


def event_ids(messages: Sequence[WebhookMessage]) -> set[str]:
    return {m.event_id for m in messages}


@dataclass
class SensorScene:
    """A lakehouse with a receiver in front: tick the webhook sensor, run what it asks for."""

    house: Lakehouse
    receiver: Receiver
    defs: dg.Definitions

    def tick(
        self, cursor: str | None, warehouse: WarehouseResource | None = None
    ) -> dg.SensorResult | dg.SkipReason:
        resources = {**self.house.resources, "warehouse": warehouse or self.house.warehouse}
        with dg.build_sensor_context(
            instance=self.house.instance, cursor=cursor, definitions=self.defs, resources=resources
        ) as context:
            result = webhook_events_sensor(context)
        assert isinstance(result, dg.SensorResult | dg.SkipReason)
        return result

    def run(self, request: dg.RunRequest) -> dg.ExecuteInProcessResult:
        assert request.job_name is not None and request.run_key is not None
        return self.defs.resolve_job_def(request.job_name).execute_in_process(
            partition_key=request.partition_key,
            instance=self.house.instance,
            tags={**request.tags, "dagster/run_key": request.run_key},
            run_config=QUIET,
        )


def reconciliation(run: dg.ExecuteInProcessResult) -> dg.AssetCheckEvaluation:
    """The run's one `transactions_webhooks_reconciled` evaluation."""
    (found,) = [
        e
        for e in run.get_asset_check_evaluations()
        if e.check_name == "transactions_webhooks_reconciled"
    ]
    return found
