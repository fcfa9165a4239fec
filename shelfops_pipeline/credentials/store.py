"""The credential store: one row per (customer, source) connection, tokens encrypted by Fernet.

Only ciphertext reaches the file. Decrypting needs one of the configured keys; a secret none of
them opens is a CredentialKeyError naming the connection, never a plaintext fallback. Reading a
connection's metadata (`overview`) needs no key at all.
"""

import logging
import secrets
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.fernet import InvalidToken, MultiFernet

from shelfops_pipeline.credentials.database import Database, from_text, to_text, utc_now
from shelfops_pipeline.credentials.errors import (
    ConnectionNotFound,
    CredentialKeyError,
    undecryptable_signature_key,
)
from shelfops_pipeline.credentials.keys import KEYS_ENV, load_keys
from shelfops_pipeline.credentials.models import (
    SOURCES,
    STATUSES,
    Connection,
    ConnectionInfo,
    Source,
    Status,
    TokenSet,
)
from shelfops_pipeline.credentials.paths import store_path
from shelfops_pipeline.credentials.secret import Secret

logger = logging.getLogger(__name__)

SECRET_COLUMNS = ("access_token", "refresh_token")
MAX_ERROR_LENGTH = 500


def _info(row: sqlite3.Row) -> ConnectionInfo:
    return ConnectionInfo(
        id=row["id"],
        customer_id=row["customer_id"],
        source=row["source"],
        account=row["account"],
        scopes=tuple(row["scopes"].split()),
        expires_at=from_text(row["expires_at"]),
        refresh_token_expires_at=from_text(row["refresh_token_expires_at"]),
        status=row["status"],
        last_error=row["last_error"],
        created_at=datetime.fromisoformat(row["created_at"]),
        updated_at=datetime.fromisoformat(row["updated_at"]),
    )


def _undecryptable(info: ConnectionInfo, column: str) -> CredentialKeyError:
    return CredentialKeyError(
        f"the {column.replace('_', ' ')} of the {info.describe()} cannot be decrypted with the "
        f"configured keys: if the keys were rotated, list the old key after the new one in "
        f"{KEYS_ENV} (newest first) and run `shelfops keys rotate`"
    )


class LockedConnection:
    """A connection re-read inside a write transaction that no other writer can interleave."""

    def __init__(self, store: "CredentialStore", db: sqlite3.Connection, connection: Connection):
        self._store = store
        self._db = db
        self.connection = connection

    def update_tokens(self, tokens: TokenSet) -> Connection:
        self.connection = self._store._write_tokens(self._db, self.connection.id, tokens)
        return self.connection

    def mark(self, status: Status, last_error: str | None = None) -> None:
        self._store._write_status(self._db, self.connection.id, status, last_error)


