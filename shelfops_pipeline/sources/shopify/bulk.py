"""Bulk operations: a whole window exported by Shopify as JSONL, read back as nested objects.

`BulkExporter.export(query)` starts `bulkOperationRunQuery` (or resumes the operation a previous
run started for the same shop and query: its id is kept in `BulkState`, a small SQLite file
under SHELFOPS_HOME), polls it with growing waits up to a deadline (never longer than a twentieth
of the time it has run, so a finished operation is noticed soon), streams the result file into
a temporary SQLite table (bounded memory, whatever the file's size) and yields the top-level
objects a page at a time with their children nested again as `{"nodes": [...]}` under the
connection they came from. Children are found by `__parentId` wherever they sit in the file:
right after their parent (grouped output, the default before API 2026-01) or anywhere later.

Nothing is ever taken as success that is not: a FAILED, CANCELED or EXPIRED operation, a result
offered only as `partialDataUrl`, a COMPLETED operation with objects but no file, and a file
whose object or root counts differ from what the operation reports all raise `BulkExportFailed`
before a single object is yielded.
"""

import asyncio
import hashlib
import json
import logging
import sqlite3
import tempfile
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from shelfops_pipeline.http.urls import check_base_url
from shelfops_pipeline.sources.shopify.client import API_VERSION, ShopifyClient
from shelfops_pipeline.sources.shopify.queries import (
    BULK_RUN,
    BULK_RUN_GROUPED,
    BULK_STATUS,
    CHILD_CONNECTIONS,
)

logger = logging.getLogger(__name__)

# From API 2026-01 a shop runs up to five bulk queries at once; before, one.
MAX_CONCURRENT_BULK_QUERIES = 5 if API_VERSION >= "2026-01" else 1
ACTIVE = frozenset({"CREATED", "RUNNING", "CANCELING"})
IN_PROGRESS = "OPERATION_IN_PROGRESS"
STATE_FILE = "shopify-bulk-operations.sqlite"
# Result lines are stored in the temporary table this many at a time.
INSERT_BATCH = 1000


class BulkExportFailed(RuntimeError):
    """A bulk export did not deliver its complete result; the message says what to do."""


@dataclass(frozen=True)
class BulkConfig:
    """How patiently to wait for an operation, and how many objects to yield at once.

    Polls wait `first_poll_seconds`, then `poll_growth` times longer each time, but never more
    than `max_poll_seconds` nor more than `max_poll_share` of the time spent polling so far:
    an operation is then noticed done at most about 5 % of its own run time late. Each poll
    costs one query point: an 11 s export takes some 60 polls (about 5 % of the standard
    bucket's restore), one running for minutes a poll every 5 s.
    """

    first_poll_seconds: float = 0.05
    max_poll_seconds: float = 5.0
    poll_growth: float = 1.5
    max_poll_share: float = 0.05
    deadline_seconds: float = 3600.0
    page_size: int = 250
    group_objects: bool | None = None
    download_timeout_seconds: float = 300.0


@dataclass(frozen=True)
class OperationStatus:
    id: str
    status: str
    error_code: str | None
    object_count: int
    root_object_count: int
    url: str | None
    partial_data_url: str | None


def _status(node: Mapping[str, Any]) -> OperationStatus:
    return OperationStatus(
        id=str(node["id"]),
        status=str(node["status"]),
        error_code=node.get("errorCode"),
        object_count=int(node.get("objectCount") or 0),
        root_object_count=int(node.get("rootObjectCount") or 0),
        url=node.get("url"),
        partial_data_url=node.get("partialDataUrl"),
    )


