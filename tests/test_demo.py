"""`make demo` runs `shelfops demo`: the sandbox's Square merchants and Shopify shop connect through
OAuth, the warehouse fills from both through Dagster with its checks passing, and running it again
gives the same warehouse."""

import re
import shutil
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from shelfops_pipeline.cli import cli
from shelfops_pipeline.credentials.keys import ensure_local_key_file

pytestmark = pytest.mark.timeout(240)

REPO = Path(__file__).resolve().parent.parent

STABLE_TABLES = {
    "stores": "store_id",
    "products": "product_id, valid_from",
    "transactions": "transaction_id",
}


def _demo() -> str:
    result = CliRunner().invoke(cli, ["demo"])
    assert result.exit_code == 0, result.output
    return result.output


def _tables(database: Path) -> dict[str, list[tuple[object, ...]]]:
    connection = duckdb.connect(str(database), read_only=True)
    try:
        return {
            table: connection.execute(f"SELECT * FROM shelfops.{table} ORDER BY {order}").fetchall()
            for table, order in STABLE_TABLES.items()
        }
    finally:
        connection.close()


def _transaction_sources(database: Path) -> set[tuple[str, str]]:
    """The (customer, source system) pairs the transactions come from."""
    connection = duckdb.connect(str(database), read_only=True)
    try:
        found = connection.execute(
            "SELECT DISTINCT customer_id, source_system FROM shelfops.transactions"
        ).fetchall()
    finally:
        connection.close()
    return {(str(customer), str(source)) for customer, source in found}


def _snapshot_keys(database: Path) -> tuple[int, int]:
    """How many snapshot rows, and how many distinct (store, product, hour) among them."""
    connection = duckdb.connect(str(database), read_only=True)
    try:
        row = connection.execute(
            "SELECT count(*), count(DISTINCT (store_id, product_id, snapshot_hour)) "
            "FROM shelfops.inventory_snapshots"
        ).fetchone()
    finally:
        connection.close()
    assert row is not None
    return int(row[0]), int(row[1])


def test_the_demo_fills_the_warehouse_and_a_rerun_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHELFOPS_HOME", str(tmp_path))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    (tmp_path / "dagster").mkdir()
    shutil.copy(REPO / "dagster.yaml", tmp_path / "dagster" / "dagster.yaml")  # as `make demo`
    monkeypatch.delenv("SHELFOPS_ENCRYPTION_KEYS", raising=False)
    ensure_local_key_file(tmp_path)

    output = _demo()
    assert len(re.findall(r"^connected cust-\d+ to Square merchant", output, re.M)) == 3
    shop = "harbor-pantry.myshopify.com"
    connected = f"connected cust-002 to Shopify shop {shop} (OAuth, approved by script)"
    assert connected in output.splitlines(), output
    # Partitions stay per customer: cust-002's runs carry its Square and Shopify rows together.
    assert re.search(r"transactions_job\s+21 of 21 partition runs ok", output)
    checks = re.search(r"^checks: (\d+) of (\d+) passed$", output, re.M)
    assert checks and checks.group(1) == checks.group(2) != "0", output
    # Five Square locations, and the shop's online store and warehouse.
    assert re.search(r"rows per table: stores 7, products \d[\d,]*, inventory_snapshots \d", output)
    assert re.search(r"^Harbor Pantry Shibuya\s+JPY(\s+[\d,]+){7}$", output, re.M), "yen: no cents"
    assert re.search(r"^Harbor Pantry Online Store\s+JPY(\s+[\d,]+){7}$", output, re.M), output
    assert re.search(r"^Copper Kettle Brooklyn\s+USD(\s+[\d,]+\.\d\d){7}$", output, re.M)
    database = tmp_path / "warehouse.duckdb"
    assert f"DuckDB file:  {database}" in output
    assert f"Parquet lake: {tmp_path / 'lake'}" in output
    assert _transaction_sources(database) == {
        ("cust-001", "square"),
        ("cust-002", "square"),
        ("cust-002", "shopify"),
        ("cust-003", "square"),
    }

    home = re.escape(str(tmp_path))
    query = re.search(rf'^  SHELFOPS_HOME={home} \.venv/bin/shelfops query "(.+)"$', output, re.M)
    assert query, output
    asked = CliRunner().invoke(cli, ["query", query.group(1)])
    assert asked.exit_code == 0, asked.output
    assert "Harbor Pantry Shibuya" in asked.output

    first = _tables(database)
    _demo()
    again = _tables(database)
    assert again["stores"] == first["stores"]
    assert again["products"] == first["products"]
    # The real clock may cross a store's midnight between the runs; the days both hold are equal.
    days = {row[-1] for row in first["transactions"]} & {row[-1] for row in again["transactions"]}
    assert len(days) >= 6
    assert [r for r in again["transactions"] if r[-1] in days] == [
        r for r in first["transactions"] if r[-1] in days
    ]
    rows, distinct = _snapshot_keys(database)
    assert rows == distinct > 0
