"""What the demo prints about the warehouse it filled: rows per table and sales per store and day,
read through the analysts' DuckDB views, and a query an analyst can paste."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb

from shelfops_pipeline.warehouse.duckdb_views import SCHEMA, TABLES
from shelfops_pipeline.warehouse.money import minor_digits

SALES_BY_STORE_AND_DAY = (
    f"SELECT s.name AS store, t.business_date, t.currency, sum(t.net_amount) AS net_sales, "
    f"count(*) AS lines FROM {SCHEMA}.transactions t "
    f"JOIN {SCHEMA}.stores s USING (customer_id, store_id) "
    f"GROUP BY ALL ORDER BY store, business_date"
)


@dataclass(frozen=True)
class StoreSales:
    store: str
    currency: str
    by_day: dict[date, Decimal]


@dataclass(frozen=True)
class WarehouseSummary:
    rows: dict[str, int]
    sales: list[StoreSales]
    days: list[date]


def summarize(database: Path) -> WarehouseSummary:
    """Row counts of the four tables and net sales per store and business day."""
    connection = duckdb.connect(str(database), read_only=True)
    try:
        views = {
            name
            for (name,) in connection.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = ?", [SCHEMA]
            ).fetchall()
        }
        rows = {
            table: connection.execute(f"SELECT count(*) FROM {SCHEMA}.{table}").fetchone()[0]
            if table in views
            else 0
            for table in TABLES
        }
        found = (
            connection.execute(SALES_BY_STORE_AND_DAY).fetchall()
            if {"transactions", "stores"} <= views
            else []
        )
    finally:
        connection.close()
    by_store: dict[tuple[str, str], dict[date, Decimal]] = defaultdict(dict)
    for store, day, currency, net_sales, _lines in found:
        by_store[(store, currency)][day] = net_sales
    sales = [StoreSales(store, currency, days) for (store, currency), days in by_store.items()]
    days = sorted({day for store in sales for day in store.by_day})
    return WarehouseSummary(rows, sales, days)


def _amount(value: Decimal | None, currency: str) -> str:
    """Exact, to the currency's minor unit: `1,234.50` USD, `45,600` JPY."""
    if value is None:
        return "-"
    return f"{value.quantize(Decimal(1).scaleb(-minor_digits(currency))):,}"


def sales_table(summary: WarehouseSummary) -> str:
    """One line per store, one column per business day, amounts in the store's currency.

    Hand-written: no table library is a direct dependency, and the layout is two loops.
    """
    header = ["store", "cur", *(day.strftime("%m-%d") for day in summary.days)]
    lines = [header] + [
        [s.store, s.currency, *(_amount(s.by_day.get(day), s.currency) for day in summary.days)]
        for s in summary.sales
    ]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join(
        "  ".join(
            cell.ljust(width) if i < 2 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(line, widths, strict=True))
        )
        for line in lines
    )
