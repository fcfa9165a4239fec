"""The fault injector over real loopback HTTP: budgets, random faults, outages and the fault log.

A tiny Starlette app stands in for the Square emulator; an httpx client sees each fault the way
a pipeline client would: a status in Square's error shape, a timeout, a broken connection, or a
200 whose body is not JSON.
"""

import json
import logging
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import httpx
import pytest
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import Scope

from shelfops_pipeline.sandbox.faults import (
    FaultConfig,
    FaultInjector,
    FaultLog,
    Outage,
    fault_log_routes,
    parse_budget,
    parse_fault,
    parse_outage,
)
from shelfops_pipeline.sandbox.runner import serve_in_thread

CATALOG = "/square/v2/catalog/list"
SEARCH = "/square/v2/orders/search"
OAUTH = "/square/oauth2/token"
MERCHANT_BY_TOKEN = {"token-alpha": "MERCHANT_A", "token-beta": "MERCHANT_B"}
MORNING = datetime(2026, 11, 5, 9, 0, tzinfo=UTC)


class SettableClock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


def merchant_of(scope: Scope) -> str | None:
    authorization = Headers(scope=scope).get("authorization", "")
    return MERCHANT_BY_TOKEN.get(authorization.removeprefix("Bearer "))


LISTING = {
    "objects": [{"id": f"ITEM_{n}", "type": "ITEM", "name": "Oat milk"} for n in range(20)],
    "cursor": "CURSOR_2",
}


async def listing(request: Request) -> JSONResponse:
    return JSONResponse(LISTING)


@contextmanager
def sandbox(
    config: FaultConfig, seed: int = 7, clock: SettableClock | None = None
) -> Iterator[tuple[httpx.Client, FaultLog]]:
    """Serve the stand-in app behind the injector; yields a merchant A client and the log."""
    log = FaultLog()
    app = Starlette(
        routes=[
            Route(CATALOG, listing, methods=["GET"]),
            Route(SEARCH, listing, methods=["POST"]),
            Route(OAUTH, listing, methods=["POST"]),
            *fault_log_routes(log),
        ]
    )
    injector = FaultInjector(
        app,
        config=config,
        seed=seed,
        log=log,
        now=(clock or SettableClock(MORNING)).now,
        identify=merchant_of,
    )
    auth = {"Authorization": "Bearer token-alpha"}
    with (
        serve_in_thread(injector) as base_url,
        httpx.Client(base_url=base_url, headers=auth, timeout=5) as client,
    ):
        yield client, log


def outcome(client: httpx.Client, method: str = "GET", path: str = CATALOG) -> str:
    """What a client makes of one request: ok, a status code, slow, drop or truncate."""
    try:
        response = client.request(method, path)
    except httpx.ReadTimeout:
        return "slow"
    except httpx.RemoteProtocolError:
        return "drop"
    if response.status_code != 200:
        return str(response.status_code)
    try:
        response.json()
    except json.JSONDecodeError:
        return "truncate"
    return "ok"


def outcomes(config: FaultConfig, seed: int, count: int) -> list[str]:
    with sandbox(config, seed=seed) as (client, _):
        return [outcome(client) for _ in range(count)]


def assert_square_error(response: httpx.Response, status: int, category: str, code: str) -> None:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert int(response.headers["content-length"]) == len(response.content)
    (error,) = response.json()["errors"]
    assert (error["category"], error["code"]) == (category, code)
    assert error["detail"]


def test_budget_allows_the_burst_then_answers_429_until_tokens_refill() -> None:
    config = FaultConfig(budget_per_second=2, budget_burst=5)
    with sandbox(config) as (client, log):
        statuses = [client.get(CATALOG).status_code for _ in range(6)]
        assert statuses == [200, 200, 200, 200, 200, 429]
        limited = client.get(CATALOG)
        assert_square_error(limited, 429, "RATE_LIMIT_ERROR", "RATE_LIMITED")
        assert "retry-after" not in limited.headers

        other_merchant = client.get(CATALOG, headers={"Authorization": "Bearer token-beta"})
        assert other_merchant.status_code == 200
        assert client.get("/_sandbox/faults").status_code == 200

        time.sleep(0.6)
        assert client.get(CATALOG).status_code == 200
        assert client.get(CATALOG).status_code == 429
        assert log.counts()["budget_429"] == 3


