"""The durable webhook queue: one SQLite file (WAL) in the data directory.

`synchronous=FULL`: in WAL mode NORMAL already survives a killed process (a commit is in the
OS's cache once `COMMIT` returns), but only FULL fsyncs the WAL on every commit, so an
acknowledged event also survives a power cut or kernel crash. Commits are grouped (see
`writer.py`), so the fsync is paid once per batch of concurrent deliveries, not per event.

Events move through states: `queued` (received), `requested` (a run applying it was asked for),
`applied` (that run succeeded), `waiting` (to be retried at `retry_at`), `dead` (failed too often;
its reason is in `dead_letters`). Replaying a dead event queues it again under a new row id.
"""

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from shelfops_pipeline.credentials.paths import shelfops_home
from shelfops_pipeline.webhooks.envelopes import Envelope

BUSY_TIMEOUT_SECONDS = 30.0
QUEUE_FILE = "webhooks.sqlite"
SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    provider TEXT NOT NULL,
    event_id TEXT NOT NULL,
    topic TEXT NOT NULL,
    kind TEXT NOT NULL,
    account TEXT NOT NULL,
    customer_id TEXT,
    headers TEXT NOT NULL,
    body BLOB NOT NULL,
    received_at TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'queued'
        CHECK (state IN ('queued', 'requested', 'applied', 'waiting', 'dead')),
    attempts INTEGER NOT NULL DEFAULT 0,
    run_key TEXT,
    retry_at TEXT,
    last_error TEXT,
    UNIQUE (provider, event_id)
);
CREATE INDEX IF NOT EXISTS events_by_state ON events (state, retry_at);
CREATE INDEX IF NOT EXISTS events_by_run_key ON events (run_key);
CREATE TABLE IF NOT EXISTS dead_letters (
    event_row INTEGER PRIMARY KEY REFERENCES events (id) ON DELETE CASCADE,
    reason TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    dead_at TEXT NOT NULL
);
"""


def queue_path(home: Path | None = None) -> Path:
    return (home or shelfops_home()) / QUEUE_FILE


def utc_text(moment: datetime | None = None) -> str:
    return (moment or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="microseconds")


def connect(path: Path) -> sqlite3.Connection:
    """A connection in autocommit mode with the queue's pragmas; the schema exists after it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(
        path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False
    )
    db.row_factory = sqlite3.Row
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("PRAGMA foreign_keys=ON")
    db.executescript(f"BEGIN IMMEDIATE;{SCHEMA}COMMIT;")
    return db


@dataclass(frozen=True)
class QueuedEvent:
    row: int
    provider: str
    event_id: str
    topic: str
    kind: str
    account: str
    customer_id: str | None
    headers: dict[str, str]
    body: bytes
    received_at: datetime
    state: str
    attempts: int
    run_key: str | None

    @classmethod
    def of(cls, row: sqlite3.Row) -> "QueuedEvent":
        return cls(
            row=row["id"],
            provider=row["provider"],
            event_id=row["event_id"],
            topic=row["topic"],
            kind=row["kind"],
            account=row["account"],
            customer_id=row["customer_id"],
            headers=json.loads(row["headers"]),
            body=bytes(row["body"]),
            received_at=datetime.fromisoformat(row["received_at"]),
            state=row["state"],
            attempts=row["attempts"],
            run_key=row["run_key"],
        )


@dataclass(frozen=True)
class DeadLetter:
    row: int
    provider: str
    event_id: str
    topic: str
    customer_id: str | None
    reason: str
    attempts: int
    dead_at: datetime


def insert(
    db: sqlite3.Connection, envelope: Envelope, customer_id: str | None, body: bytes
) -> bool:
    """Add one event inside the caller's transaction; False when the provider sent it before."""
    cursor = db.execute(
        """INSERT INTO events (provider, event_id, topic, kind, account, customer_id, headers,
               body, received_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (provider, event_id) DO NOTHING""",
        (
            envelope.provider,
            envelope.event_id,
            envelope.topic,
            envelope.kind,
            envelope.account,
            customer_id,
            json.dumps(dict(envelope.headers), sort_keys=True),
            body,
            utc_text(),
        ),
    )
    return cursor.rowcount == 1


