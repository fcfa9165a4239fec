"""Alerts: a run that fails during a Square outage posts one alert when the merchant's circuit
opens and one through the run-failure sensor, each with the source, customer, partition, error and
a link to the run, to a loopback receiver; without a webhook URL they are logged; a dead or failing
receiver fails nothing; the webhook URL (a secret) and the merchant's token appear nowhere."""

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import dagster as dg
import pytest
from conftest import FROZEN_NOW
from credential_helpers import ENV_VARS
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from warehouse_helpers import QUIET, asset_named

from shelfops_pipeline.alerts.alert import RunScope
from shelfops_pipeline.alerts.circuit import circuit_alert_listener
from shelfops_pipeline.alerts.poster import ALERT_URL_ENV
from shelfops_pipeline.alerts.sensors import run_failure_alert_sensor
from shelfops_pipeline.credentials.keys import ensure_local_key_file
from shelfops_pipeline.credentials.models import TokenSet
from shelfops_pipeline.credentials.paths import HOME_ENV, store_path
from shelfops_pipeline.credentials.secret import Secret
from shelfops_pipeline.credentials.store import CredentialStore
from shelfops_pipeline.http.breaker import (
    SHARED_BREAKERS,
    BreakerConfig,
    BreakerRegistry,
    CircuitOpened,
)
from shelfops_pipeline.http.errors import UpstreamUnavailable
from shelfops_pipeline.sandbox.faults import FaultConfig
from shelfops_pipeline.sandbox.faults.config import Outage
from shelfops_pipeline.sandbox.runner import free_loopback_port, serve_in_thread
from shelfops_pipeline.sandbox.server import build_sandbox
from shelfops_pipeline.sandbox.settings import SandboxSettings
from shelfops_pipeline.sources.square.assets import square_assets
from shelfops_pipeline.sources.square.resources import SquareResource
from shelfops_pipeline.warehouse.resources import WarehouseResource

pytestmark = pytest.mark.timeout(60)

# A seed of its own: its merchants' breakers in the process-wide registry are this module's alone.
ALERT_SEED = 4242
# Shaped like a Slack webhook URL: the path is the credential.
SECRET_PATH = "/services/T0ALERTS/B0ALERTS/xoxSECRETwebhookTOKEN"
UI_URL = "http://127.0.0.1:3999/"
OUTAGE = Outage("/square/v2/", FROZEN_NOW - timedelta(hours=1), FROZEN_NOW + timedelta(hours=1))
ALERTS_LOGGER = "shelfops_pipeline.alerts.poster"


@dataclass
class Receiver:
    """A loopback alert receiver: 200 on SECRET_PATH, 503 under /down/; it keeps every body."""

    base_url: str
    posts: list[tuple[str, dict[str, Any]]]

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return [body for path, body in self.posts if path == SECRET_PATH]


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    posts: list[tuple[str, dict[str, Any]]] = []

    async def receive(request: Request) -> JSONResponse:
        posts.append((request.url.path, await request.json()))
        status = 503 if request.url.path.startswith("/down/") else 200
        return JSONResponse({"ok": status == 200}, status_code=status)

    app = Starlette(routes=[Route("/{path:path}", receive, methods=["POST"])])
    with serve_in_thread(app) as base_url:
        yield Receiver(base_url, posts)


@dataclass
class FailedRun:
    result: dg.ExecuteInProcessResult
    instance: dg.DagsterInstance
    customer: str
    merchant: str
    partition: str
    token: str
    circuit_posts: list[dict[str, Any]]

    @property
    def job(self) -> str:
        return self.result.dagster_run.job_name

    @property
    def run_url(self) -> str:
        return f"{UI_URL.rstrip('/')}/runs/{self.result.run_id}"


