"""Slicing a full, stably ordered result into Square pages with bound cursors."""

from collections.abc import Sequence
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
