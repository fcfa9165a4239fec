"""The analysts' DuckDB file: views over the Parquet lake, so no run ever holds a write lock.

Runs write Parquet partitions only; the database holds views, created once (and again when the
lake's tables change), so a backfill in parallel processes never waits on DuckDB's single writer.
"""

import logging
from pathlib import Path

import duckdb
from tenacity import Retrying, retry_if_exception_type, stop_after_delay, wait_random_exponential

logger = logging.getLogger(__name__)

TABLES = ("stores", "products", "inventory_snapshots", "transactions")
SCHEMA = "shelfops"
# Another process may hold the file right now; DuckDB allows one writer at a time.
LOCK_PATIENCE_SECONDS = 10.0


def publish_views(database: Path, lake: Path) -> bool:
    """`ensure_views`, waiting out another writer; False when the file stayed locked."""
    try:
        for attempt in Retrying(
            retry=retry_if_exception_type(duckdb.IOException),
            stop=stop_after_delay(LOCK_PATIENCE_SECONDS),
            wait=wait_random_exponential(multiplier=0.05, max=1.0),
            reraise=True,
        ):
            with attempt:
                ensure_views(database, lake)
    except duckdb.IOException as error:
        logger.warning(
            "%s stays locked (%s); its views are refreshed by the next run", database, error
        )
        return False
    return True


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
