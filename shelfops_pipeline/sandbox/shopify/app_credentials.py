"""The sandbox's Shopify apps: the public app and each shop's custom app, derived from the seed
so a seeded sandbox lists the same credentials on every run.

A custom app, made in the shop's admin, has an API key, an API secret key and one Admin API
access token (`shpat_`) that never expires.
"""

from dataclasses import dataclass, field

from shelfops_pipeline.sandbox.derived_secrets import derived_secret_bytes


@dataclass(frozen=True)
class AppCredentials:
    """An app's client id (API key) and client secret (API secret key)."""

    client_id: str
    client_secret: str = field(repr=False)


@dataclass(frozen=True)
class CustomApp:
    """A shop's own custom app: its credentials and the Admin API token the admin shows once."""

    shop: str
    credentials: AppCredentials
    access_token: str = field(repr=False)


def _hex(seed: int, purpose: str) -> str:
    return derived_secret_bytes(seed, purpose).hex()[:32]


def public_app_credentials(seed: int) -> AppCredentials:
    """The sandbox public app's client id and secret (the secret also signs its webhooks)."""
    return AppCredentials(
        client_id=_hex(seed, "shopify-app-client-id"),
        client_secret="shpss_" + _hex(seed, "shopify-app-client-secret"),
    )


def custom_app(seed: int, shop: str) -> CustomApp:
    """`shop`'s custom app."""
    return CustomApp(
        shop=shop,
        credentials=AppCredentials(
            client_id=_hex(seed, f"shopify-custom-app-key:{shop}"),
            client_secret="shpss_" + _hex(seed, f"shopify-custom-app-secret:{shop}"),
        ),
        access_token="shpat_" + _hex(seed, f"shopify-custom-app-token:{shop}"),
    )
