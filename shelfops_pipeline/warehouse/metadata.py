"""What every source and unified asset reports: one summary line, Dagster's table metadata keys,
the API call counters and a short preview of the partition it wrote.

Only row values and counters go in: tokens and auth headers never reach an asset's scope.
"""

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq

from shelfops_pipeline.http.stats import CallStats

if TYPE_CHECKING:
    from shelfops_pipeline.warehouse.resources import WarehouseResource

PREVIEW_ROWS = 5
PREVIEW_CELL_CHARS = 40


def column_schema(schema: pa.Schema) -> dg.TableSchema:
    return dg.TableSchema(columns=[dg.TableColumn(f.name, str(f.type)) for f in schema])


def _cell(value: Any) -> str:
    text = str(value).replace("|", "\\|").replace("\n", " ")
    return text if len(text) <= PREVIEW_CELL_CHARS else text[: PREVIEW_CELL_CHARS - 1] + "…"


def preview(path: Path) -> dg.MetadataValue:
    """The first rows of a written partition file as a Markdown table."""
    names = pq.read_schema(path).names
    batch = next(pq.ParquetFile(path).iter_batches(batch_size=PREVIEW_ROWS), None)
    rows = batch.to_pylist()[:PREVIEW_ROWS] if batch is not None else []
    lines = ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
    lines += ["| " + " | ".join(_cell(row[name]) for name in names) + " |" for row in rows]
    return dg.MetadataValue.md("\n".join(lines))


def partition_metadata(
    table_name: str, path: Path, schema: pa.Schema, rows: int, stats: CallStats | None = None
) -> dict[str, Any]:
    """Standard metadata of one written partition, plus the HTTP counters when calls were made."""
    metadata: dict[str, Any] = {
        "dagster/partition_row_count": rows,
        "dagster/column_schema": column_schema(schema),
        "dagster/table_name": table_name,
        "path": dg.MetadataValue.path(str(path)),
        "preview": preview(path),
    }
    if stats is not None:
        metadata.update(stats.as_metadata())
    return metadata


def log_summary(
    context: dg.AssetExecutionContext,
    rows: int,
    window: str,
    stats: CallStats | None = None,
    counts: Mapping[str, int] | None = None,
) -> None:
    """One INFO line per materialization: rows, window, and what the API calls cost."""
    extra = "".join(f", {n} {what}" for what, n in (counts or {}).items())
    if stats is None:
        context.log.info("%s: %d rows for %s%s", context.partition_key, rows, window, extra)
        return
    calls = stats.as_metadata()
    context.log.info(
        "%s: %d rows for %s%s; %d calls, %d retries, waited %.1f s",
        context.partition_key,
        rows,
        window,
        extra,
        calls["http_calls"],
        calls["http_retries"],
        calls["http_limiter_wait_seconds"] + calls["http_backoff_wait_seconds"],
    )


def table_definition_metadata(name: str, table_schema: pa.Schema) -> dict[str, Any]:
    """Definition metadata, so the UI shows where a raw table lives and its columns."""
    return {"dagster/table_name": name, "dagster/column_schema": column_schema(table_schema)}


def partition_result(
    warehouse: "WarehouseResource",
    table: str,
    partition: Mapping[str, str],
    schema: pa.Schema,
    rows: int,
    stats: CallStats,
    **extra: Any,
) -> dg.MaterializeResult:
    """The materialization of one written partition: table metadata, counters, preview, extras."""
    path = warehouse.file(table, partition)
    return dg.MaterializeResult(
        metadata={**partition_metadata(table, path, schema, rows, stats), **extra}
    )
