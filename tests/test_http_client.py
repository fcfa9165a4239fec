"""ApiClient over httpx.MockTransport: classification, retries, timeouts, hooks and its log line."""

import json
import logging
from typing import Any

import httpx
import pytest
from http_helpers import TOKEN, FakeTime, bearer, mock_client

from shelfops_pipeline.http.breaker import BreakerConfig
from shelfops_pipeline.http.client import ApiClient, CallKind, Timeouts
from shelfops_pipeline.http.errors import (
    ApiError,
    AuthRejected,
    BadRequest,
    CircuitOpen,
    NotFound,
    PayloadInvalid,
    RateLimited,
    UpstreamUnavailable,
)
from shelfops_pipeline.http.retry import RetryConfig

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def square_error(status: int, code: str, **headers: str) -> httpx.Response:
    body = {"errors": [{"category": "API_ERROR", "code": code, "detail": f"{code} happened"}]}
    return httpx.Response(status, json=body, headers=headers)


def replies(*responses: httpx.Response | Exception) -> tuple[list[httpx.Request], Any]:
    """A handler answering with `responses` in turn (the last one repeats), and its request log."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = responses[min(len(seen), len(responses)) - 1]
        if isinstance(answer, Exception):
            raise answer
        return answer

    return seen, handler


@pytest.mark.parametrize(
    "base_url",
    [
        "https://connect.squareup.com",
        "http://127.0.0.1:8750/square",
        "http://127.8.9.10",
        "http://localhost:1",
        "http://[::1]:80",
    ],
)
def test_https_and_loopback_base_urls_are_accepted(base_url: str) -> None:
    ApiClient(source="square", account="M", base_url=base_url, auth_headers=bearer)


@pytest.mark.parametrize(
    ("base_url", "host"),
    [
        ("http://connect.squareup.com", "connect.squareup.com"),
        ("http://10.0.0.5:8750", "10.0.0.5"),
        ("ftp://127.0.0.1", "127.0.0.1"),
    ],
)
def test_other_base_urls_are_refused_naming_the_host_and_the_rule(base_url: str, host: str) -> None:
    with pytest.raises(ValueError, match=r"loopback \(127\.0\.0\.0/8, ::1, localhost\)") as raised:
        ApiClient(source="square", account="M", base_url=base_url, auth_headers=bearer)
    assert host in str(raised.value)


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (400, BadRequest),
        (422, BadRequest),
        (405, BadRequest),
        (301, BadRequest),
        (403, AuthRejected),
        (404, NotFound),
    ],
)
async def test_replies_that_cannot_succeed_raise_their_error_after_one_request(
    status: int, error_class: type[ApiError]
) -> None:
    seen, handler = replies(square_error(status, "NOPE"))
    async with mock_client(handler, FakeTime()) as client:
        with pytest.raises(error_class) as raised:
            await client.request_json("GET", "/v2/locations")
    assert len(seen) == 1
    assert raised.value.status == status and raised.value.detail == "NOPE: NOPE happened"
    assert client.stats.errors[error_class.kind] == 1 and client.stats.retries == 0


async def test_server_errors_are_retried_until_a_reply_succeeds() -> None:
    seen, handler = replies(
        square_error(500, "INTERNAL_SERVER_ERROR"),
        square_error(502, "BAD_GATEWAY"),
        httpx.Response(200, json={"locations": []}),
    )
    async with mock_client(handler, FakeTime()) as client:
        assert await client.request_json("GET", "/v2/locations") == {"locations": []}
    assert len(seen) == 3
    meta = client.stats.as_metadata()
    assert meta["http_calls"] == 1 and meta["http_requests"] == 3 and meta["http_retries"] == 2
    assert meta["http_errors_upstream_unavailable"] == 2


async def test_retries_run_out_into_upstream_unavailable_naming_the_call() -> None:
    _, handler = replies(square_error(503, "SERVICE_UNAVAILABLE"))
    async with mock_client(handler, FakeTime(), retry=RetryConfig(max_attempts=3)) as client:
        with pytest.raises(UpstreamUnavailable) as raised:
            await client.request_json("POST", "/v2/orders/search", json={"location_ids": ["L1"]})
    message = str(raised.value)
    assert message.startswith("square call for account MERCHANT1 failed after 3 attempts")
    assert "POST /v2/orders/search -> HTTP 503: SERVICE_UNAVAILABLE" in message
    assert "status page" in message


async def test_a_429_waits_its_retry_after_and_pauses_the_limiter() -> None:
    fake = FakeTime()
    seen, handler = replies(
        square_error(429, "RATE_LIMITED", **{"Retry-After": "2"}), httpx.Response(200, json={})
    )
    async with mock_client(handler, fake) as client:
        await client.request_json("GET", "/v2/locations")
    assert fake.sleeps == [2.0] and len(seen) == 2
    assert client.stats.throttled == 1 and client.stats.limiter_wait_seconds == 0


async def test_a_cut_short_body_is_retried_and_then_decoded() -> None:
    _, handler = replies(
        httpx.Response(200, content=b'{"objects": [{"id": "A"}, {"id'),
        httpx.Response(200, json={"objects": [{"id": "A"}, {"id": "B"}]}),
    )
    async with mock_client(handler, FakeTime()) as client:
        body = await client.request_json("GET", "/v2/catalog/list")
    assert [o["id"] for o in body["objects"]] == ["A", "B"]
    assert client.stats.errors["payload_invalid"] == 1


async def test_undecodable_bodies_end_as_payload_invalid() -> None:
    _, handler = replies(httpx.Response(200, content=b"<html>proxy error</html>"))
    async with mock_client(handler, FakeTime(), retry=RetryConfig(max_attempts=2)) as client:
        with pytest.raises(PayloadInvalid, match="24-byte body is not valid JSON"):
            await client.request_json("GET", "/v2/locations")
        # A raw request does not decode, so the same reply is fine there.
        assert (await client.request("GET", "/v2/locations")).status_code == 200


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ReadTimeout("timed out"),
        httpx.ConnectTimeout("timed out"),
        httpx.ConnectError("connection refused"),
        httpx.RemoteProtocolError("peer closed connection without sending complete message body"),
        httpx.ReadError("connection reset"),
    ],
)
async def test_timeouts_and_dropped_connections_are_retried(failure: Exception) -> None:
    seen, handler = replies(failure, httpx.Response(200, json={"ok": True}))
    async with mock_client(handler, FakeTime()) as client:
        assert await client.request_json("GET", "/v2/locations") == {"ok": True}
    assert len(seen) == 2 and client.stats.errors["upstream_unavailable"] == 1


async def test_each_call_kind_gets_its_own_timeout() -> None:
    seen, handler = replies(httpx.Response(200, json={}))
    timeouts = Timeouts(connect=2, read=7, write=11, bulk=120)
    async with mock_client(handler, FakeTime(), timeouts=timeouts) as client:
        kinds: tuple[CallKind, ...] = ("read", "write", "bulk")
        for kind in kinds:
            await client.request_json("POST", "/v2/x", json={}, kind=kind)
    got = [(r.extensions["timeout"]["connect"], r.extensions["timeout"]["read"]) for r in seen]
    assert got == [(2, 7), (2, 11), (2, 120)]


async def test_a_timeout_names_the_kind_and_its_limit() -> None:
    _, handler = replies(httpx.ReadTimeout("timed out"))
    async with mock_client(handler, FakeTime(), retry=RetryConfig(max_attempts=1)) as client:
        with pytest.raises(UpstreamUnavailable, match=r"no reply within the bulk timeout of 300 s"):
            await client.request_json("GET", "/v2/export", kind="bulk")


async def test_auth_headers_are_fetched_per_attempt_and_a_401_refreshes_once() -> None:
    tokens = iter(["expired-token", "fresh-token"])
    current = {"token": next(tokens)}

    async def auth() -> dict[str, str]:
        return {"Authorization": f"Bearer {current['token']}"}

    async def refresh() -> None:
        current["token"] = next(tokens)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.headers["authorization"] == "Bearer fresh-token":
            return httpx.Response(200, json={"ok": True})
        return square_error(401, "ACCESS_TOKEN_EXPIRED")

    async with mock_client(handler, FakeTime(), auth_headers=auth, refresh_auth=refresh) as client:
        assert await client.request_json("GET", "/v2/locations") == {"ok": True}
    assert client.stats.errors["auth_rejected"] == 1


async def test_a_response_hook_sees_every_reply_and_may_fail_the_attempt() -> None:
    fake = FakeTime()
    throttled = {"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}]}
    _, handler = replies(
        httpx.Response(200, json=throttled), httpx.Response(200, json={"data": {"shop": {}}})
    )
    statuses: list[int] = []

    def hook(response: httpx.Response) -> None:
        statuses.append(response.status_code)
        if "THROTTLED" in response.text:
            raise RateLimited(
                source="shopify",
                account="demo-shop",
                method="POST",
                path="/graphql.json",
                status=200,
                detail="THROTTLED",
                retry_after=0.75,
            )

    client = mock_client(handler, fake, source="shopify", account="demo-shop", on_response=hook)
    async with client:
        body = await client.request_json("POST", "/graphql.json", json={"query": "{shop{name}}"})
    assert body == {"data": {"shop": {}}} and statuses == [200, 200]
    assert fake.sleeps == [0.75] and client.stats.throttled == 1


async def test_repeated_failures_open_the_circuit_and_later_calls_are_not_sent() -> None:
    seen, handler = replies(square_error(503, "SERVICE_UNAVAILABLE"))
    fake = FakeTime()
    client = mock_client(
        handler,
        fake,
        retry=RetryConfig(max_attempts=10),
        breaker=BreakerConfig(failure_threshold=3, cool_down_seconds=60),
    )
    async with client:
        with pytest.raises(CircuitOpen) as raised:
            await client.request_json("GET", "/v2/locations")
        assert len(seen) == 3
        with pytest.raises(CircuitOpen):
            await client.request_json("GET", "/v2/catalog/list")
    assert len(seen) == 3
    assert "account MERCHANT1" in str(raised.value) and "HTTP 503" in str(raised.value)
    assert client.stats.errors["circuit_open"] == 2


async def test_one_debug_line_per_request_with_secrets_redacted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    seen, handler = replies(
        square_error(500, "INTERNAL_SERVER_ERROR"), httpx.Response(200, json={})
    )
    async with mock_client(handler, FakeTime()) as client:
        with caplog.at_level(logging.DEBUG, logger="shelfops_pipeline.http.client"):
            await client.request_json(
                "GET", "/v2/catalog/list", params={"types": "ITEM", "access_token": TOKEN}
            )
    lines = [r.getMessage() for r in caplog.records if r.name == "shelfops_pipeline.http.client"]
    assert len(lines) == 2
    assert lines[0].startswith(
        "square GET /v2/catalog/list?types=ITEM&access_token=[redacted] -> 500 in "
    )
    assert "(attempt 1, limiter wait 0 ms, account MERCHANT1)" in lines[0]
    assert " -> 200 in " in lines[1] and "attempt 2" in lines[1]
    assert TOKEN not in caplog.text
    assert seen[0].url.params["access_token"] == TOKEN


async def test_a_token_echoed_in_an_error_body_is_scrubbed_from_the_message() -> None:
    body = {"errors": [{"code": "UNAUTHORIZED", "detail": f"token {TOKEN} is not valid here"}]}
    _, handler = replies(httpx.Response(403, json=body))
    async with mock_client(handler, FakeTime()) as client:
        with pytest.raises(AuthRejected) as raised:
            await client.request_json("GET", "/v2/locations")
    assert TOKEN not in str(raised.value) and "[redacted]" in str(raised.value)
    assert "grant the missing scope" in str(raised.value)


async def test_empty_success_bodies_decode_to_none() -> None:
    _, handler = replies(httpx.Response(204))
    async with mock_client(handler, FakeTime()) as client:
        assert await client.request_json("DELETE", "/v2/thing", kind="write") is None


async def test_shopify_style_error_bodies_become_readable_details() -> None:
    seen, handler = replies(
        httpx.Response(422, json={"errors": {"title": ["can't be blank"]}}),
    )
    async with mock_client(handler, FakeTime()) as client:
        with pytest.raises(BadRequest, match="title: can't be blank"):
            await client.request_json("POST", "/products.json", json={"product": {}}, kind="write")
    assert json.loads(seen[0].content) == {"product": {}}
