"""Shopify webhook subscriptions in the sandbox over real loopback HTTP: create, list and delete
through the GraphQL Admin API in Shopify's shapes (userErrors, ACCESS_DENIED, query cost), the
connector's `webhooks` functions on top, and live events delivered only to subscribed topics,
signed with the subscribing app's secret (checked with an independent HMAC)."""

import asyncio
import base64
import hashlib
import hmac
import itertools
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from clocks import SHOPIFY_SHOPS_BUSY, FastClock
from conftest import SEED
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from shelfops_pipeline.sandbox.runner import serve_in_thread
from shelfops_pipeline.sandbox.server import Sandbox, build_sandbox
from shelfops_pipeline.sandbox.settings import SandboxSettings
from shelfops_pipeline.sandbox.shopify.webhook_events import TOPICS, shopify_events_between
from shelfops_pipeline.sandbox.shopify.webhook_signing import shopify_retry_schedule
from shelfops_pipeline.sandbox.shopify.webhook_topics import BY_HEADER, WEBHOOK_TOPICS
from shelfops_pipeline.sandbox.subscription_fanout import SubscriptionFeed
from shelfops_pipeline.sandbox.webhook_delivery import DeliveryConfig
from shelfops_pipeline.sandbox.world.entities import Shop
from shelfops_pipeline.sources.shopify.client import ShopifyClient, shopify_api_client
from shelfops_pipeline.sources.shopify.webhooks import (
    TopicSubscriptions,
    WebhookSubscriptionError,
    list_subscriptions,
    subscribe,
    unsubscribe_all,
)

VERSION = "2026-10"
CREATE = """mutation Create($topic: WebhookSubscriptionTopic!, $hook: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $hook) {
    webhookSubscription { id legacyResourceId topic uri format apiVersion { handle }
      endpoint { __typename ... on WebhookHttpEndpoint { callbackUrl } } }
    userErrors { field message } } }"""
DELETE = """mutation Delete($id: ID!) { webhookSubscriptionDelete(id: $id) {
  deletedWebhookSubscriptionId userErrors { field message } } }"""
LIST = """query List($first: Int!, $after: String, $uri: String,
  $topics: [WebhookSubscriptionTopic!], $query: String) {
  webhookSubscriptions(first: $first, after: $after, uri: $uri, topics: $topics, query: $query) {
    nodes { id topic uri } pageInfo { hasNextPage endCursor } } }"""
NODE = "query Node($id: ID!) { node(id: $id) { id ... on WebhookSubscription { topic } } }"
_paths = itertools.count()


def unique_url() -> str:
    """A loopback address nobody listens on: no test here sends anything off the machine."""
    return f"http://127.0.0.1:9/hooks/{next(_paths)}"


class Admin:
    """One app's GraphQL Admin API on one shop."""

    def __init__(self, base_url: str, shop: Shop, token: str) -> None:
        self.url = f"{base_url}/shopify/{shop.handle}/admin/api/{VERSION}/graphql.json"
        self.headers = {"X-Shopify-Access-Token": token}

    def call(self, document: str, /, **variables: Any) -> dict[str, Any]:
        body = {"query": document, "variables": variables}
        reply = httpx.post(self.url, json=body, headers=self.headers, timeout=30)
        assert reply.status_code == 200, reply.text
        body: dict[str, Any] = reply.json()
        return body

    def create(self, topic: str, **hook: Any) -> dict[str, Any]:
        return self.call(CREATE, topic=topic, hook=hook)

    def listed(self, **variables: Any) -> list[dict[str, Any]]:
        body = self.call(LIST, first=variables.pop("first", 50), **variables)
        nodes: list[dict[str, Any]] = body["data"]["webhookSubscriptions"]["nodes"]
        return nodes


def created(reply: dict[str, Any]) -> dict[str, Any]:
    """The `webhookSubscriptionCreate` payload of a reply."""
    payload: dict[str, Any] = reply["data"]["webhookSubscriptionCreate"]
    return payload


def custom_app(base_url: str, sandbox: Sandbox, shop: Shop) -> Admin:
    return Admin(base_url, shop, sandbox.shopify_tokens.custom_apps[shop.domain].access_token)