class EventQueue:
    """Reads and state changes for the sensor, the checks and `shelfops webhooks` commands."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or queue_path()

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        with closing(connect(self.path)) as db:
            yield db

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def after(self, row: int, limit: int) -> list[QueuedEvent]:
        """Events received after row `row`, oldest first."""
        with self._db() as db:
            rows = db.execute(
                "SELECT * FROM events WHERE id > ? ORDER BY id LIMIT ?", (row, limit)
            ).fetchall()
        return [QueuedEvent.of(r) for r in rows]

    def due(self, now: datetime, limit: int) -> list[QueuedEvent]:
        """Events waiting for a retry whose time has come."""
        with self._db() as db:
            rows = db.execute(
                "SELECT * FROM events WHERE state = 'waiting' AND retry_at <= ? ORDER BY id "
                "LIMIT ?",
                (utc_text(now), limit),
            ).fetchall()
        return [QueuedEvent.of(r) for r in rows]

    def requested_run_keys(self, limit: int) -> list[str]:
        with self._db() as db:
            rows = db.execute(
                "SELECT DISTINCT run_key FROM events WHERE state = 'requested' LIMIT ?", (limit,)
            ).fetchall()
        return [r["run_key"] for r in rows]

    def events_of_run(self, run_key: str) -> list[QueuedEvent]:
        with self._db() as db:
            rows = db.execute("SELECT * FROM events WHERE run_key = ?", (run_key,)).fetchall()
        return [QueuedEvent.of(r) for r in rows]

    def mark_requested(self, rows: Sequence[int], run_key: str) -> None:
        with self._transaction() as db:
            db.executemany(
                "UPDATE events SET state = 'requested', run_key = ? WHERE id = ? AND state != 'dead'",
                [(run_key, row) for row in rows],
            )

    def mark_applied(self, run_key: str) -> None:
        with self._transaction() as db:
            db.execute(
                "UPDATE events SET state = 'applied', last_error = NULL WHERE run_key = ? "
                "AND state = 'requested'",
                (run_key,),
            )

    def retry_later(
        self, rows: Sequence[int], error: str, retry_at: datetime, count_attempt: bool = True
    ) -> None:
        """Wait until `retry_at`; `count_attempt` False for a wait that is not a failure (an
        hour whose stock is not known yet)."""
        with self._transaction() as db:
            db.executemany(
                "UPDATE events SET state = 'waiting', attempts = attempts + ?, last_error = ?, "
                "retry_at = ? WHERE id = ? AND state != 'dead'",
                [(int(count_attempt), error[:500], utc_text(retry_at), row) for row in rows],
            )

    def kill(self, rows: Sequence[int], reason: str) -> None:
        """Move events to the dead-letter table with `reason`."""
        now = utc_text()
        with self._transaction() as db:
            for row in rows:
                db.execute(
                    "UPDATE events SET state = 'dead', attempts = attempts + 1, last_error = ? "
                    "WHERE id = ?",
                    (reason[:500], row),
                )
                db.execute(
                    "INSERT INTO dead_letters (event_row, reason, attempts, dead_at) "
                    "SELECT id, ?, attempts, ? FROM events WHERE id = ? "
                    "ON CONFLICT (event_row) DO UPDATE SET reason = excluded.reason, "
                    "attempts = excluded.attempts, dead_at = excluded.dead_at",
                    (reason[:500], now, row),
                )

    def dead_letters(self, limit: int = 1000) -> list[DeadLetter]:
        with self._db() as db:
            rows = db.execute(
                """SELECT e.id, e.provider, e.event_id, e.topic, e.customer_id, d.reason,
                          d.attempts, d.dead_at
                   FROM dead_letters d JOIN events e ON e.id = d.event_row
                   ORDER BY d.event_row LIMIT ?""",
                (limit,),
            ).fetchall()
        return [
            DeadLetter(
                row=r["id"],
                provider=r["provider"],
                event_id=r["event_id"],
                topic=r["topic"],
                customer_id=r["customer_id"],
                reason=r["reason"],
                attempts=r["attempts"],
                dead_at=datetime.fromisoformat(r["dead_at"]),
            )
            for r in rows
        ]

    def replay(self, event_ids: Sequence[str] = ()) -> int:
        """Queue dead events again (all, or those with these provider event ids) under new row
        ids, so the sensor's cursor reaches them; the count replayed."""
        with self._transaction() as db:
            query = "SELECT * FROM events WHERE state = 'dead'"
            params: list[str] = []
            if event_ids:
                query += f" AND event_id IN ({','.join('?' * len(event_ids))})"
                params = list(event_ids)
            rows = db.execute(query, params).fetchall()
            for r in rows:
                db.execute("DELETE FROM events WHERE id = ?", (r["id"],))
                db.execute(
                    """INSERT INTO events (provider, event_id, topic, kind, account, customer_id,
                           headers, body, received_at)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                    (
                        r["provider"], r["event_id"], r["topic"], r["kind"], r["account"],
                        r["customer_id"], r["headers"], r["body"], r["received_at"],
                    ),
                )  # fmt: skip
        return len(rows)

    def counts(self) -> dict[str, int]:
        with self._db() as db:
            rows = db.execute("SELECT state, COUNT(*) AS n FROM events GROUP BY state").fetchall()
        return {r["state"]: r["n"] for r in rows}

    def all_events(self) -> list[QueuedEvent]:
        with self._db() as db:
            rows = db.execute("SELECT * FROM events ORDER BY id").fetchall()
        return [QueuedEvent.of(r) for r in rows]

    def unreflected(self, older_than: datetime) -> list[QueuedEvent]:
        """Events received before `older_than` that no successful run has applied yet."""
        with self._db() as db:
            rows = db.execute(
                "SELECT * FROM events WHERE state != 'applied' AND received_at < ? ORDER BY id",
                (utc_text(older_than),),
            ).fetchall()
        return [QueuedEvent.of(r) for r in rows]
