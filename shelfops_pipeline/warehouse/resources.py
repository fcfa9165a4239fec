"""Where the warehouse lives: the Parquet lake and the analysts' DuckDB file under SHELFOPS_HOME."""

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
import pyarrow as pa
from pydantic import Field

from shelfops_pipeline.credentials.paths import shelfops_home
from shelfops_pipeline.warehouse import lake
from shelfops_pipeline.warehouse.duckdb_views import ensure_views


class WarehouseResource(dg.ConfigurableResource):
    """The lake (`$SHELFOPS_HOME/lake`) and DuckDB file (`$SHELFOPS_HOME/warehouse.duckdb`)."""

    shelfops_home: str | None = Field(
        default=None, description="Data directory; default SHELFOPS_HOME or ./data."
    )

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

    def read(self, table: str, partition: Mapping[str, str]) -> pa.Table | None:
        return lake.read_partition(self.lake, table, partition)

    def publish(self) -> None:
        """Make sure DuckDB has a view per unified table; views read new files on every query."""
        ensure_views(self.database, self.lake)
