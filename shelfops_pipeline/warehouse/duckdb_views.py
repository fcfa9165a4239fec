"""The analysts' DuckDB file: views over the Parquet lake, so no run ever holds a write lock.

Runs write Parquet partitions only; the database holds views, created once (and again when the
lake's tables change), so a backfill in parallel processes never waits on DuckDB's single writer.
"""

from pathlib import Path

import duckdb

TABLES = ("stores", "products", "inventory_snapshots", "transactions")
SCHEMA = "shelfops"


def ensure_views(database: Path, lake: Path) -> None:
    """Create or refresh one view per unified table over its Parquet files."""
    database.parent.mkdir(parents=True, exist_ok=True)
    connection = duckdb.connect(str(database))
    try:
        connection.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
        for table in TABLES:
            # Absolute, so the views work from any working directory an analyst opens them in.
            files = (lake / table).resolve().as_posix() + "/**/*.parquet"
            if not any((lake / table).glob("**/*.parquet")):
                continue
            connection.execute(
                f"CREATE OR REPLACE VIEW {SCHEMA}.{table} AS "
                f"SELECT * FROM read_parquet('{files}', hive_partitioning = false, union_by_name = true)"
            )
    finally:
        connection.close()
