"""Bulk operations: asynchronous exports written as JSONL at a realistic pace, served by URL.

`bulkOperationRunQuery` checks the query and starts a worker thread that walks it and writes the
JSONL file at `BulkSettings.objects_per_second`, so a large export takes a while, as on Shopify.
Children sit right below their parent when `groupObjects` is true, its default before API
2026-01; otherwise they come later (see `bulk_query`).
The file is served at `/shopify-bulk/<token>.jsonl` (no access token needed: the URL is the
secret) until `url_lifetime_seconds` after completion; then the operation is EXPIRED.
A shop may run five bulk queries at once from API 2026-01, one before. With
`fail_after_objects` set, operations fail with INTERNAL_SERVER_ERROR after writing that many
objects and offer what they wrote at `partialDataUrl`.
"""

import json
import logging
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from shelfops_pipeline.sandbox.shopify.bulk_query import (
    BulkQueryInvalid,
    BulkWalker,
    plan_bulk_query,
)
from shelfops_pipeline.sandbox.shopify.context import RequestContext
from shelfops_pipeline.sandbox.shopify.model import gid, graphql_datetime
from shelfops_pipeline.sandbox.shopify.schema import admin_schema
from shelfops_pipeline.sandbox.shopify.versions import (
    MULTIPLE_BULK_QUERIES_SINCE,
    UNGROUPED_BULK_OUTPUT_SINCE,
    at_least,
)
from shelfops_pipeline.sandbox.world.entities import Shop
from shelfops_pipeline.sandbox.world.ids import numeric_id

logger = logging.getLogger(__name__)
DOWNLOAD_PREFIX = "/shopify-bulk/"
ACTIVE = frozenset({"CREATED", "RUNNING", "CANCELING"})
_PACE_CHUNK = 50
_PACE_SECONDS = 0.02


@dataclass(frozen=True)
class BulkSettings:
    """How bulk operations behave; Shopify keeps result URLs for seven days."""

    objects_per_second: float = 1000.0
    url_lifetime_seconds: float = 7 * 24 * 3600.0
    fail_after_objects: int | None = None
    start_delay_seconds: float = 0.0


@dataclass
class BulkRecord:
    """One bulk operation's state; the worker thread updates it under the registry lock."""

    number: int
    shop: str
    query: str
    created_at: datetime
    base_url: str
    token: str
    status: str = "CREATED"
    error_code: str | None = None
    completed_at: datetime | None = None
    object_count: int = 0
    root_object_count: int = 0
    file_size: int | None = None
    has_file: bool = False
    partial: bool = False
    finished_monotonic: float | None = None
    cancel_requested: bool = field(default=False, repr=False)


class BulkOperationObject:
    """The GraphQL `BulkOperation`: a snapshot of a record."""

    graphql_type = "BulkOperation"

    def __init__(self, record: BulkRecord) -> None:
        self.number = record.number
        self.created_at = record.created_at
        url = f"{record.base_url}{DOWNLOAD_PREFIX}{record.token}.jsonl"
        self.id = gid("BulkOperation", record.number)
        self.status = record.status
        self.type = "QUERY"
        self.errorCode = record.error_code
        self.createdAt = graphql_datetime(record.created_at)
        self.completedAt = graphql_datetime(record.completed_at) if record.completed_at else None
        self.objectCount = str(record.object_count)
        self.rootObjectCount = str(record.root_object_count)
        self.fileSize = str(record.file_size) if record.file_size is not None else None
        available = record.has_file and record.status in ("COMPLETED", "FAILED")
        self.url = url if available and not record.partial else None
        self.partialDataUrl = url if available and record.partial else None
        self.query = record.query


def _user_error(message: str, code: str, field: list[str] | None) -> dict[str, Any]:
    return {"field": field, "message": message, "code": code}