class BulkState:
    """The bulk operation each (shop, query) is waiting for, kept across runs and processes."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / STATE_FILE
        with closing(self._connect()) as db, db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS operations (key TEXT PRIMARY KEY, shop TEXT NOT NULL, "
                "operation_id TEXT NOT NULL, started_at REAL NOT NULL)"
            )

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)

    @staticmethod
    def key(shop: str, query: str) -> str:
        return hashlib.sha256(f"{shop}\n{query}".encode()).hexdigest()

    def get(self, key: str) -> str | None:
        with closing(self._connect()) as db:
            row = db.execute("SELECT operation_id FROM operations WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else None

    def put(self, key: str, shop: str, operation_id: str) -> None:
        with closing(self._connect()) as db, db:
            db.execute(
                "INSERT OR REPLACE INTO operations VALUES (?, ?, ?, ?)",
                (key, shop, operation_id, time.time()),
            )

    def forget(self, key: str) -> None:
        with closing(self._connect()) as db, db:
            db.execute("DELETE FROM operations WHERE key = ?", (key,))


class BulkExporter:
    """Runs bulk queries for one shop; at most `MAX_CONCURRENT_BULK_QUERIES` at once."""

    def __init__(
        self, client: ShopifyClient, state: BulkState, config: BulkConfig | None = None
    ) -> None:
        self.client = client
        self.state = state
        self.config = config or BulkConfig()
        self.shop = client.api.account
        self._slots = asyncio.Semaphore(MAX_CONCURRENT_BULK_QUERIES)
        self.resumed = False

    async def export(self, query: str) -> AsyncIterator[list[dict[str, Any]]]:
        """The query's top-level objects, children nested, a page at a time."""
        async with self._slots:
            key = BulkState.key(self.shop, query)
            operation = await self._finished(key, query)
            with (
                tempfile.TemporaryDirectory(prefix="shopify-bulk-") as folder,
                closing(sqlite3.connect(Path(folder) / "objects.sqlite")) as db,
            ):
                await self._load(operation, db)
                for page in _reassembled(db, self.config.page_size):
                    yield page
            self.state.forget(key)

    async def status(self, operation_id: str) -> OperationStatus | None:
        data = await self.client.data(BULK_STATUS, {"id": operation_id})
        node = data.get("bulkOperation")
        return _status(node) if isinstance(node, dict) else None

    async def _finished(self, key: str, query: str) -> OperationStatus:
        """The operation for `query`, resumed or started, once it is no longer running."""
        operation_id = self.state.get(key)
        current = await self.status(operation_id) if operation_id else None
        if current is not None and current.status == "FAILED":
            self.state.forget(key)
            raise BulkExportFailed(self._failure(current))
        if current is None or current.status not in (*ACTIVE, "COMPLETED"):
            started = await self._start(query)
            self.state.put(key, self.shop, started)
        else:
            started = current.id
            self.resumed = True
            logger.info("shopify %s: resuming bulk operation %s", self.shop, started)
        done = await self._wait(started)
        if done.status != "COMPLETED":
            self.state.forget(key)
            raise BulkExportFailed(self._failure(done))
        return done

    async def _start(self, query: str) -> str:
        wait = self.config.first_poll_seconds
        deadline = time.monotonic() + self.config.deadline_seconds
        while True:
            if self.config.group_objects is None:
                data = await self.client.data(BULK_RUN, {"query": query})
            else:
                variables = {"query": query, "group": self.config.group_objects}
                data = await self.client.data(BULK_RUN_GROUPED, variables)
            payload = data.get("bulkOperationRunQuery") or {}
            errors = payload.get("userErrors") or []
            operation = payload.get("bulkOperation")
            if not errors and isinstance(operation, dict):
                logger.info("shopify %s: started bulk operation %s", self.shop, operation["id"])
                return str(operation["id"])
            busy = all(e.get("code") == IN_PROGRESS for e in errors) and errors
            if not busy or time.monotonic() + wait > deadline:
                messages = "; ".join(str(e.get("message")) for e in errors) or "no operation"
                raise BulkExportFailed(
                    f"shopify {self.shop}: bulkOperationRunQuery refused the export: {messages}"
                )
            await asyncio.sleep(wait)
            wait = min(self.config.max_poll_seconds, wait * self.config.poll_growth)

    async def _wait(self, operation_id: str) -> OperationStatus:
        config = self.config
        wait = config.first_poll_seconds
        started = time.monotonic()
        deadline = started + config.deadline_seconds
        while True:
            current = await self.status(operation_id)
            if current is None:
                raise BulkExportFailed(
                    f"shopify {self.shop}: bulk operation {operation_id} is unknown to the shop"
                )
            if current.status not in ACTIVE:
                return current
            if time.monotonic() + wait > deadline:
                raise BulkExportFailed(
                    f"shopify {self.shop}: bulk operation {operation_id} still {current.status} "
                    f"after {self.config.deadline_seconds:g} s; rerun to resume it"
                )
            await asyncio.sleep(wait)
            share = max(
                config.first_poll_seconds, (time.monotonic() - started) * config.max_poll_share
            )
            wait = min(config.max_poll_seconds, wait * config.poll_growth, share)

    def _failure(self, operation: OperationStatus) -> str:
        partial = ""
        if operation.partial_data_url:
            partial = " (only a partial result is offered, which is never used)"
        return (
            f"shopify {self.shop}: bulk operation {operation.id} ended {operation.status}"
            f"{f' with error {operation.error_code}' if operation.error_code else ''} after "
            f"{operation.object_count} objects{partial}; nothing was written. Rerun the "
            "partition to start a new export"
        )

    async def _load(self, operation: OperationStatus, db: sqlite3.Connection) -> None:
        """Stream the result file into `db`, then check it against the operation's counts."""
        db.execute(
            "CREATE TABLE objects (seq INTEGER PRIMARY KEY, id TEXT, parent TEXT, body TEXT)"
        )
        db.execute("CREATE INDEX by_parent ON objects (parent, seq)")
        if operation.url is None:
            if operation.object_count:
                raise BulkExportFailed(
                    f"shopify {self.shop}: bulk operation {operation.id} COMPLETED with "
                    f"{operation.object_count} objects but offers no result file; rerun"
                )
            return
        objects = roots = 0
        rows: list[tuple[str | None, str | None, str]] = []
        timeout = httpx.Timeout(self.config.download_timeout_seconds, connect=10.0)
        # A client of its own: the file lives on storage outside the shop, which must never
        # see the shop's access token.
        async with (
            httpx.AsyncClient(timeout=timeout) as http,
            http.stream("GET", check_base_url(operation.url)) as response,
        ):
            if not response.is_success:
                raise BulkExportFailed(
                    f"shopify {self.shop}: the result of bulk operation {operation.id} could not "
                    f"be downloaded (HTTP {response.status_code}); rerun to fetch it again"
                )
            async for line in response.aiter_lines():
                if not line.strip():
                    continue
                obj = json.loads(line)
                parent = obj.get("__parentId")
                # The line itself is kept: reassembly decodes it again and drops `__parentId`.
                rows.append((obj.get("id"), parent, line))
                objects += 1
                roots += parent is None
                if len(rows) >= INSERT_BATCH:
                    _insert(db, rows)
        _insert(db, rows)
        db.commit()
        if (objects, roots) != (operation.object_count, operation.root_object_count):
            raise BulkExportFailed(
                f"shopify {self.shop}: bulk operation {operation.id} reports "
                f"{operation.object_count} objects ({operation.root_object_count} top-level) but "
                f"its file holds {objects} ({roots}); the result is incomplete, nothing was "
                "written. Rerun the partition"
            )