@pytest.fixture(scope="module")
def failed_run(receiver: Receiver, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FailedRun]:
    """square/catalog for one customer and day, while Square's API is down for everyone."""
    home = tmp_path_factory.mktemp("alerts_home")
    sandbox = build_sandbox(
        SandboxSettings(
            seed=ALERT_SEED,
            scale="small",
            frozen_at=FROZEN_NOW,
            faults=FaultConfig(outages=(OUTAGE,)),
        )
    )
    customer = next(c for c in sandbox.world.customers if c.square_merchant_id)
    merchant = str(customer.square_merchant_id)
    token = sandbox.tokens.personal_tokens()[merchant]
    with pytest.MonkeyPatch.context() as patch, serve_in_thread(sandbox.app) as base_url:
        patch.setenv(HOME_ENV, str(home))
        for name in ENV_VARS:
            patch.delenv(name, raising=False)
        patch.setenv(ALERT_URL_ENV, receiver.base_url + SECRET_PATH)
        patch.setenv("SHELFOPS_UI_URL", UI_URL)
        ensure_local_key_file(home)
        CredentialStore(store_path(home)).upsert_connection(
            customer_id=customer.id,
            source="square",
            account=merchant,
            scopes=["ITEMS_READ"],
            tokens=TokenSet(Secret(token), None),
        )
        partition = dg.MultiPartitionKey({"customer": customer.id, "date": str(FROZEN_NOW.date())})
        resources = {
            "square": SquareResource(
                base_url=f"{base_url}/square",
                shelfops_home=str(home),
                max_attempts=2,
                failure_threshold=2,
            ),
            "warehouse": WarehouseResource(shelfops_home=str(home), as_of=FROZEN_NOW.isoformat()),
        }
        with dg.DagsterInstance.ephemeral(tempdir=str(home / "dagster")) as instance:
            instance.add_dynamic_partitions("customers", [customer.id])
            before = len(receiver.bodies)
            result = dg.materialize(
                [asset_named(square_assets, "square/catalog")],
                partition_key=partition,
                resources=resources,
                instance=instance,
                run_config=QUIET,
                raise_on_error=False,
            )
            assert not result.success
            yield FailedRun(
                result,
                instance,
                customer.id,
                merchant,
                str(partition),
                token,
                receiver.bodies[before:],
            )


def evaluate_sensor(run: FailedRun) -> None:
    failure = run.result.get_run_failure_event()
    context = dg.build_run_status_sensor_context(
        sensor_name="run_failure_alert_sensor",
        dagster_event=failure,
        dagster_instance=run.instance,
        dagster_run=run.result.dagster_run,
    ).for_run_failure()
    run_failure_alert_sensor(context)


def assert_no_secret(run: FailedRun, *texts: str) -> None:
    for text in texts:
        assert SECRET_PATH not in text and "xoxSECRET" not in text
        assert run.token not in text


def test_a_circuit_opening_during_a_run_posts_one_alert(failed_run: FailedRun) -> None:
    (alert,) = failed_run.circuit_posts
    assert alert["title"] == f"square circuit opened for account {failed_run.merchant}"
    assert alert["source"] == "square"
    assert alert["customer"] == failed_run.customer
    assert alert["account"] == failed_run.merchant
    assert alert["partition"] == failed_run.partition == f"{failed_run.customer}|2026-11-05"
    assert alert["run_url"] == failed_run.run_url
    assert alert["error"].startswith("2 consecutive failed calls; calls fail fast for 30 s; last: ")
    assert "-> HTTP 503" in alert["error"]
    assert alert["text"].startswith(f"ShelfOps: {alert['title']}\n")
    assert failed_run.run_url in alert["text"]
    assert_no_secret(failed_run, str(alert))


