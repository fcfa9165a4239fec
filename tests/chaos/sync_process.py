"""`shelfops sync` as an operator runs it: its own process, against the sandbox `lakehouse` serves
in this one, with what the lake looks like to an analyst (every Parquet file, the DuckDB views)."""

import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from warehouse_helpers import Lakehouse

from shelfops_pipeline.sandbox.truth import COLUMNS, truth_lines

SHELFOPS = str(Path(sys.executable).parent / "shelfops")
PART_FILE = "part.parquet"
# One line per customer and business day the views show: lines and net sales.
DAY_TOTALS_SQL = (
    "SELECT customer_id, business_date, count(*) AS lines, sum(net_amount) AS net "
    "FROM shelfops.transactions GROUP BY ALL ORDER BY ALL"
)
DayTotals = dict[tuple[str, str], tuple[int, Decimal]]


@dataclass(frozen=True)
class SyncCli:
    """The `shelfops` command over `house`'s data directory and sandbox."""

    house: Lakehouse
    dagster_home: Path

    @property
    def lake(self) -> Path:
        return self.house.home / "lake"

    def env(self) -> dict[str, str]:
        square = self.house.resources["square"]
        return {
            **os.environ,
            "SHELFOPS_HOME": str(self.house.home),
            "DAGSTER_HOME": str(self.dagster_home),
            "SHELFOPS_SQUARE_BASE_URL": square.base_url,
            "SHELFOPS_SQUARE_CLIENT_ID": square.client_id,
            "SHELFOPS_SQUARE_CLIENT_SECRET": square.client_secret,
        }

    def start_sync(self, customers: list[str], first: date, last: date) -> subprocess.Popen[str]:
        command = [SHELFOPS, "sync", "--start", str(first), "--end", str(last)]
        for customer in customers:
            command += ["--customer", customer]
        return subprocess.Popen(
            command, env=self.env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )

    def query(self, sql: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [SHELFOPS, "query", sql], env=self.env(), capture_output=True, text=True, timeout=120
        )

    def day_totals(self) -> DayTotals | None:
        """Lines and net sales per customer and day, read through the views as an analyst's
        DuckDB session does; None before the transactions view exists."""
        database = self.house.warehouse.database
        if not database.exists():
            return None
        connection = duckdb.connect(str(database), read_only=True)
        try:
            rows = connection.execute(DAY_TOTALS_SQL).fetchall()
        except duckdb.CatalogException:
            return None
        finally:
            connection.close()
        return {(customer, str(day)): (lines, net) for customer, day, lines, net in rows}

    def day_totals_from_the_cli(self) -> DayTotals:
        """The same through `shelfops query`, parsing the table it prints."""
        reply = self.query(DAY_TOTALS_SQL)
        assert reply.returncode == 0, reply.stderr
        totals: DayTotals = {}
        for line in reply.stdout.splitlines()[1:]:
            customer, day, lines, net = line.split()
            totals[customer, day] = (int(lines), Decimal(net))
        return totals


def temporary_files(lake: Path) -> Iterator[str]:
    """The names of the partition files being written right now (see `lake.partition_writer`)."""
    for folder, _, names in os.walk(lake):
        for name in names:
            if name.startswith(".part-") and name.endswith(".tmp"):
                yield os.path.join(folder, name)


def visible_partitions(lake: Path) -> dict[str, Counter[str]]:
    """Every committed partition file, read whole: its rows as JSON texts (a multiset)."""
    visible = {}
    for path in sorted(lake.rglob(PART_FILE)):
        try:
            rows = pq.read_table(path).to_pylist()
        except pa.ArrowInvalid as error:
            raise AssertionError(f"a partial partition is visible: {path}: {error}") from None
        visible[str(path.relative_to(lake))] = Counter(
            json.dumps(row, default=str, sort_keys=True) for row in rows
        )
    return visible


def truth_rows(house: Lakehouse, customer: str, day: date) -> set[tuple[Any, ...]]:
    return {
        tuple(getattr(line, name) for name in COLUMNS)
        for line in truth_lines(house.world, day)
        if line.customer_id == customer and line.source_system == "square"
    }


def transactions_rows(lake: Path, customer: str, day: date) -> set[tuple[Any, ...]] | None:
    """One committed transactions partition as truth-shaped tuples; None when not written."""
    path = lake / "transactions" / f"customer_id={customer}" / f"business_date={day}" / PART_FILE
    if not path.exists():
        return None
    rows = pq.read_table(path, columns=list(COLUMNS)).to_pylist()
    return {tuple(row[name] for name in COLUMNS) for row in rows}
