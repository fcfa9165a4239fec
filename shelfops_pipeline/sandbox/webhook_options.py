"""The webhook signing and delivery options `serve --live` and `send-webhooks` share, and the
delivery settings they make for each provider."""

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import click
import httpx

from shelfops_pipeline.cli_types import FiniteFloatRange, not_blank
from shelfops_pipeline.sandbox.shopify.webhook_signing import (
    SHOPIFY_RETRY_HORIZON_MINUTES,
    SHOPIFY_TIMEOUT_SECONDS,
    ShopifyWebhookSigner,
    shopify_retry_schedule,
)
from shelfops_pipeline.sandbox.square.webhook_signing import (
    SQUARE_RETRY_HORIZON_MINUTES,
    SquareWebhookSigner,
    square_retry_schedule,
)
from shelfops_pipeline.sandbox.webhook_delivery import DeliveryConfig

SIGNATURE_KEY_ENV = "SHELFOPS_SANDBOX_WEBHOOK_SIGNATURE_KEY"
NOTIFICATION_URL_ENV = "SHELFOPS_SANDBOX_WEBHOOK_URL"
SQUARE_TIMEOUT_SECONDS = 10.0


def _or(given: float | None, default: float) -> float:
    return default if given is None else given


def checked_target(target: str, what: str = "webhook target") -> str:
    """`target` if it is an http(s) URL; a usage error otherwise."""
    try:
        url = httpx.URL(target)
    except httpx.InvalidURL:
        url = httpx.URL()
    if url.scheme not in ("http", "https") or not url.host:
        raise click.UsageError(f"the {what} {target!r} is not an http(s) URL")
    return target


@dataclass(frozen=True)
class WebhookOptions:
    """How webhooks are signed and delivered, as given on the command line."""

    signature_key: str | None
    notification_url: str | None
    duplicate_rate: float
    retry_unit_seconds: float
    retry_horizon_minutes: float | None
    timeout_seconds: float | None

    def square(self, target: str, seed: int) -> tuple[DeliveryConfig, SquareWebhookSigner]:
        """Square's delivery to `target`; usage errors for a bad URL or a missing key."""
        checked_target(target)
        if self.notification_url:
            checked_target(self.notification_url, f"notification URL ({NOTIFICATION_URL_ENV})")
        if not self.signature_key:
            raise click.UsageError(
                f"no webhook signature key: pass --signature-key or set {SIGNATURE_KEY_ENV}"
            )
        signer = SquareWebhookSigner(self.signature_key, self.notification_url or target)
        return self.square_delivery(target, seed), signer

    def square_delivery(self, target: str, seed: int) -> DeliveryConfig:
        """Square's retry timing and timeout, unsigned (subscriptions bring their own keys)."""
        horizon = _or(self.retry_horizon_minutes, SQUARE_RETRY_HORIZON_MINUTES)
        return DeliveryConfig(
            target_url=target,
            schedule=square_retry_schedule(self.retry_unit_seconds, horizon),
            timeout_seconds=_or(self.timeout_seconds, SQUARE_TIMEOUT_SECONDS),
            duplicate_rate=self.duplicate_rate,
            seed=seed,
        )

    def shopify(
        self, target: str, seed: int, app_secret: str
    ) -> tuple[DeliveryConfig, ShopifyWebhookSigner]:
        """Shopify's delivery to `target`, signed with the app's client secret."""
        checked_target(target)
        return self.shopify_delivery(target, seed), ShopifyWebhookSigner(app_secret)

    def shopify_delivery(self, target: str, seed: int) -> DeliveryConfig:
        """Shopify's retry timing and timeout, unsigned (each app signs with its own secret)."""
        horizon = _or(self.retry_horizon_minutes, SHOPIFY_RETRY_HORIZON_MINUTES)
        return DeliveryConfig(
            target_url=target,
            schedule=shopify_retry_schedule(self.retry_unit_seconds, horizon),
            timeout_seconds=_or(self.timeout_seconds, SHOPIFY_TIMEOUT_SECONDS),
            duplicate_rate=self.duplicate_rate,
            seed=seed,
        )


def webhook_options(command: Callable[..., None]) -> Callable[..., None]:
    """The signing and delivery options, handed to the command as one `webhooks` argument."""

    @functools.wraps(command)
    def with_webhook_options(**kwargs: Any) -> None:
        fields = WebhookOptions.__dataclass_fields__
        webhooks = WebhookOptions(**{name: kwargs.pop(name) for name in fields})
        command(webhooks=webhooks, **kwargs)

    options = [
        click.option("--signature-key", envvar=SIGNATURE_KEY_ENV, show_envvar=True,
                     callback=not_blank,
                     help="Square: the webhook subscription's signature key. (Shopify signs "
                          "with the sandbox app's client secret; see `tokens`.)"),
        click.option("--notification-url", envvar=NOTIFICATION_URL_ENV, show_envvar=True,
                     help="Square: the subscription URL the signature covers (default: the "
                          "target)."),
        click.option("--duplicate-rate", type=FiniteFloatRange(0, 1), default=0.0,
                     show_default=True, help="Share of acknowledged events sent a second time."),
        click.option("--retry-unit-seconds", type=FiniteFloatRange(min=0.001), default=60.0,
                     show_default=True,
                     help="How long one minute of the provider's retry schedule lasts."),
        click.option("--retry-horizon-minutes", type=FiniteFloatRange(min=0), default=None,
                     help="Retry for this many schedule minutes, then give up "
                          "(default: Square 1440, Shopify 240)."),
        click.option("--timeout", "timeout_seconds", type=FiniteFloatRange(min=0.001),
                     default=None,
                     help="Seconds the receiver has to answer 2xx (default: Square 10, "
                          "Shopify 5)."),
    ]  # fmt: skip
    decorated: Callable[..., None] = with_webhook_options
    for option in reversed(options):
        decorated = option(decorated)
    return decorated