class BulkOperations:
    """Every bulk operation of the sandbox, by shop; implements the roots' `BulkRegistry`."""

    def __init__(
        self,
        seed: int,
        now: Callable[[], datetime],
        settings: BulkSettings | None = None,
    ) -> None:
        self.seed = seed
        self.now = now
        self.settings = settings or BulkSettings()
        self._records: dict[int, BulkRecord] = {}
        self._by_token: dict[str, BulkRecord] = {}
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._made_directory: Path | None = None

    @property
    def _directory(self) -> Path:
        """Result files' folder, made on first use so unserved sandboxes leave nothing behind."""
        if self._made_directory is None:
            self._made_directory = Path(tempfile.mkdtemp(prefix="shopify-bulk-"))
        return self._made_directory

    def _expire(self, record: BulkRecord) -> None:
        finished = record.finished_monotonic
        if (
            record.status in ("COMPLETED", "FAILED")
            and record.has_file
            and finished is not None
            and time.monotonic() - finished >= self.settings.url_lifetime_seconds
        ):
            record.status = "EXPIRED"
            record.has_file = False
            (self._directory / f"{record.token}.jsonl").unlink(missing_ok=True)

    def _snapshot(self, record: BulkRecord | None) -> BulkOperationObject | None:
        if record is None:
            return None
        with self._lock:
            self._expire(record)
            return BulkOperationObject(replace(record))

    def find(self, shop: Shop, operation_id: int) -> BulkOperationObject | None:
        record = self._records.get(operation_id)
        return self._snapshot(record if record and record.shop == shop.domain else None)

    def all_of(self, shop: Shop) -> list[BulkOperationObject]:
        records = [r for r in self._records.values() if r.shop == shop.domain]
        return [o for o in (self._snapshot(r) for r in records) if o is not None]

    def current(self, shop: Shop, operation_type: str) -> BulkOperationObject | None:
        if operation_type != "QUERY":
            return None
        records = [r for r in self._records.values() if r.shop == shop.domain]
        return self._snapshot(max(records, key=lambda r: r.number, default=None))

    def run_query(
        self, context: RequestContext, query: str, group_objects: bool | None
    ) -> dict[str, Any]:
        """Start a bulk query; `group_objects` None takes the API version's default."""
        try:
            plan = plan_bulk_query(admin_schema(), query)
        except BulkQueryInvalid as invalid:
            return {
                "bulkOperation": None,
                "userErrors": [_user_error(m, "INVALID", ["query"]) for m in invalid.messages],
            }
        limit = 5 if at_least(context.api_version, MULTIPLE_BULK_QUERIES_SINCE) else 1
        with self._lock:
            running = sorted(
                (
                    r
                    for r in self._records.values()
                    if r.shop == context.shop.domain and r.status in ACTIVE
                ),
                key=lambda r: r.number,
            )
            if len(running) >= limit:
                ids = ", ".join(gid("BulkOperation", r.number) for r in running)
                message = (
                    f"A bulk query operation for this app and shop is already in progress: {ids}."
                )
                return {
                    "bulkOperation": None,
                    "userErrors": [_user_error(message, "OPERATION_IN_PROGRESS", None)],
                }
            # Ids grow with creation, as Shopify's do.
            base = numeric_id(self.seed, 10, "BulkOperation", context.shop.domain)
            number = base * 1000 + len(self._records)
            record = BulkRecord(
                number=number,
                shop=context.shop.domain,
                query=query,
                created_at=self.now(),
                base_url=context.base_url,
                token=secrets.token_urlsafe(24),
            )
            self._records[number] = record
            self._by_token[record.token] = record
            snapshot = BulkOperationObject(replace(record))
        if group_objects is None:
            group_objects = not at_least(context.api_version, UNGROUPED_BULK_OUTPUT_SINCE)
        walker = BulkWalker(plan, replace(context, bulk_mode=True), group_objects)
        thread = threading.Thread(
            target=self._work, args=(record, walker), name=f"shopify-bulk-{number}", daemon=True
        )
        self._threads.append(thread)
        thread.start()
        return {"bulkOperation": snapshot, "userErrors": []}

    def cancel(self, shop: Shop, operation_id: int) -> dict[str, Any]:
        with self._lock:
            record = self._records.get(operation_id)
            if record is None or record.shop != shop.domain:
                return {
                    "bulkOperation": None,
                    "userErrors": [{"field": ["id"], "message": "Bulk operation does not exist"}],
                }
            if record.status not in ACTIVE:
                message = f"A bulk operation cannot be canceled when it is {record.status.lower()}"
                return {
                    "bulkOperation": BulkOperationObject(replace(record)),
                    "userErrors": [{"field": None, "message": message}],
                }
            record.status = "CANCELING"
            record.cancel_requested = True
            return {"bulkOperation": BulkOperationObject(replace(record)), "userErrors": []}

    def download(self, token: str) -> Path | None:
        """The JSONL file behind a result URL, or None when unknown or expired."""
        with self._lock:
            record = self._by_token.get(token)
            if record is None:
                return None
            self._expire(record)
            if not record.has_file or record.status not in ("COMPLETED", "FAILED"):
                return None
            return self._directory / f"{token}.jsonl"

    def _work(self, record: BulkRecord, walker: BulkWalker) -> None:
        delay = self.settings.start_delay_seconds
        if delay and self._stopping.wait(delay):
            return
        with self._lock:
            if record.cancel_requested:
                record.status = "CANCELED"
                return
            record.status = "RUNNING"
        try:
            outcome, objects, roots, size = self._write(record, walker)
        except Exception:
            logger.exception("bulk operation %s failed", record.number)
            outcome, objects, roots, size = (
                "FAILED",
                record.object_count,
                record.root_object_count,
                0,
            )
        with self._lock:
            record.object_count, record.root_object_count = objects, roots
            record.status = outcome
            record.completed_at = self.now()
            record.finished_monotonic = time.monotonic()
            if outcome == "FAILED":
                record.error_code = "INTERNAL_SERVER_ERROR"
                record.partial = True
            record.has_file = outcome in ("COMPLETED", "FAILED") and objects > 0
            record.file_size = size if record.has_file else None

    def _write(self, record: BulkRecord, walker: BulkWalker) -> tuple[str, int, int, int]:
        """Write the JSONL file at the configured pace: (outcome, objects, roots, bytes)."""
        settings = self.settings
        started = time.monotonic()
        objects = roots = size = 0
        with (self._directory / f"{record.token}.jsonl").open("w", encoding="utf-8") as out:
            for line, is_root in walker.lines():
                if (
                    settings.fail_after_objects is not None
                    and objects >= settings.fail_after_objects
                ):
                    return "FAILED", objects, roots, size
                text = json.dumps(line, separators=(",", ":"), ensure_ascii=False) + "\n"
                out.write(text)
                objects += 1
                roots += int(is_root)
                size += len(text.encode())
                ahead = objects / settings.objects_per_second - (time.monotonic() - started)
                if objects % _PACE_CHUNK and ahead < _PACE_SECONDS:
                    continue
                with self._lock:
                    record.object_count, record.root_object_count = objects, roots
                    cancelled = record.cancel_requested
                if cancelled or (ahead > 0 and self._stopping.wait(ahead)):
                    return "CANCELED", objects, roots, size
        ahead = objects / settings.objects_per_second - (time.monotonic() - started)
        if ahead > 0 and self._stopping.wait(ahead):
            return "CANCELED", objects, roots, size
        return "COMPLETED", objects, roots, size

    def close(self) -> None:
        """Stop the workers and delete the result files."""
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout=5)
        if self._made_directory is not None:
            shutil.rmtree(self._made_directory, ignore_errors=True)
