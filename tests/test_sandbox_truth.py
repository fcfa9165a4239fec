"""`shelfops sandbox truth` prints exactly the lines a correct pipeline must produce for a day."""

import csv
import io
import json
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from click.testing import CliRunner
from conftest import FROZEN_NOW, SEED

from shelfops_pipeline.cli import cli
from shelfops_pipeline.sandbox.clock import SandboxClock
from shelfops_pipeline.sandbox.truth import COLUMNS
from shelfops_pipeline.sandbox.world.world import World

NOW = "2026-11-05T18:30:00Z"


def _truth(*args: str) -> str:
    result = CliRunner().invoke(cli, ["sandbox", "truth", "--scale", "small", "--now", NOW, *args])
    assert result.exit_code == 0, result.output
    return result.output


def _rows(day: str, seed: int = SEED) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(_truth("--seed", str(seed), "--date", day))))


def test_csv_has_the_transactions_columns_and_repeats_for_a_seed() -> None:
    text = _truth("--seed", str(SEED), "--date", "2026-11-02")
    assert text.splitlines()[0].split(",") == list(COLUMNS)
    assert text == _truth("--seed", str(SEED), "--date", "2026-11-02")
    assert text != _truth("--seed", str(SEED + 1), "--date", "2026-11-02")


def test_jsonl_matches_csv() -> None:
    lines = [
        json.loads(line)
        for line in _truth(
            "--seed", str(SEED), "--date", "2026-11-02", "--format", "jsonl"
        ).splitlines()
    ]
    assert lines == _rows("2026-11-02")


def test_amounts_are_exact_in_each_currency_and_returns_are_negative() -> None:
    rows = _rows("2026-11-01") + _rows("2026-11-02") + _rows("2026-11-03")
    for row in rows:
        digits = 0 if row["currency"] == "JPY" else 2
        for column in ("unit_price", "discount", "tax", "net_amount"):
            assert -Decimal(row[column]).as_tuple().exponent == digits, row
        net = Decimal(row["net_amount"])
        gross = Decimal(row["quantity"]) * Decimal(row["unit_price"])
        assert abs(net + Decimal(row["discount"]) - gross) <= Decimal(1).scaleb(-digits) / 2
        assert (net < 0) == (row["kind"] == "return")
    kinds = {(r["currency"], r["kind"]) for r in rows}
    assert {("JPY", "sale"), ("USD", "sale"), ("GBP", "sale")} <= kinds
    assert any(r["kind"] == "return" for r in rows)
    assert any("." in r["quantity"] for r in rows), "weight-sold lines carry decimal quantities"
    assert any(Decimal(r["discount"]) > 0 for r in rows)


def test_days_follow_each_stores_clock_across_midnight_and_daylight_saving() -> None:
    world = World(SEED, "small", SandboxClock(FROZEN_NOW))
    day = date(2026, 11, 1)
    rows = _rows(day.isoformat())
    zones = {s.id: s.timezone for s in world.stores + world.shopify_stores}
    for row in rows:
        occurred = row["occurred_at"].replace("Z", "+00:00")
        local = datetime.fromisoformat(occurred).astimezone(ZoneInfo(zones[row["store_id"]]))
        assert local.date() == day and row["business_date"] == day.isoformat()
    orders = {
        o.id: o
        for s in world.stores
        for o in world.orders_touching(s.id, world.history_start, FROZEN_NOW)
    }
    sold = {r["order_id"] for r in rows if r["kind"] == "sale" and r["source_system"] == "square"}
    assert all(orders[i].state_at(FROZEN_NOW) == "COMPLETED" for i in sold)
    opened_the_day_before = [
        i
        for i in sold
        if orders[i].created_at.astimezone(ZoneInfo(zones[orders[i].store_id])).date() < day
    ]
    assert opened_the_day_before, (
        "a tab opened before midnight and closed after it belongs to the next day"
    )
    canceled = {i for i, o in orders.items() if o.final_state != "COMPLETED"}
    assert not sold & canceled


def test_a_bad_date_is_a_one_line_usage_error() -> None:
    result = CliRunner().invoke(cli, ["sandbox", "truth", "--date", "yesterday"])
    assert result.exit_code == 2
    assert "'yesterday' does not match the format '%Y-%m-%d'" in result.output
