"""Shopify webhook subscriptions follow the shop's connection, through the CLI against the
sandbox over loopback: connecting subscribes the receiver to every topic we ingest, a second
subscribe changes nothing, removing the connection deletes them at the shop."""

from collections.abc import Iterator

import httpx
import pytest
from click.testing import CliRunner
from shopify_oauth_helpers import ShopifySandbox, serve_shopify_sandbox

from shelfops_pipeline.cli import cli
from shelfops_pipeline.credentials.store import CredentialStore
from shelfops_pipeline.credentials.subscriptions import SubscriptionStore
from shelfops_pipeline.webhooks.envelopes import SHOPIFY_TOPICS

LIST = "{ webhookSubscriptions(first: 50) { nodes { topic uri } } }"
RECEIVER = "https://hooks.example.com/shelfops"


@pytest.fixture(scope="module")
def running() -> Iterator[ShopifySandbox]:
    with serve_shopify_sandbox() as served:
        yield served


pytestmark = pytest.mark.usefixtures("home")


def run(running: ShopifySandbox, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), env=running.env())
    return result.exit_code, result.output


def subscribed(running: ShopifySandbox) -> set[tuple[str, str]]:
    connection = CredentialStore().find(running.customer, "shopify")
    assert connection is not None
    handle = running.shop.removesuffix(".myshopify.com")
    reply = httpx.post(
        f"{running.base_url}/shopify/{handle}/admin/api/2026-10/graphql.json",
        json={"query": LIST},
        headers={"X-Shopify-Access-Token": connection.access_token.reveal()},
    )
    assert reply.status_code == 200, reply.text
    nodes = reply.json()["data"]["webhookSubscriptions"]["nodes"]
    return {(n["topic"], n["uri"]) for n in nodes}


def test_connecting_a_shop_subscribes_its_topics_and_removing_it_unsubscribes(
    running: ShopifySandbox,
) -> None:
    code, output = run(
        running, "connect", "shopify", "--customer", running.customer, "--shop", running.shop,
        "--approve", "--webhooks-url", RECEIVER,
    )  # fmt: skip
    assert code == 0, output
    url = f"{RECEIVER}/webhooks/shopify"
    assert f"webhooks: subscribed {url} at Shopify ({len(SHOPIFY_TOPICS)} subscriptions," in output
    expected = {(topic.replace("/", "_").upper(), url) for topic in SHOPIFY_TOPICS}
    assert subscribed(running) == expected
    assert len(SubscriptionStore(CredentialStore()).all("shopify")) == len(SHOPIFY_TOPICS)

    code, again = run(
        running, "webhooks", "subscribe", "--customer", running.customer, "--source", "shopify",
        "--webhooks-url", RECEIVER,
    )  # fmt: skip
    assert code == 0, again
    assert again.startswith(f"webhooks: already subscribed {url} at Shopify")
    assert subscribed(running) == expected

    code, removed = run(
        running, "connections", "remove", "--customer", running.customer, "--source", "shopify"
    )
    assert code == 0, removed
    assert f"{len(SHOPIFY_TOPICS)} webhook subscription(s) deleted at Shopify" in removed
    assert SubscriptionStore(CredentialStore()).all() == []
    assert CredentialStore().find(running.customer, "shopify") is None