def public_app(base_url: str, sandbox: Sandbox, shop: Shop, scopes: str) -> Admin:
    """The public app installed with `scopes`, by the sandbox's scripted approval over HTTP."""
    app = sandbox.shopify_tokens.application
    prefix = f"{base_url}/shopify/{shop.handle}/admin/oauth"
    approved = httpx.get(f"{prefix}/authorize", params={
        "client_id": app.client_id, "scope": scopes, "approve": "true",
        "redirect_uri": "http://127.0.0.1:9/callback",
    })  # fmt: skip
    assert approved.status_code == 302, approved.text
    code = httpx.URL(approved.headers["location"]).params["code"]
    body = {"client_id": app.client_id, "client_secret": app.client_secret, "code": code}
    issued = httpx.post(f"{prefix}/access_token", json=body)
    assert issued.status_code == 200, issued.text
    return Admin(base_url, shop, issued.json()["access_token"])


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[Sandbox, str]]:
    """A sandbox without a live feed: these tests only manage subscriptions."""
    sandbox = build_sandbox(SandboxSettings(seed=SEED, scale="small"))
    with serve_in_thread(sandbox.app) as base_url:
        yield sandbox, base_url


def test_create_list_and_delete_answer_in_shopifys_shapes(served: tuple[Sandbox, str]) -> None:
    sandbox, base_url = served
    admin = custom_app(base_url, sandbox, sandbox.world.shops[0])
    url = unique_url()
    reply = admin.create("ORDERS_CREATE", uri=url, format="JSON")
    payload = created(reply)
    assert payload["userErrors"] == []
    subscription = payload["webhookSubscription"]
    assert (
        subscription["id"]
        == f"gid://shopify/WebhookSubscription/{subscription['legacyResourceId']}"
    )
    assert (subscription["topic"], subscription["uri"], subscription["format"]) == (
        "ORDERS_CREATE", url, "JSON",
    )  # fmt: skip
    assert subscription["apiVersion"]["handle"] == VERSION
    assert subscription["endpoint"] == {"__typename": "WebhookHttpEndpoint", "callbackUrl": url}
    assert reply["extensions"]["cost"]["requestedQueryCost"] == 10
    assert reply["extensions"]["cost"]["actualQueryCost"] == 10

    listed = admin.call(LIST, first=5, uri=url)
    assert listed["data"]["webhookSubscriptions"]["nodes"] == [
        {"id": subscription["id"], "topic": "ORDERS_CREATE", "uri": url}
    ]
    # A connection costs 2 + floor(2 ln first) per node asked, the objects returned once run.
    assert listed["extensions"]["cost"]["requestedQueryCost"] == 2 + 3
    assert listed["extensions"]["cost"]["actualQueryCost"] == 2 + 1
    assert admin.call(NODE, id=subscription["id"])["data"]["node"]["topic"] == "ORDERS_CREATE"

    deleted = admin.call(DELETE, id=subscription["id"])["data"]["webhookSubscriptionDelete"]
    assert deleted == {"deletedWebhookSubscriptionId": subscription["id"], "userErrors": []}
    assert admin.listed(uri=url) == []
    assert admin.call(NODE, id=subscription["id"])["data"]["node"] is None
    again = admin.call(DELETE, id=subscription["id"])["data"]["webhookSubscriptionDelete"]
    assert again == {
        "deletedWebhookSubscriptionId": None,
        "userErrors": [{"field": ["id"], "message": "Webhook subscription does not exist"}],
    }


ADDRESS = ["webhookSubscription", "callbackUrl"]


@pytest.mark.parametrize(
    ("hook", "field", "message"),
    [
        ({}, ADDRESS, "Address can't be blank"),
        ({"uri": "  "}, ADDRESS, "Address can't be blank"),
        ({"uri": "ftp://127.0.0.1/hooks"}, ADDRESS, "Address protocol ftp:// is not supported"),
        ({"uri": "pubsub://project:topic"}, ADDRESS, "Address protocol pubsub:// is not supported"),
        ({"uri": "http://"}, ADDRESS, "Address is invalid"),
        ({"uri": "not a url"}, ADDRESS, "Address is invalid"),
        ({"uri": "http://127.0.0.1:9/x", "format": "XML"}, ["webhookSubscription", "format"],
         "Format 'xml' is not supported by the sandbox; use JSON"),
    ],
)  # fmt: skip
def test_input_shopify_refuses_comes_back_as_user_errors(
    served: tuple[Sandbox, str], hook: dict[str, str], field: list[str], message: str
) -> None:
    sandbox, base_url = served
    reply = custom_app(base_url, sandbox, sandbox.world.shops[0]).create("PRODUCTS_UPDATE", **hook)
    assert created(reply) == {
        "webhookSubscription": None,
        "userErrors": [{"field": field, "message": message}],
    }
    assert reply["extensions"]["cost"]["requestedQueryCost"] == 10


