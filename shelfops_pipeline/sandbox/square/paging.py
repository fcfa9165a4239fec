"""Slicing a full, stably ordered result into Square pages with bound cursors."""

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from typing import Any

from shelfops_pipeline.sandbox.square.cursors import PageState, encode_cursor


def page(
    results: Sequence[Any], request: dict[str, Any], state: PageState, size: int
) -> tuple[Sequence[Any], str | None]:
    chunk = results[state.offset : state.offset + size]
    end = state.offset + size
    if end >= len(results):
        return chunk, None
    return chunk, encode_cursor(request, PageState(end, state.started_at))


class ResultCache:
    """Full results of the latest queries, so paging through one computes it once, not per page.

    Keys hold the query's fingerprint and the instant paging began, so a page never mixes two
    snapshots. Thread-safe: uvicorn may run handlers from several threads.
    """

    def __init__(self, size: int = 16) -> None:
        self._size = size
        self._entries: OrderedDict[Hashable, list[Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_compute(self, key: Hashable, compute: Callable[[], list[Any]]) -> list[Any]:
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
        results = compute()
        with self._lock:
            self._entries[key] = results
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return results