def test_budget_429_carries_retry_after_when_configured() -> None:
    config = FaultConfig(budget_per_second=0.5, budget_burst=1, retry_after=True)
    with sandbox(config) as (client, _):
        assert client.get(CATALOG).status_code == 200
        limited = client.get(CATALOG)
        assert_square_error(limited, 429, "RATE_LIMIT_ERROR", "RATE_LIMITED")
        assert limited.headers["retry-after"] == "2"


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [
        ("error_500", 500, "INTERNAL_SERVER_ERROR"),
        ("error_502", 502, "BAD_GATEWAY"),
        ("error_503", 503, "SERVICE_UNAVAILABLE"),
    ],
)
def test_server_errors_come_in_square_shape(kind: str, status: int, code: str) -> None:
    with sandbox(FaultConfig(**{kind: 1.0})) as (client, log):
        assert_square_error(client.get(CATALOG), status, "API_ERROR", code)
        assert log.counts()[kind] == 1


def test_burst_429_answers_runs_of_burst_length() -> None:
    config = FaultConfig(burst_429=0.05, burst_length=4)
    with sandbox(config, seed=3) as (client, log):
        responses = [client.get(CATALOG) for _ in range(300)]
    limited = [r for r in responses if r.status_code == 429]
    assert {r.status_code for r in responses} == {200, 429}
    assert_square_error(limited[0], 429, "RATE_LIMIT_ERROR", "RATE_LIMITED")
    flags = "".join("x" if r.status_code == 429 else "." for r in responses).rstrip("x")
    runs = [len(run) for run in flags.split(".") if run]
    assert runs
    assert all(length % 4 == 0 for length in runs), runs
    assert log.counts()["burst_429"] == len(limited)


def test_slow_reply_outlasts_a_short_client_timeout_but_arrives_for_a_patient_one() -> None:
    with sandbox(FaultConfig(slow=1.0, slow_seconds=0.5)) as (client, log):
        with pytest.raises(httpx.ReadTimeout):
            client.get(CATALOG, timeout=0.2)
        started = time.monotonic()
        patient = client.get(CATALOG, timeout=5)
        assert time.monotonic() - started >= 0.5
        assert patient.status_code == 200
        assert patient.json()["cursor"] == "CURSOR_2"
        assert log.counts()["slow"] == 2


def test_drop_breaks_the_connection_mid_body() -> None:
    with sandbox(FaultConfig(drop=1.0)) as (client, log):
        with pytest.raises(httpx.RemoteProtocolError):
            client.get(CATALOG)
        assert log.counts()["drop"] == 1


def test_truncate_sends_a_200_whose_json_is_cut_short_with_a_matching_length() -> None:
    with sandbox(FaultConfig(truncate=1.0)) as (client, log):
        response = client.get(CATALOG)
        assert response.status_code == 200
        assert int(response.headers["content-length"]) == len(response.content)
        full_body = JSONResponse(LISTING).body
        assert 0 < len(response.content) < len(full_body)
        assert full_body.startswith(response.content)
        with pytest.raises(json.JSONDecodeError):
            response.json()
        assert log.counts()["truncate"] == 1


def test_observed_rates_match_configured_rates_and_the_fault_log() -> None:
    rates = {"error_500": 0.1, "error_502": 0.05, "error_503": 0.05, "drop": 0.05, "truncate": 0.05}
    seen_as = {"error_500": "500", "error_502": "502", "error_503": "503"}
    requests = 400
    with sandbox(FaultConfig(**rates), seed=21) as (client, _):
        observed = [outcome(client) for _ in range(requests)]
        report = client.get("/_sandbox/faults").json()
    assert report["requests_seen"] == requests
    for kind, rate in rates.items():
        count = observed.count(seen_as.get(kind, kind))
        tolerance = 4 * math.sqrt(requests * rate * (1 - rate))
        assert abs(count - requests * rate) <= tolerance, (kind, count)
        assert report["counts"][kind] == count
    assert report["total_faults"] == requests - observed.count("ok")


