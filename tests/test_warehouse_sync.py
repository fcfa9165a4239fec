"""`shelfops sync` backfills a date range through Dagster: every partition is filled with exactly the
truth and recorded in the Dagster instance, and one customer's backfill leaves the others' files
alone."""

import hashlib
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import astuple
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from credential_helpers import OAuthSandbox, connect_customer, isolate, serve_oauth_sandbox

from shelfops_pipeline.cli import cli
from shelfops_pipeline.credentials.keys import ensure_local_key_file
from shelfops_pipeline.credentials.store import CredentialStore
from shelfops_pipeline.sandbox.truth import truth_lines
from shelfops_pipeline.warehouse.sync import SYNC_TAG

# Old enough that no offline order can still arrive (they upload up to 72 hours late).
FIRST_DAY_BACK = 6


@pytest.fixture
def oauth(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[OAuthSandbox]:
    """Two of the sandbox's Square customers connected; a Dagster instance under tmp_path."""
    isolate(monkeypatch, tmp_path)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    ensure_local_key_file(tmp_path)
    with serve_oauth_sandbox() as running:
        for name, value in running.env().items():
            monkeypatch.setenv(name, value)
        store = CredentialStore()
        for index in (0, 2):
            connect_customer(running, store, index)
        yield running


def _days() -> list[date]:
    today = datetime.now(UTC).date()
    return [today - timedelta(days=FIRST_DAY_BACK), today - timedelta(days=FIRST_DAY_BACK - 1)]


def _sync(*args: str) -> str:
    days = _days()
    result = CliRunner().invoke(
        cli, ["sync", "--start", str(days[0]), "--end", str(days[-1]), *args]
    )
    assert result.exit_code == 0, result.output
    return result.output


def _files(lake: Path) -> dict[str, tuple[int, str]]:
    """Every lake file with its modification time and content digest."""
    return {
        str(path.relative_to(lake)): (
            path.stat().st_mtime_ns,
            hashlib.sha256(path.read_bytes()).hexdigest(),
        )
        for path in lake.rglob("*")
        if path.is_file()
    }


def test_a_date_range_backfill_fills_every_partition_with_the_truth(
    oauth: OAuthSandbox, tmp_path: Path
) -> None:
    customers = [oauth.customers[0][0], oauth.customers[2][0]]
    output = _sync()
    assert "8 of 8 partitions synced" in output  # stores, products, and 2 days of sales, each x2

    lake = tmp_path / "lake" / "transactions"
    for customer in customers:
        for day in _days():
            written = pq.read_table(lake / f"customer_id={customer}/business_date={day}")
            expected = {
                astuple(line)
                for line in truth_lines(oauth.sandbox.world, day)
                if line.customer_id == customer and line.source_system == "square"
            }
            assert expected, f"the sandbox sold nothing for {customer} on {day}"
            assert {tuple(row.values()) for row in written.to_pylist()} == expected

    with dg.DagsterInstance.get() as instance:
        filled = instance.get_materialized_partitions(dg.AssetKey("transactions"))
        sync_runs = [run for run in instance.get_runs() if SYNC_TAG in run.tags]
    assert {f"{c}|{d}" for c in customers for d in _days()} <= filled
    assert len(sync_runs) == 8
    assert len({run.tags[SYNC_TAG] for run in sync_runs}) == 1


def test_one_customers_backfill_touches_no_other_customers_files(
    oauth: OAuthSandbox, tmp_path: Path
) -> None:
    mine, other = oauth.customers[0][0], oauth.customers[2][0]
    _sync("--customer", other)
    lake = tmp_path / "lake"
    before = _files(lake)
    assert any(f"customer_id={other}" in path for path in before)

    output = _sync("--customer", mine)
    assert "4 of 4 partitions synced" in output
    after = _files(lake)
    assert {p: v for p, v in after.items() if f"customer_id={mine}" not in p} == before
    assert any(f"customer_id={mine}" in path for path in after)


def test_a_customer_without_a_connection_is_refused_before_any_run(oauth: OAuthSandbox) -> None:
    result = CliRunner().invoke(
        cli, ["sync", "--start", "2026-11-01", "--end", "2026-11-01", "--customer", "cust-404"]
    )
    assert result.exit_code != 0
    assert "cust-404 has no active connection" in result.output


def test_a_missing_square_url_stops_the_sync_with_one_clear_line(
    oauth: OAuthSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SHELFOPS_SQUARE_BASE_URL")
    result = CliRunner().invoke(cli, ["sync", "--start", "2026-11-01", "--end", "2026-11-01"])
    assert result.exit_code == 1
    assert 'environment variable "SHELFOPS_SQUARE_BASE_URL" which is not set' in result.output
    assert "Stack Trace" not in result.output


def test_four_partitions_synced_at_once_in_separate_processes_leave_exactly_the_truth(
    oauth: OAuthSandbox, tmp_path: Path
) -> None:
    """Parallel runs in separate processes write different partition files and never contend."""
    customers = [oauth.customers[0][0], oauth.customers[2][0]]
    _sync("--table", "stores", "--table", "products")
    shelfops = str(Path(sys.executable).parent / "shelfops")
    processes = []
    for customer in customers:
        for day in _days():
            window = ["--start", str(day), "--end", str(day)]
            command = [shelfops, "sync", *window, "--customer", customer, "--table", "transactions"]
            processes.append(
                subprocess.Popen(
                    command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
                )
            )
    outputs = [process.communicate(timeout=240)[0] for process in processes]
    failed = [out for process, out in zip(processes, outputs, strict=True) if process.returncode]
    assert not failed, "\n---\n".join(failed)
    lake = tmp_path / "lake" / "transactions"
    for customer in customers:
        for day in _days():
            written = pq.read_table(lake / f"customer_id={customer}/business_date={day}")
            expected = {
                astuple(line)
                for line in truth_lines(oauth.sandbox.world, day)
                if line.customer_id == customer and line.source_system == "square"
            }
            assert {tuple(row.values()) for row in written.to_pylist()} == expected
