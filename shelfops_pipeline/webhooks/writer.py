"""Group commit: one thread owns the queue's write connection and commits every delivery that
arrived while the previous commit was syncing, in one transaction, then answers each waiter.

Hand-written: SQLite has no group commit of its own and no library adds one; with one fsync per
event, a 2-core machine would acknowledge a few hundred events per second at best.
"""

import asyncio
import logging
import queue
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from shelfops_pipeline.webhooks import queue as event_queue
from shelfops_pipeline.webhooks.envelopes import Envelope

logger = logging.getLogger(__name__)
MAX_BATCH = 512


@dataclass
class _Pending:
    envelope: Envelope
    customer_id: str | None
    body: bytes
    loop: asyncio.AbstractEventLoop
    done: "asyncio.Future[bool]"


class QueueWriter:
    """Appends events durably; `append` returns once the event's transaction is committed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._inbox: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        event_queue.connect(path).close()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="webhook-queue-writer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._inbox.put(None)
            self._thread.join(timeout=30)
            self._thread = None

    async def append(self, envelope: Envelope, customer_id: str | None, body: bytes) -> bool:
        """Commit the event to disk; False when its event id was already queued."""
        if self._thread is None:
            raise RuntimeError("QueueWriter.start() must be called before append()")
        loop = asyncio.get_running_loop()
        done: asyncio.Future[bool] = loop.create_future()
        self._inbox.put(_Pending(envelope, customer_id, body, loop, done))
        return await done

    def _run(self) -> None:
        db = event_queue.connect(self.path)
        try:
            while True:
                first = self._inbox.get()
                if first is None:
                    return
                batch = [first]
                while len(batch) < MAX_BATCH:
                    try:
                        item = self._inbox.get_nowait()
                    except queue.Empty:
                        break
                    if item is None:
                        self._inbox.put(None)
                        break
                    batch.append(item)
                self._commit(db, batch)
        finally:
            db.close()

    def _commit(self, db: sqlite3.Connection, batch: list[_Pending]) -> None:
        try:
            db.execute("BEGIN IMMEDIATE")
            results = [event_queue.insert(db, p.envelope, p.customer_id, p.body) for p in batch]
            db.execute("COMMIT")
        except sqlite3.Error as error:
            if db.in_transaction:
                db.execute("ROLLBACK")
            logger.error("webhook queue commit of %d events failed: %s", len(batch), error)
            for pending in batch:
                pending.loop.call_soon_threadsafe(_fail, pending.done, error)
            return
        for pending, stored in zip(batch, results, strict=True):
            pending.loop.call_soon_threadsafe(_settle, pending.done, stored)


def _settle(done: "asyncio.Future[bool]", stored: bool) -> None:
    if not done.done():
        done.set_result(stored)


def _fail(done: "asyncio.Future[bool]", error: Exception) -> None:
    if not done.done():
        done.set_exception(error)
