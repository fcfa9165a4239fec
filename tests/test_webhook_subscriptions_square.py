"""Square webhook subscriptions follow connections, through the CLI against the sandbox over
loopback: connecting subscribes the receiver once for the app (with the owner's personal token),
the key is stored encrypted and verifies deliveries, removing the last connection unsubscribes."""

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from credential_helpers import OAuthSandbox, serve_oauth_sandbox, store_bytes

from shelfops_pipeline.cli import cli
from shelfops_pipeline.credentials.store import CredentialStore
from shelfops_pipeline.credentials.subscriptions import SubscriptionStore
from shelfops_pipeline.sandbox.runner import free_loopback_port, serve_in_thread
from shelfops_pipeline.sandbox.square.webhook_signing import square_signature
from shelfops_pipeline.webhooks.queue import EventQueue, queue_path
from shelfops_pipeline.webhooks.receiver import build_receiver
from shelfops_pipeline.webhooks.settings import ReceiverSettings

SUBSCRIPTIONS = "/v2/webhooks/subscriptions"


@pytest.fixture(scope="module")
def oauth() -> Iterator[OAuthSandbox]:
    with serve_oauth_sandbox() as running:
        yield running


pytestmark = pytest.mark.usefixtures("home")


def owner_token(oauth: OAuthSandbox) -> str:
    return next(iter(oauth.sandbox.tokens.personal_tokens().values()))


def subscribed_urls(oauth: OAuthSandbox) -> list[str]:
    reply = httpx.get(
        f"{oauth.square_url}{SUBSCRIPTIONS}",
        headers={"Authorization": f"Bearer {owner_token(oauth)}"},
    )
    assert reply.status_code == 200, reply.text
    return [s["notification_url"] for s in reply.json().get("subscriptions", [])]


def run(oauth: OAuthSandbox, *args: str, **env: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), env={**oauth.env(), **env})
    return result.exit_code, result.output


def connect(oauth: OAuthSandbox, index: int, receiver: str, **env: str) -> tuple[int, str]:
    customer, merchant = oauth.customers[index]
    return run(
        oauth, "connect", "square", "--customer", customer, "--approve",
        "--merchant-id", merchant, "--webhooks-url", receiver, **env,
    )  # fmt: skip


def test_connecting_subscribes_once_and_removing_the_last_connection_unsubscribes(
    oauth: OAuthSandbox, home: Path
) -> None:
    receiver = f"http://127.0.0.1:{free_loopback_port()}/hooks-a"
    token = {"SHELFOPS_SQUARE_APP_ACCESS_TOKEN": owner_token(oauth)}
    code, first = connect(oauth, 0, receiver, **token)
    assert code == 0, first
    assert f"webhooks: subscribed {receiver}/webhooks/square at Square (wbhk_" in first
    code, second = connect(oauth, 1, receiver, **token)
    assert code == 0, second
    assert f"webhooks: already subscribed {receiver}/webhooks/square" in second
    assert subscribed_urls(oauth).count(f"{receiver}/webhooks/square") == 1

    (stored,) = SubscriptionStore(CredentialStore()).all("square")
    assert stored.signature_key is not None
    assert stored.signature_key.reveal().encode() not in store_bytes(CredentialStore().path)

    first_customer, second_customer = oauth.customers[0][0], oauth.customers[1][0]
    code, output = run(oauth, "connections", "remove", "--customer", first_customer,
                       "--source", "square", **token)  # fmt: skip
    assert code == 0, output
    assert "0 webhook subscription(s) deleted" in output
    assert f"{receiver}/webhooks/square" in subscribed_urls(oauth)
    code, output = run(oauth, "connections", "remove", "--customer", second_customer,
                       "--source", "square", **token)  # fmt: skip
    assert code == 0, output
    assert "1 webhook subscription(s) deleted at Square" in output
    assert f"{receiver}/webhooks/square" not in subscribed_urls(oauth)
    assert SubscriptionStore(CredentialStore()).all() == []
    assert CredentialStore().overview() == []


def test_the_receiver_verifies_deliveries_with_the_stored_key(
    oauth: OAuthSandbox, home: Path
) -> None:
    port = free_loopback_port()
    base = f"http://127.0.0.1:{port}"
    code, output = connect(oauth, 0, base, SHELFOPS_SQUARE_APP_ACCESS_TOKEN=owner_token(oauth))
    assert code == 0, output
    (stored,) = SubscriptionStore(CredentialStore()).all("square")
    assert stored.signature_key is not None
    url = f"{base}/webhooks/square"
    body = json.dumps(
        {"merchant_id": oauth.customers[0][1], "type": "catalog.version.updated",
         "event_id": "evt-stored-key", "created_at": "2026-11-05T18:00:00Z",
         "data": {"type": "catalog", "id": "x", "object": {}}}
    ).encode()  # fmt: skip
    good = square_signature(stored.signature_key.reveal(), url, body)
    forged = square_signature("not-the-key", url, body)
    with serve_in_thread(build_receiver(ReceiverSettings(home=home)), port):
        refused = httpx.post(url, content=body, headers={"x-square-hmacsha256-signature": forged})
        accepted = httpx.post(url, content=body, headers={"x-square-hmacsha256-signature": good})
    assert refused.status_code == 401
    assert accepted.status_code == 200, accepted.text
    assert [e.event_id for e in EventQueue(queue_path(home)).all_events()] == ["evt-stored-key"]


def test_subscribing_without_the_owner_token_names_the_variable_and_keeps_the_connection(
    oauth: OAuthSandbox,
) -> None:
    code, output = connect(oauth, 0, "http://127.0.0.1:9/x")
    assert code == 1
    assert "connected " in output
    assert "SHELFOPS_SQUARE_APP_ACCESS_TOKEN is not set" in output
    assert "shelfops webhooks subscribe --customer" in output
    assert "Traceback" not in output
    assert CredentialStore().find(oauth.customers[0][0], "square") is not None


def test_without_a_receiver_url_connect_says_how_to_subscribe_later(oauth: OAuthSandbox) -> None:
    customer, merchant = oauth.customers[0]
    code, output = run(
        oauth, "connect", "square", "--customer", customer, "--approve", "--merchant-id", merchant
    )
    assert code == 0, output
    assert output.splitlines()[-1] == (
        "webhooks: not subscribed; set SHELFOPS_WEBHOOK_BASE_URL to the public URL of `shelfops "
        f"webhooks serve` and run `shelfops webhooks subscribe --customer {customer} "
        "--source square`"
    )


def test_square_refuses_a_sellers_oauth_token_for_subscriptions(oauth: OAuthSandbox) -> None:
    customer, merchant = oauth.customers[0]
    code, output = run(
        oauth, "connect", "square", "--customer", customer, "--approve", "--merchant-id", merchant
    )
    assert code == 0, output
    connection = CredentialStore().find(customer, "square")
    assert connection is not None
    reply = httpx.get(
        f"{oauth.square_url}{SUBSCRIPTIONS}",
        headers={"Authorization": f"Bearer {connection.access_token.reveal()}"},
    )
    assert reply.status_code == 403
    assert reply.json()["errors"][0]["code"] == "INSUFFICIENT_SCOPES"


def test_removing_an_unknown_connection_is_one_clear_line(oauth: OAuthSandbox) -> None:
    code, output = run(oauth, "connections", "remove", "--customer", "nobody", "--source", "square")
    assert code == 1
    assert output.strip() == (
        "Error: customer nobody has no square connection; `shelfops connections list` shows them"
    )
