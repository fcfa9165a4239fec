"""The latest few full results of the emulators' list queries, so paging through one result
computes it once, not per page.

Keys hold everything the result depends on, the instant it is shown at included, so a page never
mixes two snapshots. Thread-safe: uvicorn may run handlers from several threads.
"""

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class ResultCache(Generic[V]):
    # functools.lru_cache keys on its arguments; here the work is a closure outside the key.
    def __init__(self, size: int = 16) -> None:
        self._size = size
        self._entries: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_compute(self, key: Hashable, compute: Callable[[], V]) -> V:
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
        result = compute()
        with self._lock:
            self._entries[key] = result
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return result
