"""The Parquet lake: one file per partition, replaced atomically, in hive-style folders.

`lake/<table>/customer_id=<c>/<key>=<value>/part.parquet`. A write goes to a temporary file in the
same folder and is renamed over the old one, so readers see the old partition or the new one,
never half of either, and a rerun replaces rather than appends. Different partitions are
different files, so runs in separate processes never contend.
"""

import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

PART_FILE = "part.parquet"


def partition_dir(lake: Path, table: str, partition: Mapping[str, str]) -> Path:
    folder = lake / table
    for key, value in partition.items():
        if not value or "/" in value or value in (".", ".."):
            raise ValueError(f"partition value {value!r} for {key} cannot be a folder name")
        folder = folder / f"{key}={value}"
    return folder


def to_table(rows: Iterable[Any], schema: pa.Schema) -> pa.Table:
    """Dataclass rows -> an Arrow table of exactly `schema` (decimals stay exact)."""
    records = [asdict(row) for row in rows]
    columns = {name: [r[name] for r in records] for name in schema.names}
    return pa.table(columns, schema=schema)


def replace_partition(lake: Path, table: str, partition: Mapping[str, str], data: pa.Table) -> Path:
    """Write `data` as the whole of one partition, atomically; returns the file's path.

    Partition columns are kept inside the file as well, so a file read alone is self-describing.
    """
    folder = partition_dir(lake, table, partition)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / PART_FILE
    handle, temporary = tempfile.mkstemp(prefix=".part-", suffix=".tmp", dir=folder)
    os.close(handle)
    try:
        pq.write_table(data, temporary, compression="zstd")
        with open(temporary, "rb") as written:
            os.fsync(written.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def read_partition(lake: Path, table: str, partition: Mapping[str, str]) -> pa.Table | None:
    target = partition_dir(lake, table, partition) / PART_FILE
    return pq.read_table(target) if target.exists() else None
