"""Which customer a webhook belongs to: the provider account (Square merchant id, Shopify shop
domain) looked up in the credential store's overview, which needs no decryption key."""

import threading
import time
from collections.abc import Callable
from pathlib import Path

from shelfops_pipeline.credentials.paths import store_path
from shelfops_pipeline.credentials.store import CredentialStore

REFRESH_SECONDS = 5.0


def _read(home: Path | None) -> dict[tuple[str, str], str]:
    path = store_path(home)
    if not path.exists():
        return {}
    return {
        (info.source, info.account): info.customer_id
        for info in CredentialStore(path).overview()
        if info.status == "active"
    }


class AccountDirectory:
    """(provider, account) -> customer id, re-read at most every REFRESH_SECONDS on a miss, so a
    merchant connected a moment ago is found without a store read per delivery."""

    def __init__(
        self, home: Path | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._home = home
        self._clock = clock
        self._lock = threading.Lock()
        self._known: dict[tuple[str, str], str] = {}
        self._read_at: float | None = None

    def customer(self, provider: str, account: str) -> str | None:
        key = (provider, account)
        with self._lock:
            found = self._known.get(key)
            stale = self._read_at is None or self._clock() - self._read_at >= REFRESH_SECONDS
            if found is None and stale:
                self._known = _read(self._home)
                self._read_at = self._clock()
                found = self._known.get(key)
            return found