def _insert(db: sqlite3.Connection, rows: list[tuple[str | None, str | None, str]]) -> None:
    """Store (id, parent, line) rows and empty the list."""
    db.executemany("INSERT INTO objects (id, parent, body) VALUES (?, ?, ?)", rows)
    rows.clear()


def _child_field(gid: str | None) -> str:
    kind = gid.split("/")[3] if gid and gid.startswith("gid://shopify/") else ""
    field = CHILD_CONNECTIONS.get(kind)
    if field is None:
        raise BulkExportFailed(f"a bulk export child {gid!r} is of no known connection")
    return field


def _reassembled(db: sqlite3.Connection, page_size: int) -> Iterator[list[dict[str, Any]]]:
    """Top-level objects in file order, `page_size` at a time, with their children nested."""
    cursor = db.execute("SELECT id, body FROM objects WHERE parent IS NULL ORDER BY seq")
    while rows := cursor.fetchmany(page_size):
        page = [json.loads(body) for _, body in rows]
        level = {obj["id"]: obj for obj in page if obj.get("id")}
        while level:
            marks = ",".join("?" * len(level))
            children = db.execute(
                f"SELECT id, parent, body FROM objects WHERE parent IN ({marks}) ORDER BY seq",
                list(level),
            ).fetchall()
            following: dict[str, dict[str, Any]] = {}
            for child_id, parent, body in children:
                child = json.loads(body)
                del child["__parentId"]
                field = _child_field(child_id)
                level[parent].setdefault(field, {"nodes": []})["nodes"].append(child)
                if child_id:
                    following[child_id] = child
            level = following
        yield page