def test_a_topic_and_address_is_subscribed_once_per_installation(
    served: tuple[Sandbox, str],
) -> None:
    sandbox, base_url = served
    first_shop, second_shop = sandbox.world.shops[:2]
    admin = custom_app(base_url, sandbox, first_shop)
    url = unique_url()
    assert created(admin.create("ORDERS_UPDATED", callbackUrl=url))["userErrors"] == []
    assert created(admin.create("ORDERS_UPDATED", uri=url))["userErrors"] == [
        {"field": ADDRESS, "message": "Address for this topic has already been taken"}
    ]
    assert created(admin.create("REFUNDS_CREATE", uri=url))["userErrors"] == []
    # Another shop, and another app on the same shop, are other installations.
    other_shop = custom_app(base_url, sandbox, second_shop)
    assert created(other_shop.create("ORDERS_UPDATED", uri=url))["userErrors"] == []
    public = public_app(base_url, sandbox, first_shop, "read_orders")
    assert public.listed(uri=url) == []
    made = created(public.create("ORDERS_UPDATED", uri=url))
    assert made["userErrors"] == []
    theirs = made["webhookSubscription"]["id"]
    refused = admin.call(DELETE, id=theirs)["data"]["webhookSubscriptionDelete"]
    assert refused["userErrors"][0]["message"] == "Webhook subscription does not exist"
    assert [n["id"] for n in public.listed(uri=url)] == [theirs]


def test_an_unknown_topic_is_refused_by_the_schema(served: tuple[Sandbox, str]) -> None:
    sandbox, base_url = served
    reply = custom_app(base_url, sandbox, sandbox.world.shops[0]).create(
        "ORDERS_EXPLODED", uri=unique_url()
    )
    assert "data" not in reply
    assert reply["errors"][0]["extensions"]["code"] == "INVALID_VARIABLE"
    assert "ORDERS_CREATE" in reply["errors"][0]["extensions"]["problems"][0]["explanation"]


def test_a_topic_needs_the_scope_that_reads_its_data(served: tuple[Sandbox, str]) -> None:
    sandbox, base_url = served
    admin = public_app(base_url, sandbox, sandbox.world.shops[1], "read_products")
    url = unique_url()
    for allowed in ("PRODUCTS_UPDATE", "APP_UNINSTALLED"):
        assert created(admin.create(allowed, uri=url))["userErrors"] == []
    denied = {"ORDERS_CREATE": "read_orders", "INVENTORY_LEVELS_UPDATE": "read_inventory"}
    for topic, scope in denied.items():
        reply = admin.create(topic, uri=url)
        assert reply["data"] == {"webhookSubscriptionCreate": None}
        error = reply["errors"][0]
        assert error["extensions"]["code"] == "ACCESS_DENIED"
        assert error["message"].startswith("Access denied for webhookSubscriptionCreate field.")
        assert f"`{scope}`" in error["message"]
    assert {n["topic"] for n in admin.listed(uri=url)} == {"PRODUCTS_UPDATE", "APP_UNINSTALLED"}