def test_same_seed_repeats_the_fault_sequence_and_another_seed_changes_it() -> None:
    config = FaultConfig(error_500=0.2, error_503=0.2, truncate=0.1)
    first = outcomes(config, seed=11, count=60)
    assert first == outcomes(config, seed=11, count=60)
    assert first != outcomes(config, seed=12, count=60)
    assert {"ok", "500", "503", "truncate"} <= set(first)


def test_each_path_has_its_own_fault_stream_unmoved_by_traffic_elsewhere() -> None:
    config = FaultConfig(error_500=0.3, error_503=0.2)
    alone = outcomes(config, seed=5, count=40)
    with sandbox(config, seed=5) as (client, _):
        interleaved, other_path = [], []
        for _ in range(40):
            other_path.append(outcome(client, "POST", SEARCH))
            interleaved.append(outcome(client))
    assert interleaved == alone
    assert other_path != alone


def test_outage_hits_only_its_path_inside_its_window() -> None:
    clock = SettableClock(datetime(2026, 11, 5, 11, 59, 59, tzinfo=UTC))
    window = Outage(
        SEARCH, datetime(2026, 11, 5, 12, tzinfo=UTC), datetime(2026, 11, 5, 12, 10, tzinfo=UTC)
    )
    config = FaultConfig(outages=(window,), retry_after=True)
    with sandbox(config, clock=clock) as (client, log):
        assert client.post(SEARCH).status_code == 200
        clock.at = datetime(2026, 11, 5, 12, 5, tzinfo=UTC)
        down = client.post(SEARCH)
        assert_square_error(down, 503, "API_ERROR", "SERVICE_UNAVAILABLE")
        assert down.headers["retry-after"] == "300"
        assert client.get(CATALOG).status_code == 200
        clock.at = datetime(2026, 11, 5, 12, 10, tzinfo=UTC)
        assert client.post(SEARCH).status_code == 200
        assert log.counts()["outage"] == 1


def test_fault_log_endpoint_reports_what_the_client_saw_without_tokens(
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret = "sq0atp-never-log-me"
    with sandbox(FaultConfig(error_503=1.0)) as (client, _):
        seen = [client.get(CATALOG).status_code for _ in range(3)]
        seen.append(client.get(CATALOG, headers={"Authorization": f"Bearer {secret}"}).status_code)
        seen.append(httpx.get(f"{client.base_url}{CATALOG}").status_code)
        assert client.post(OAUTH).status_code == 200
        report = client.get("/_sandbox/faults").json()
        cleared = client.post("/_sandbox/faults/reset").json()
        after_reset = client.get("/_sandbox/faults").json()

    assert seen == [503] * 5
    assert report["counts"]["error_503"] == 5
    assert report["requests_seen"] == 5
    identities = [entry["identity"] for entry in report["recent"]]
    assert identities[:3] == ["MERCHANT_A"] * 3
    assert identities[3].startswith("auth-")
    assert identities[4] == "anonymous"
    assert {(e["kind"], e["method"], e["path"]) for e in report["recent"]} == {
        ("error_503", "GET", CATALOG)
    }
    assert secret not in json.dumps(report)
    assert secret not in caplog.text
    warnings = [r for r in caplog.records if r.name == "shelfops_pipeline.sandbox.faults"]
    assert len(warnings) == 5
    assert all(r.levelno == logging.WARNING for r in warnings)
    for emptied in (cleared, after_reset):
        assert emptied["requests_seen"] == 0
        assert emptied["recent"] == []
        assert set(emptied["counts"].values()) == {0}


def test_paths_outside_the_faultable_prefixes_are_untouched() -> None:
    config = FaultConfig(error_500=1.0, budget_per_second=1, budget_burst=1)
    with sandbox(config) as (client, log):
        assert [client.post(OAUTH).status_code for _ in range(5)] == [200] * 5
        assert log.snapshot()["requests_seen"] == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("503=0.02", {"error_503": 0.02}),
        ("500=0", {"error_500": 0.0}),
        ("error_502=1", {"error_502": 1.0}),
        ("slow=0.01", {"slow": 0.01}),
        ("slow=0.01,seconds=45", {"slow": 0.01, "slow_seconds": 45.0}),
        ("429=0.01,length=8", {"burst_429": 0.01, "burst_length": 8}),
        (" Drop = 0.005 ", {"drop": 0.005}),
        ("truncate=0.1", {"truncate": 0.1}),
    ],
)
def test_parse_fault_reads_kind_and_rate(text: str, expected: dict[str, float]) -> None:
    assert parse_fault(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "404=0.1",
        "slow",
        "slow=",
        "slow=abc",
        "503=1.5",
        "503=-0.1",
        "drop=nan",
        "slow=0.1,length=3",
        "429=0.1,length=2.5",
        "503=0.1,seconds=2",
    ],
)
def test_parse_fault_rejects_bad_text_naming_it_and_the_form(text: str) -> None:
    with pytest.raises(ValueError, match="expected KIND=RATE") as raised:
        parse_fault(text)
    assert repr(text) in str(raised.value)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10/s,burst=20", {"budget_per_second": 10.0, "budget_burst": 20}),
        ("2.5/s", {"budget_per_second": 2.5}),
        ("120/min, burst=5", {"budget_per_second": 2.0, "budget_burst": 5}),
    ],
)
def test_parse_budget_reads_rate_and_burst(text: str, expected: dict[str, float]) -> None:
    assert parse_budget(text) == expected