class CredentialStore:
    """Connections in `$SHELFOPS_HOME/credentials.sqlite` unless told otherwise.

    `keys` default to `load_keys()`, read when a secret is first encrypted or decrypted.
    """

    def __init__(
        self,
        path: Path | None = None,
        keys: MultiFernet | None = None,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        self.path = path or store_path()
        self.database = Database(self.path)
        self._keys = keys
        self._now = now

    @property
    def keys(self) -> MultiFernet:
        if self._keys is None:
            self._keys = load_keys()
        return self._keys

    def _encrypt(self, secret: Secret | None) -> str | None:
        if secret is None:
            return None
        return self.keys.encrypt(secret.reveal().encode("utf-8")).decode("ascii")

    def _decrypt(self, info: ConnectionInfo, ciphertext: str, column: str) -> Secret:
        try:
            return Secret(self.keys.decrypt(ciphertext.encode("ascii")).decode("utf-8"))
        except InvalidToken as error:
            raise _undecryptable(info, column) from error

    def _connection(self, row: sqlite3.Row) -> Connection:
        info = _info(row)
        refresh_token = row["refresh_token"]
        return Connection(
            **vars(info),
            access_token=self._decrypt(info, row["access_token"], "access_token"),
            refresh_token=(
                self._decrypt(info, refresh_token, "refresh_token") if refresh_token else None
            ),
        )

    @staticmethod
    def _row(db: sqlite3.Connection, connection_id: str) -> sqlite3.Row:
        row = db.execute("SELECT * FROM connections WHERE id = ?", (connection_id,)).fetchone()
        if row is None:
            raise ConnectionNotFound(
                f"no connection {connection_id!r}; `shelfops connections list` shows them"
            )
        return row

    def upsert_connection(
        self,
        *,
        customer_id: str,
        source: Source,
        account: str,
        scopes: Iterable[str],
        tokens: TokenSet,
    ) -> Connection:
        """Register (or re-authorize) the customer's connection to `source`; it becomes active.

        One connection per customer and source: connecting again keeps its id and replaces the
        account, scopes and tokens.
        """
        if source not in SOURCES:
            raise ValueError(f"source must be one of {', '.join(SOURCES)}")
        now = to_text(self._now())
        values: dict[str, Any] = {
            "customer_id": customer_id,
            "source": source,
            "account": account,
            "scopes": " ".join(scopes),
            "access_token": self._encrypt(tokens.access_token),
            "refresh_token": self._encrypt(tokens.refresh_token),
            "expires_at": to_text(tokens.expires_at),
            "refresh_token_expires_at": to_text(tokens.refresh_token_expires_at),
            "now": now,
            "id": f"{source}-{secrets.token_hex(4)}",
        }
        with self.database.writing() as db:
            db.execute(
                """
                INSERT INTO connections (id, customer_id, source, account, scopes, access_token,
                    refresh_token, expires_at, refresh_token_expires_at, status, last_error,
                    created_at, updated_at)
                VALUES (:id, :customer_id, :source, :account, :scopes, :access_token,
                    :refresh_token, :expires_at, :refresh_token_expires_at, 'active', NULL,
                    :now, :now)
                ON CONFLICT (customer_id, source) DO UPDATE SET
                    account = excluded.account, scopes = excluded.scopes,
                    access_token = excluded.access_token, refresh_token = excluded.refresh_token,
                    expires_at = excluded.expires_at,
                    refresh_token_expires_at = excluded.refresh_token_expires_at,
                    status = 'active', last_error = NULL, updated_at = excluded.updated_at
                """,
                values,
            )
            row = db.execute(
                "SELECT * FROM connections WHERE customer_id = ? AND source = ?",
                (customer_id, source),
            ).fetchone()
        connection = self._connection(row)
        logger.info("stored the %s", connection.describe())
        return connection

    def get(self, connection_id: str) -> Connection:
        with self.database.reading() as db:
            return self._connection(self._row(db, connection_id))

    def find(self, customer_id: str, source: Source) -> Connection | None:
        with self.database.reading() as db:
            row = db.execute(
                "SELECT * FROM connections WHERE customer_id = ? AND source = ?",
                (customer_id, source),
            ).fetchone()
        return self._connection(row) if row is not None else None

    def overview(self) -> list[ConnectionInfo]:
        """Every connection's metadata and health, decrypting nothing (no key needed)."""
        with self.database.reading() as db:
            rows = db.execute("SELECT * FROM connections ORDER BY customer_id, source").fetchall()
        return [_info(row) for row in rows]

    def _write_tokens(
        self, db: sqlite3.Connection, connection_id: str, tokens: TokenSet
    ) -> Connection:
        """New tokens, status active; a provider that sends no refresh token keeps the old one."""
        self._row(db, connection_id)
        db.execute(
            """
            UPDATE connections SET
                access_token = :access_token,
                expires_at = :expires_at,
                refresh_token = COALESCE(:refresh_token, refresh_token),
                refresh_token_expires_at = CASE WHEN :refresh_token IS NULL
                    THEN refresh_token_expires_at ELSE :refresh_token_expires_at END,
                status = 'active', last_error = NULL, updated_at = :now
            WHERE id = :id
            """,
            {
                "id": connection_id,
                "access_token": self._encrypt(tokens.access_token),
                "expires_at": to_text(tokens.expires_at),
                "refresh_token": self._encrypt(tokens.refresh_token),
                "refresh_token_expires_at": to_text(tokens.refresh_token_expires_at),
                "now": to_text(self._now()),
            },
        )
        return self._connection(self._row(db, connection_id))

    def _write_status(
        self, db: sqlite3.Connection, connection_id: str, status: Status, last_error: str | None
    ) -> None:
        if status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}")
        self._row(db, connection_id)
        db.execute(
            "UPDATE connections SET status = ?, last_error = ?, updated_at = ? WHERE id = ?",
            (
                status,
                last_error and last_error[:MAX_ERROR_LENGTH],
                to_text(self._now()),
                connection_id,
            ),
        )

    def update_tokens(self, connection_id: str, tokens: TokenSet) -> Connection:
        """Store refreshed tokens in one transaction; the connection becomes active again."""
        with self.database.writing() as db:
            return self._write_tokens(db, connection_id, tokens)

    def mark(self, connection_id: str, status: Status, last_error: str | None = None) -> None:
        """Set the connection's status and last error (a message for operators, never a secret)."""
        with self.database.writing() as db:
            self._write_status(db, connection_id, status, last_error)
        logger.info("connection %s marked %s", connection_id, status)

    @contextmanager
    def locked(self, connection_id: str) -> Iterator[LockedConnection]:
        """Hold the store's write lock while deciding on and writing one connection's tokens."""
        with self.database.writing() as db:
            yield LockedConnection(self, db, self._connection(self._row(db, connection_id)))

    def rotate_keys(self) -> int:
        """Re-encrypt every stored secret with the newest key in one transaction; the count."""
        rotated = 0
        with self.database.writing() as db:
            for row in db.execute("SELECT * FROM connections").fetchall():
                for column in SECRET_COLUMNS:
                    if row[column] is None:
                        continue
                    try:
                        fresh = self.keys.rotate(row[column].encode("ascii")).decode("ascii")
                    except InvalidToken as error:
                        raise _undecryptable(_info(row), column) from error
                    db.execute(
                        f"UPDATE connections SET {column} = ? WHERE id = ?", (fresh, row["id"])
                    )
                    rotated += 1
            rotated += self._rotate_signature_keys(db)
        logger.info("re-encrypted %d stored secrets with the newest key", rotated)
        return rotated

    def _rotate_signature_keys(self, db: sqlite3.Connection) -> int:
        rows = db.execute(
            "SELECT id, signature_key FROM webhook_subscriptions WHERE signature_key IS NOT NULL"
        ).fetchall()
        for row in rows:
            try:
                fresh = self.keys.rotate(row["signature_key"].encode("ascii")).decode("ascii")
            except InvalidToken as error:
                raise undecryptable_signature_key(row["id"]) from error
            db.execute(
                "UPDATE webhook_subscriptions SET signature_key = ? WHERE id = ?",
                (fresh, row["id"]),
            )
        return len(rows)

    def remove(self, connection_id: str) -> ConnectionInfo:
        """Forget a connection and its tokens (its webhook subscriptions are removed first, by
        the caller, while the tokens can still authorize that)."""
        with self.database.writing() as db:
            info = _info(self._row(db, connection_id))
            db.execute(
                "DELETE FROM webhook_subscriptions WHERE connection_id = ?", (connection_id,)
            )
            db.execute("DELETE FROM connections WHERE id = ?", (connection_id,))
        logger.info("removed the %s", info.describe())
        return info

    def list(self) -> list[Connection]:
        """Every connection with its decrypted tokens."""
        with self.database.reading() as db:
            rows = db.execute("SELECT * FROM connections ORDER BY customer_id, source").fetchall()
        return [self._connection(row) for row in rows]