def test_the_list_filters_by_topic_and_search_and_pages_with_cursors(
    served: tuple[Sandbox, str],
) -> None:
    sandbox, base_url = served
    admin = custom_app(base_url, sandbox, sandbox.world.shops[1])
    url = unique_url()
    topics = ["ORDERS_CREATE", "PRODUCTS_UPDATE", "INVENTORY_LEVELS_UPDATE"]
    ids = [created(admin.create(t, uri=url))["webhookSubscription"]["id"] for t in topics]
    paged, after = [], None
    while True:
        body = admin.call(LIST, first=1, after=after, uri=url)["data"]["webhookSubscriptions"]
        paged.extend(n["id"] for n in body["nodes"])
        if not body["pageInfo"]["hasNextPage"]:
            break
        after = body["pageInfo"]["endCursor"]
    assert paged == ids
    chosen = admin.listed(uri=url, topics=["PRODUCTS_UPDATE", "ORDERS_CREATE"])
    assert {n["topic"] for n in chosen} == {"PRODUCTS_UPDATE", "ORDERS_CREATE"}
    searched = admin.listed(uri=url, query="topic:inventory_levels/update")
    assert [n["id"] for n in searched] == [ids[2]]


# The connector's functions -------------------------------------------------------------------


def connector_client(base_url: str, shop: Shop, token: str) -> ShopifyClient:
    async def auth_headers() -> dict[str, str]:
        return {"X-Shopify-Access-Token": token}

    api = shopify_api_client(f"{base_url}/shopify/{shop.handle}", shop.domain, auth_headers)
    return ShopifyClient(api)


def test_subscribe_is_idempotent_and_unsubscribe_removes_only_ours(
    served: tuple[Sandbox, str],
) -> None:
    sandbox, base_url = served
    shop = sandbox.world.shops[0]
    token = sandbox.shopify_tokens.custom_apps[shop.domain].access_token
    ours, theirs = unique_url(), unique_url()
    custom_app(base_url, sandbox, shop).create("ORDERS_CREATE", uri=theirs)

    async def scenario() -> tuple[
        TopicSubscriptions, TopicSubscriptions, list[str], int, int, list[str]
    ]:
        client = connector_client(base_url, shop, token)
        async with client.api:
            first = await subscribe(client, ["orders/create", "INVENTORY_LEVELS_UPDATE"], ours)
            again = await subscribe(client, ["ORDERS_CREATE", "inventory_levels/update"], ours)
            listed = [s.id for s in await list_subscriptions(client, ours)]
            removed = await unsubscribe_all(client, ours)
            removed_again = await unsubscribe_all(client, ours)
            left = [s.uri for s in await list_subscriptions(client)]
        return first, again, listed, removed, removed_again, left

    first, again, listed, removed, removed_again, left = asyncio.run(scenario())
    assert (first.created, again.created) == (2, 0)
    assert len(first.ids) == 2 and again.ids == first.ids and sorted(listed) == sorted(first.ids)
    assert (removed, removed_again) == (2, 0)
    assert theirs in left and ours not in left


def test_refusals_raise_with_shopifys_words(served: tuple[Sandbox, str]) -> None:
    sandbox, base_url = served
    shop = sandbox.world.shops[1]
    products_only = public_app(base_url, sandbox, shop, "read_products")
    token = products_only.headers["X-Shopify-Access-Token"]

    async def attempt(topics: list[str], url: str) -> str:
        client = connector_client(base_url, shop, token)
        async with client.api:
            with pytest.raises(WebhookSubscriptionError) as raised:
                await subscribe(client, topics, url)
        return str(raised.value)

    denied = asyncio.run(attempt(["ORDERS_CREATE"], unique_url()))
    assert "subscribe to ORDERS_CREATE" in denied and "Access denied" in denied
    bad_url = asyncio.run(attempt(["PRODUCTS_UPDATE"], "ftp://127.0.0.1/hooks"))
    assert "Address protocol ftp:// is not supported" in bad_url
    assert token not in denied + bad_url


# Live delivery -------------------------------------------------------------------------------


class Recorder:
    """Subscriber endpoints: every raw body and its headers, by path."""

    def __init__(self) -> None:
        self.deliveries: list[tuple[str, bytes, dict[str, str]]] = []
        self.lock = threading.Lock()

    async def hook(self, request: Request) -> Response:
        try:
            body = await request.body()
        except ClientDisconnect:
            # A deleted subscription's dispatcher closes with its posts in flight.
            return Response(status_code=499)
        with self.lock:
            self.deliveries.append((request.url.path, body, dict(request.headers)))
        return Response(status_code=200)

    def shared(self) -> set[str]:
        """Events delivered both to the stock and to the public app's endpoint."""
        stock, public = (
            {h["x-shopify-event-id"] for _, h in self.at(path)}
            for path in ("/hooks/stock", "/hooks/public")
        )
        return stock & public

    def at(self, path: str) -> list[tuple[bytes, dict[str, str]]]:
        with self.lock:
            return [(body, headers) for p, body, headers in self.deliveries if p == path]


