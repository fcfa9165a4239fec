"""The Parquet lake: one file per partition, replaced atomically, in hive-style folders.

`lake/<table>/customer_id=<c>/<key>=<value>/part.parquet`. A write goes to a temporary file in the
same folder and is renamed over the old one, so readers see the old partition or the new one,
never half of either, and a rerun replaces rather than appends. Different partitions are
different files, so runs in separate processes never contend.
"""

import itertools
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

PART_FILE = "part.parquet"
# Where pyarrow keeps the Arrow schema among a file's key-value metadata.
ARROW_SCHEMA_KEY = b"ARROW:schema"


def partition_dir(lake: Path, table: str, partition: Mapping[str, str]) -> Path:
    folder = lake / table
    for key, value in partition.items():
        if not value or "/" in value or value in (".", ".."):
            raise ValueError(f"partition value {value!r} for {key} cannot be a folder name")
        folder = folder / f"{key}={value}"
    return folder


def to_table(rows: Iterable[Any], schema: pa.Schema) -> pa.Table:
    """Dataclass rows -> an Arrow table of exactly `schema` (decimals stay exact).

    Fields are read as they are: every column is a scalar, and `dataclasses.asdict` would
    deep-copy each value for nothing (over half of this function's time on order rows).
    """
    records = list(rows)
    columns = {name: [getattr(r, name) for r in records] for name in schema.names}
    return pa.table(columns, schema=schema)


@contextmanager
def partition_writer(
    lake: Path, table: str, partition: Mapping[str, str], schema: pa.Schema
) -> Iterator[pq.ParquetWriter]:
    """A writer for the whole of one partition: committed atomically when the block ends, or
    discarded (the old partition kept) when it raises. Batches stream to disk as they come."""
    folder = partition_dir(lake, table, partition)
    folder.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".part-", suffix=".tmp", dir=folder)
    os.close(handle)
    try:
        with pq.ParquetWriter(temporary, schema, compression="zstd") as writer:
            yield writer
        with open(temporary, "rb") as written:
            os.fsync(written.fileno())
        os.replace(temporary, folder / PART_FILE)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_rows(
    writer: pq.ParquetWriter, rows: Iterable[Any], schema: pa.Schema, batch_rows: int = 10_000
) -> int:
    """Write dataclass rows in batches of `batch_rows`; returns how many were written."""
    written = 0
    iterator = iter(rows)
    while batch := list(itertools.islice(iterator, batch_rows)):
        writer.write_table(to_table(batch, schema))
        written += len(batch)
    return written


def replace_partition(lake: Path, table: str, partition: Mapping[str, str], data: pa.Table) -> Path:
    """Write `data` as the whole of one partition, atomically; returns the file's path.

    Partition columns are kept inside the file as well, so a file read alone is self-describing.
    """
    with partition_writer(lake, table, partition, data.schema) as writer:
        writer.write_table(data)
    return partition_dir(lake, table, partition) / PART_FILE


def read_partition(lake: Path, table: str, partition: Mapping[str, str]) -> pa.Table | None:
    target = partition_dir(lake, table, partition) / PART_FILE
    return pq.read_table(target) if target.exists() else None


def partition_batches(
    lake: Path, table: str, partition: Mapping[str, str], columns: list[str] | None = None
) -> Iterator[pa.RecordBatch] | None:
    """One partition's rows in record batches, read as they are consumed; None when unwritten."""
    target = partition_dir(lake, table, partition) / PART_FILE
    if not target.exists():
        return None
    return pq.ParquetFile(target).iter_batches(columns=columns)


def partition_metadata(
    lake: Path, table: str, partition: Mapping[str, str]
) -> dict[str, str] | None:
    """The key-value metadata a writer added to one partition's file (`add_key_value_metadata`);
    None when the partition was never written."""
    target = partition_dir(lake, table, partition) / PART_FILE
    if not target.exists():
        return None
    stored = pq.ParquetFile(target).metadata.metadata or {}
    return {
        key.decode(): value.decode() for key, value in stored.items() if key != ARROW_SCHEMA_KEY
    }


def partition_values(lake: Path, table: str, prefix: Mapping[str, str], key: str) -> list[str]:
    """Sorted values of `key` among the written partitions under `prefix`."""
    folder = partition_dir(lake, table, prefix)
    if not folder.is_dir():
        return []
    return sorted(
        child.name.split("=", 1)[1]
        for child in folder.glob(f"{key}=*")
        if any(child.glob(f"**/{PART_FILE}"))
    )


def read_partitions(lake: Path, table: str, prefix: Mapping[str, str]) -> pa.Table | None:
    """Every written partition under `prefix` as one table; None when there is none."""
    files = sorted(partition_dir(lake, table, prefix).glob(f"**/{PART_FILE}"))
    if not files:
        return None
    return pa.concat_tables([pq.read_table(f) for f in files], promote_options="default")
