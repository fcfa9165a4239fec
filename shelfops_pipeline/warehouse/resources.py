"""Where the warehouse lives: the Parquet lake and the analysts' DuckDB file under SHELFOPS_HOME."""

from collections.abc import Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import Field

from shelfops_pipeline.credentials.paths import shelfops_home
from shelfops_pipeline.timestamps import parse_rfc3339
from shelfops_pipeline.warehouse import lake
from shelfops_pipeline.warehouse.duckdb_views import publish_views


class WarehouseResource(dg.ConfigurableResource):
    """The lake (`$SHELFOPS_HOME/lake`) and DuckDB file (`$SHELFOPS_HOME/warehouse.duckdb`)."""

    shelfops_home: str | None = Field(
        default=None, description="Data directory; default SHELFOPS_HOME or ./data."
    )
    as_of: str | None = Field(
        default=None,
        description="Treat this RFC 3339 instant as now, to sync from a source whose clock is "
        "frozen (the sandbox in tests and replays); default the real clock.",
    )

    def now(self) -> datetime:
        """What the syncs take as the current instant: which partitions are past or unfinished."""
        return parse_rfc3339(self.as_of) if self.as_of else datetime.now(UTC)

    @property
    def home(self) -> Path:
        return Path(self.shelfops_home) if self.shelfops_home else shelfops_home()

    @property
    def lake(self) -> Path:
        return self.home / "lake"

    @property
    def database(self) -> Path:
        return self.home / "warehouse.duckdb"

    def replace(
        self, table: str, partition: Mapping[str, str], rows: Iterable[Any], schema: pa.Schema
    ) -> Path:
        """Replace one partition of `table` with `rows` (dataclasses matching `schema`)."""
        return lake.replace_partition(self.lake, table, partition, lake.to_table(rows, schema))

    def replace_table(self, table: str, partition: Mapping[str, str], data: pa.Table) -> Path:
        return lake.replace_partition(self.lake, table, partition, data)

    def writer(
        self, table: str, partition: Mapping[str, str], schema: pa.Schema
    ) -> AbstractContextManager[pq.ParquetWriter]:
        """Stream batches into one partition, replaced atomically when the block ends."""
        return lake.partition_writer(self.lake, table, partition, schema)

    def file(self, table: str, partition: Mapping[str, str]) -> Path:
        """Where one partition's file is (or would be)."""
        return lake.partition_dir(self.lake, table, partition) / lake.PART_FILE

    def read(self, table: str, partition: Mapping[str, str]) -> pa.Table | None:
        return lake.read_partition(self.lake, table, partition)

    def batches(
        self, table: str, partition: Mapping[str, str], columns: list[str] | None = None
    ) -> Iterator[pa.RecordBatch] | None:
        """One partition's rows in record batches, so a large day is never whole in memory."""
        return lake.partition_batches(self.lake, table, partition, columns)

    def read_all(self, table: str, prefix: Mapping[str, str]) -> pa.Table | None:
        """Every written partition under `prefix` (say, one customer's) as one table."""
        return lake.read_partitions(self.lake, table, prefix)

    def partition_values(self, table: str, prefix: Mapping[str, str], key: str) -> list[str]:
        """Sorted values of `key` among written partitions under `prefix` (say, a customer's days)."""
        return lake.partition_values(self.lake, table, prefix, key)

    def partition_metadata(self, table: str, partition: Mapping[str, str]) -> dict[str, str] | None:
        return lake.partition_metadata(self.lake, table, partition)

    def publish(self) -> bool:
        """Make sure DuckDB has a view per unified table; views read new files on every query.

        Waits a few seconds for another process's lock; False when the file stayed locked.
        """
        return publish_views(self.database, self.lake)