@pytest.mark.parametrize("text", ["10", "10/h", "0/s", "10/s,burst=0", "10/s,bursts=3", "fast"])
def test_parse_budget_rejects_bad_text(text: str) -> None:
    with pytest.raises(ValueError, match="expected RATE/s") as raised:
        parse_budget(text)
    assert repr(text) in str(raised.value)


def test_parse_outage_reads_path_window_and_status() -> None:
    text = "/square/v2/orders/search=2026-11-05T12:00Z..2026-11-05T12:10Z"
    assert parse_outage(text) == Outage(
        "/square/v2/orders/search",
        datetime(2026, 11, 5, 12, tzinfo=UTC),
        datetime(2026, 11, 5, 12, 10, tzinfo=UTC),
    )
    assert parse_outage(f"{text},status=500").status == 500


@pytest.mark.parametrize(
    "text",
    [
        "/square/v2/orders=2026-11-05T12:00Z",
        "2026-11-05T12:00Z..2026-11-05T12:10Z",
        "/square/v2/orders=2026-11-05T12:00..2026-11-05T12:10",
        "/square/v2/orders=2026-11-05T12:10Z..2026-11-05T12:00Z",
        "/square/v2/orders=yesterday..today",
        "/square/v2/orders=2026-11-05T12:00Z..2026-11-05T12:10Z,status=418",
        "/square/v2/orders=2026-11-05T12:00Z..2026-11-05T12:10Z,code=503",
        "square/v2/orders=2026-11-05T12:00Z..2026-11-05T12:10Z",
    ],
)
def test_parse_outage_rejects_bad_text(text: str) -> None:
    with pytest.raises(ValueError, match=r"expected PATH=START\.\.END") as raised:
        parse_outage(text)
    assert repr(text) in str(raised.value)


def test_config_from_cli_combines_the_pieces() -> None:
    config = FaultConfig.from_cli(
        faults=["503=0.02", "slow=0.01", "drop=0.005"],
        budget="10/s,burst=20",
        outages=["/square/v2/orders/search=2026-11-05T12:00Z..2026-11-05T12:10Z"],
    )
    assert (config.error_503, config.slow, config.drop) == (0.02, 0.01, 0.005)
    assert (config.budget_per_second, config.budget_capacity) == (10.0, 20)
    assert config.outages[0].path_prefix == "/square/v2/orders/search"
    assert FaultConfig.from_cli(budget="2.5/s").budget_capacity == 3


def test_config_rejects_rates_over_one_and_outages_outside_faultable_paths() -> None:
    with pytest.raises(ValueError, match=r"add up to 1\.2"):
        FaultConfig.from_cli(faults=["500=0.7", "503=0.5"])
    with pytest.raises(ValueError, match="outside the faultable paths"):
        FaultConfig.from_cli(outages=["/square/oauth2/token=2026-11-05T12:00Z..2026-11-05T12:10Z"])