def test_a_failed_run_posts_one_alert_through_the_run_failure_sensor(
    failed_run: FailedRun, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    before = len(receiver.bodies)
    with caplog.at_level(logging.DEBUG):
        evaluate_sensor(failed_run)
    (alert,) = receiver.bodies[before:]
    assert alert["title"] == f"run failed: {failed_run.job}"
    assert alert["source"] == "square"
    assert alert["customer"] == failed_run.customer
    assert alert["partition"] == failed_run.partition
    assert alert["account"] is None
    assert alert["run_url"] == failed_run.run_url
    error = alert["error"]
    assert "\n" not in error and len(error) <= 500
    assert error.startswith(f'Execution of run for "{failed_run.job}" failed.')
    assert f"square__catalog: square/catalog for {failed_run.partition} failed" in error
    assert "-> HTTP 503" in error
    assert alert["text"].splitlines()[1] == (
        f"source square, customer {failed_run.customer}, partition {failed_run.partition}"
    )
    # httpx logged the post, but with the webhook's path hidden.
    requests = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert any("/[alert webhook path]" in line for line in requests), requests
    assert_no_secret(failed_run, str(alert), *(r.getMessage() for r in caplog.records))


def test_without_a_webhook_url_alerts_are_logged(
    failed_run: FailedRun,
    receiver: Receiver,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(ALERT_URL_ENV)
    before = len(receiver.posts)
    with caplog.at_level(logging.WARNING, logger=ALERTS_LOGGER):
        evaluate_sensor(failed_run)
        opened = open_a_circuit("acct-logged")
    assert len(receiver.posts) == before
    run_alert, circuit_alert = [r for r in caplog.records if r.name == ALERTS_LOGGER]
    assert run_alert.levelno == logging.ERROR
    assert run_alert.getMessage().startswith(f"ShelfOps: run failed: {failed_run.job}\n")
    assert f"partition {failed_run.partition}" in run_alert.getMessage()
    assert f"run: {failed_run.run_url}" in run_alert.getMessage()
    assert f"(set {ALERT_URL_ENV} to post alerts)" in run_alert.getMessage()
    assert circuit_alert.levelno == logging.WARNING
    assert f"square circuit opened for account {opened.account}" in circuit_alert.getMessage()


def open_a_circuit(account: str) -> CircuitOpened:
    """Open one circuit of a fresh registry whose listener alerts outside any run."""
    registry = BreakerRegistry()
    heard: list[CircuitOpened] = []
    registry.add_open_listener(heard.append)
    registry.add_open_listener(circuit_alert_listener(RunScope(), "square"))
    breaker = registry.breaker("square", account, BreakerConfig(failure_threshold=1))
    breaker.record_failure(
        UpstreamUnavailable(
            source="square",
            account=account,
            method="GET",
            path="/v2/locations",
            status=503,
            detail="SERVICE_UNAVAILABLE",
        )
    )
    (opened,) = heard
    return opened


@pytest.mark.parametrize("where", ["nothing listening", "answers 503"])
def test_a_dead_or_failing_receiver_fails_nothing(
    failed_run: FailedRun,
    receiver: Receiver,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    where: str,
) -> None:
    if where == "nothing listening":
        url = f"http://127.0.0.1:{free_loopback_port()}{SECRET_PATH}"
    else:
        url = f"{receiver.base_url}/down{SECRET_PATH}"
    monkeypatch.setenv(ALERT_URL_ENV, url)
    before = len(receiver.posts)
    with caplog.at_level(logging.DEBUG):
        evaluate_sensor(failed_run)
        open_a_circuit(f"acct-{where.replace(' ', '-')}")
    undelivered = [r for r in caplog.records if r.getMessage().startswith("alert not delivered")]
    assert len(undelivered) == 2
    reason = "(ConnectError)" if where == "nothing listening" else "(HTTP 503)"
    assert all(reason in r.getMessage() for r in undelivered)
    if where == "answers 503":
        assert len(receiver.posts) - before == 2 * 3, "each alert is tried three times"
    assert_no_secret(failed_run, *(r.getMessage() for r in caplog.records))


def test_a_webhook_url_that_is_not_https_is_refused_without_being_quoted(
    failed_run: FailedRun, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ALERT_URL_ENV, f"http://hooks.example.com{SECRET_PATH}")
    with caplog.at_level(logging.ERROR, logger=ALERTS_LOGGER):
        evaluate_sensor(failed_run)
    (record,) = caplog.records
    assert record.getMessage().startswith(
        f"{ALERT_URL_ENV} is not usable: it must be an https URL (plain http only to a loopback "
        "host); the alert was: ShelfOps: run failed"
    )
    assert "hooks.example.com" not in record.getMessage()
    assert_no_secret(failed_run, record.getMessage())


def test_the_run_left_no_listener_behind_and_a_failing_listener_fails_no_call(
    failed_run: FailedRun, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    before = len(receiver.posts)
    error = UpstreamUnavailable(
        source="square", account="x", method="GET", path="/v2/x", status=503, detail="down"
    )
    SHARED_BREAKERS.breaker("square", "acct-after-run", BreakerConfig(1)).record_failure(error)
    assert len(receiver.posts) == before, "the run's resource removed its listener at teardown"

    def broken(event: CircuitOpened) -> None:
        raise RuntimeError("listener bug")

    registry = BreakerRegistry()
    registry.add_open_listener(broken)
    with caplog.at_level(logging.ERROR):
        registry.breaker("square", "acct-broken", BreakerConfig(1)).record_failure(error)
    assert registry.breaker("square", "acct-broken").state == "open"
    assert "an open-circuit listener failed for acct-broken" in caplog.text
