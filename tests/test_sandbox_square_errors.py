"""Bad requests get Square's error shape and a 4xx, never a 500 or a hang."""

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import httpx
import pytest
from conftest import FROZEN_NOW, SEED, Running
from square_contract import assert_square_reply

from shelfops_pipeline.sandbox.faults import FaultConfig
from shelfops_pipeline.sandbox.runner import serve_in_thread
from shelfops_pipeline.sandbox.server import Sandbox, build_sandbox
from shelfops_pipeline.sandbox.settings import SandboxSettings


def _orders_body(location_ids: list[str], **extra: Any) -> dict[str, Any]:
    return {"location_ids": location_ids, **extra}


@pytest.mark.parametrize(
    ("name", "send", "status", "code"),
    [
        (
            "unknown location",
            lambda c, ids: c.post("/v2/orders/search", json=_orders_body(["LNOPE"])),
            400,
            "INVALID_VALUE",
        ),
        (
            "eleven locations",
            lambda c, ids: c.post("/v2/orders/search", json=_orders_body(ids * 11)),
            400,
            "VALUE_TOO_HIGH",
        ),
        (
            "no locations",
            lambda c, ids: c.post("/v2/orders/search", json={}),
            400,
            "MISSING_REQUIRED_PARAMETER",
        ),
        (
            "malformed JSON",
            lambda c, ids: c.post(
                "/v2/orders/search",
                content=b'{"location_ids": [',
                headers={"content-type": "application/json"},
            ),
            400,
            "EXPECTED_JSON_BODY",
        ),
        (
            "bad cursor",
            lambda c, ids: c.post("/v2/orders/search", json=_orders_body(ids, cursor="!!garbage")),
            400,
            "INVALID_CURSOR",
        ),
        (
            "bad list cursor",
            lambda c, ids: c.get("/v2/catalog/list", params={"cursor": "eyJvIjoxfQ"}),
            400,
            "INVALID_CURSOR",
        ),
        (
            "limit too high",
            lambda c, ids: c.post("/v2/orders/search", json=_orders_body(ids, limit=1001)),
            400,
            "VALUE_TOO_HIGH",
        ),
        (
            "sort differs from filter",
            lambda c, ids: c.post(
                "/v2/orders/search",
                json=_orders_body(
                    ids,
                    query={
                        "filter": {
                            "date_time_filter": {"updated_at": {"start_at": "2026-11-01T00:00:00Z"}}
                        }
                    },
                ),
            ),
            400,
            "BAD_REQUEST",
        ),
        (
            "bad timestamp",
            lambda c, ids: c.post(
                "/v2/inventory/counts/batch-retrieve", json={"updated_after": "yesterday"}
            ),
            400,
            "INVALID_VALUE",
        ),
        (
            "unknown catalog type",
            lambda c, ids: c.get("/v2/catalog/list", params={"types": "SPACESHIP"}),
            400,
            "INVALID_ENUM_VALUE",
        ),
        (
            "101 order ids",
            lambda c, ids: c.post("/v2/orders/batch-retrieve", json={"order_ids": ["x"] * 101}),
            400,
            "VALUE_TOO_HIGH",
        ),
        ("unknown order", lambda c, ids: c.get("/v2/orders/doesnotexist"), 404, "NOT_FOUND"),
        (
            "bad version header",
            lambda c, ids: c.get("/v2/locations", headers={"Square-Version": "latest"}),
            400,
            "INVALID_SQUARE_VERSION_FORMAT",
        ),
    ],
)
def test_bad_requests_get_squares_error_shape(
    small_sandbox: Running,
    name: str,
    send: Callable[[httpx.Client, list[str]], httpx.Response],
    status: int,
    code: str,
) -> None:
    world = small_sandbox.sandbox.world
    ids = [s.id for s in world.stores_of(world.square_merchants[0])]
    with small_sandbox.client() as client:
        reply = send(client, ids)
    assert reply.status_code == status, reply.text
    assert reply.json()["errors"][0]["code"] == code
    path = str(reply.request.url.path).removeprefix("/square")
    assert_square_reply(reply.request.method, path, reply.json(), status=status)


def test_a_cursor_cannot_continue_a_different_query(small_sandbox: Running) -> None:
    world = small_sandbox.sandbox.world
    ids = [s.id for s in world.stores_of(world.square_merchants[0])]
    with small_sandbox.client() as client:
        first = client.post("/v2/orders/search", json=_orders_body(ids, limit=5)).json()
        other = client.post(
            "/v2/orders/search", json=_orders_body(ids[:1], limit=5, cursor=first["cursor"])
        )
    assert other.status_code == 400
    assert other.json()["errors"][0]["code"] == "INVALID_CURSOR"


@pytest.mark.parametrize(
    ("authorization", "code"),
    [
        (None, "UNAUTHORIZED"),
        ("Bearer EAAAnotarealtoken", "UNAUTHORIZED"),
        ("Basic abc", "UNAUTHORIZED"),
    ],
)
def test_missing_or_wrong_tokens_are_refused(
    small_sandbox: Running, authorization: str | None, code: str
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    reply = httpx.get(f"{small_sandbox.base_url}/square/v2/locations", headers=headers)
    assert reply.status_code == 401
    error = reply.json()["errors"][0]
    assert (error["category"], error["code"]) == ("AUTHENTICATION_ERROR", code)


def test_unknown_paths_answer_404_in_squares_shape(small_sandbox: Running) -> None:
    with small_sandbox.client() as client:
        reply = client.get("/v2/spaceships")
        wrong_method = client.delete("/v2/locations")
    assert reply.status_code == 404 and reply.json()["errors"][0]["code"] == "NOT_FOUND"
    assert (
        wrong_method.status_code == 405
        and wrong_method.json()["errors"][0]["code"] == "METHOD_NOT_ALLOWED"
    )


def _serve_with(
    faults: FaultConfig, seed: int = SEED
) -> tuple[Sandbox, AbstractContextManager[str], dict[str, str]]:
    sandbox = build_sandbox(
        SandboxSettings(seed=seed, scale="small", frozen_at=FROZEN_NOW, faults=faults)
    )
    token = next(iter(sandbox.tokens.personal_tokens().values()))
    return sandbox, serve_in_thread(sandbox.app), {"Authorization": f"Bearer {token}"}


def test_the_merchant_budget_turns_into_rate_limited_replies() -> None:
    _, server, headers = _serve_with(FaultConfig(budget_per_second=0.5, budget_burst=4))
    with server as base_url:
        statuses = [
            httpx.get(f"{base_url}/square/v2/locations", headers=headers).status_code
            for _ in range(7)
        ]
        log = httpx.get(f"{base_url}/_sandbox/faults").json()
    assert statuses == [200] * 4 + [429] * 3
    assert log["counts"]["budget_429"] == 3


def test_faults_repeat_for_a_seed_and_differ_across_seeds() -> None:
    faults = FaultConfig(error_503=0.2, error_500=0.1)

    def run(seed: int) -> list[int]:
        _, server, headers = _serve_with(faults, seed)
        with server as base_url:
            return [
                httpx.get(f"{base_url}/square/v2/locations", headers=headers).status_code
                for _ in range(60)
            ]

    first, again, other = run(SEED), run(SEED), run(SEED + 1)
    assert first == again and first != other
    failed = sum(status != 200 for status in first)
    assert 8 <= failed <= 30 and set(first) <= {200, 500, 503}
