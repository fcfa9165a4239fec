"""Partition files are replaced whole and atomically; DuckDB views read the lake."""

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from shelfops_pipeline.warehouse import lake
from shelfops_pipeline.warehouse.duckdb_views import ensure_views
from shelfops_pipeline.warehouse.model import TransactionRow
from shelfops_pipeline.warehouse.schema import TRANSACTIONS


def _row(line: str, quantity: str, currency: str = "USD", net: str = "4.50") -> TransactionRow:
    return TransactionRow(
        transaction_id=f"square:o1:{line}", customer_id="cust-001", source_system="square",
        store_id="L1", product_id="V1", order_id="o1", line_id=line, kind="sale",
        quantity=Decimal(quantity), unit_price=Decimal(net), discount=Decimal(0), tax=Decimal("0.40"),
        net_amount=Decimal(net), currency=currency,
        occurred_at=datetime(2026, 11, 1, 12, tzinfo=UTC), business_date=date(2026, 11, 1),
    )  # fmt: skip


PARTITION = {"customer_id": "cust-001", "business_date": "2026-11-01"}


def test_a_rewrite_replaces_the_partition_and_keeps_decimals_exact(tmp_path: Path) -> None:
    lake.replace_partition(
        tmp_path,
        "transactions",
        PARTITION,
        lake.to_table([_row("a", "1"), _row("b", "1.25")], TRANSACTIONS),
    )
    lake.replace_partition(
        tmp_path,
        "transactions",
        PARTITION,
        lake.to_table([_row("a", "2.5"), _row("c", "1", "JPY", "450")], TRANSACTIONS),
    )
    files = list((tmp_path / "transactions").rglob("*.parquet"))
    assert len(files) == 1
    table = lake.read_partition(tmp_path, "transactions", PARTITION)
    assert table is not None
    assert table.column("line_id").to_pylist() == ["a", "c"]
    assert table.column("quantity").to_pylist() == [Decimal("2.50000"), Decimal("1.00000")]
    assert table.column("net_amount").to_pylist()[1] == Decimal("450")


def test_a_failed_write_leaves_the_old_partition_whole(tmp_path: Path) -> None:
    lake.replace_partition(
        tmp_path, "transactions", PARTITION, lake.to_table([_row("a", "1")], TRANSACTIONS)
    )
    with pytest.raises(OSError, match="disk full"):
        lake.replace_partition(tmp_path, "transactions", PARTITION, _ExplodingTable())  # type: ignore[arg-type]
    table = lake.read_partition(tmp_path, "transactions", PARTITION)
    assert table is not None and table.column("line_id").to_pylist() == ["a"]
    assert [p.name for p in lake.partition_dir(tmp_path, "transactions", PARTITION).iterdir()] == [
        "part.parquet"
    ]


class _ExplodingTable:
    """Stands in for a table whose write dies halfway."""

    def __getattr__(self, name: str) -> object:
        raise OSError("disk full")


def test_duckdb_views_read_the_lake(tmp_path: Path) -> None:
    lake.replace_partition(
        tmp_path / "lake",
        "transactions",
        PARTITION,
        lake.to_table([_row("a", "1.25")], TRANSACTIONS),
    )
    ensure_views(tmp_path / "warehouse.duckdb", tmp_path / "lake")
    connection = duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True)
    try:
        total = connection.execute(
            "SELECT sum(quantity), sum(net_amount) FROM shelfops.transactions"
        ).fetchone()
    finally:
        connection.close()
    assert total == (Decimal("1.25000"), Decimal("4.5000"))
