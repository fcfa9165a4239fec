"""The SQLite file the credential store and the OAuth states share, in WAL mode.

Every operation opens its own connection, so threads and processes can share the file; writers
take the lock up front with BEGIN IMMEDIATE and wait up to BUSY_TIMEOUT_SECONDS for it. That
wait must outlast a token refresh, which holds the lock across one bounded OAuth call.
"""

import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path

from shelfops_pipeline.credentials.errors import CredentialStoreError

BUSY_TIMEOUT_SECONDS = 60.0
SCHEMA_VERSION = 2
SCHEMA = """
CREATE TABLE IF NOT EXISTS connections (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('square', 'shopify')),
    account TEXT NOT NULL,
    scopes TEXT NOT NULL,
    access_token TEXT NOT NULL,
    refresh_token TEXT,
    expires_at TEXT,
    refresh_token_expires_at TEXT,
    status TEXT NOT NULL CHECK (status IN ('active', 'revoked', 'needs_reauth')),
    last_error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (customer_id, source)
);
CREATE TABLE IF NOT EXISTS oauth_states (
    state_digest TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    source TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS webhook_subscriptions (
    id TEXT PRIMARY KEY,
    source TEXT NOT NULL CHECK (source IN ('square', 'shopify')),
    connection_id TEXT,
    notification_url TEXT NOT NULL,
    topics TEXT NOT NULL,
    signature_key TEXT,
    created_at TEXT NOT NULL
);
"""


def utc_now() -> datetime:
    return datetime.now(UTC)


def to_text(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat(timespec="microseconds") if moment else None


def from_text(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text is not None else None


class Database:
    """Opens the file (created 0600 with its schema on first use) one connection at a time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
            with closing(self._connect()) as db:
                db.execute("PRAGMA journal_mode=WAL")
                db.executescript(
                    f"BEGIN IMMEDIATE;{SCHEMA}PRAGMA user_version={SCHEMA_VERSION};COMMIT;"
                )
        except (OSError, sqlite3.Error) as error:
            raise CredentialStoreError(
                f"cannot open the credential store {path} ({error}); check that the directory "
                "is writable, or point SHELFOPS_HOME elsewhere"
            ) from error

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
        db.row_factory = sqlite3.Row
        return db

    def _failure(self, error: sqlite3.Error) -> CredentialStoreError:
        return CredentialStoreError(
            f"the credential store {self.path} failed ({error}); check the disk and that no "
            "process holds it locked"
        )

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """A connection in autocommit mode, for single statements."""
        try:
            with closing(self._connect()) as db:
                yield db
        except sqlite3.Error as error:
            raise self._failure(error) from error

    @contextmanager
    def writing(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, holding the lock from its start; rolled back on error."""
        try:
            with closing(self._connect()) as db:
                db.execute("BEGIN IMMEDIATE")
                try:
                    yield db
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
                db.execute("COMMIT")
        except sqlite3.Error as error:
            raise self._failure(error) from error