def independent_hmac(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def wait_for(condition: Any, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)


def test_every_emitted_topic_can_be_subscribed_to() -> None:
    assert set(TOPICS) <= set(BY_HEADER)
    assert all(BY_HEADER[t].header == t for t in TOPICS)


def test_live_events_reach_subscribed_urls_for_their_topics_only_until_deleted() -> None:
    recorder = Recorder()
    receiver = Starlette(routes=[Route("/hooks/{name}", recorder.hook, methods=["POST"])])
    feed = SubscriptionFeed(
        DeliveryConfig("http://unused.invalid/", shopify_retry_schedule(0.05), seed=SEED), 0.1
    )
    clock = FastClock(speed=600, start=SHOPIFY_SHOPS_BUSY)
    sandbox = build_sandbox(
        SandboxSettings(seed=SEED, scale="small"), clock=clock, shopify_subscription_feed=feed
    )
    shop = sandbox.world.shops[0]
    custom_secret = sandbox.shopify_tokens.custom_apps[shop.domain].credentials.client_secret
    public_secret = sandbox.shopify_tokens.application.client_secret
    order_topics = ("ORDERS_CREATE", "ORDERS_UPDATED", "PRODUCTS_UPDATE")
    with serve_in_thread(receiver) as hooks, serve_in_thread(sandbox.app) as base_url:
        custom = custom_app(base_url, sandbox, shop)
        public = public_app(base_url, sandbox, shop, "read_inventory")
        start = clock.now()
        public.create("INVENTORY_LEVELS_UPDATE", uri=f"{hooks}/hooks/public")
        for topic in order_topics:
            custom.create(topic, uri=f"{hooks}/hooks/orders")
        stock_hook = custom.create("INVENTORY_LEVELS_UPDATE", uri=f"{hooks}/hooks/stock")
        stock = created(stock_hook)["webhookSubscription"]["id"]
        wait_for(lambda: len(recorder.at("/hooks/stock")) >= 5 and recorder.shared(), 15)
        custom.call(DELETE, id=stock)
        time.sleep(0.6)
        settled = len(recorder.at("/hooks/stock"))
        time.sleep(0.5)
        assert len(recorder.at("/hooks/stock")) == settled
    end = clock.now()
    happened = shopify_events_between(sandbox.world, start - timedelta(minutes=10), end)
    bodies = {m.event_id: m.body for m in happened}
    # The other shop's stock moved too: none of that may reach this shop's subscribers.
    assert any(m.attributes["shop"] != shop.domain for m in happened)
    to_stock, to_public = recorder.at("/hooks/stock"), recorder.at("/hooks/public")
    assert len(to_stock) >= 5 and to_public
    order_headers = {WEBHOOK_TOPICS[t].header for t in order_topics}
    for deliveries, secret, topics in (
        (to_stock, custom_secret, {"inventory_levels/update"}),
        (to_public, public_secret, {"inventory_levels/update"}),
        # Stock events were delivered to the URL above, never to this one.
        (recorder.at("/hooks/orders"), custom_secret, order_headers),
    ):
        for body, headers in deliveries:
            assert headers["x-shopify-topic"] in topics
            assert headers["x-shopify-shop-domain"] == shop.domain
            assert bodies[headers["x-shopify-event-id"]] == body
            assert hmac.compare_digest(
                headers["x-shopify-hmac-sha256"], independent_hmac(secret, body)
            )
    # One webhook per subscription: the same event, each with its own webhook id.
    stock_webhooks = {h["x-shopify-event-id"]: h["x-shopify-webhook-id"] for _, h in to_stock}
    shared = [h for _, h in to_public if h["x-shopify-event-id"] in stock_webhooks]
    assert shared and all(
        h["x-shopify-webhook-id"] != stock_webhooks[h["x-shopify-event-id"]] for h in shared
    )
