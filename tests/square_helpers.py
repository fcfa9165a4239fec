"""Paging through a Square list endpoint, as any client would, for the sandbox tests."""

from typing import Any

import httpx


def page_all(
    client: httpx.Client, method: str, path: str, body: dict[str, Any], key: str
) -> tuple[list[Any], list[dict[str, Any]]]:
    """All items under `key` across pages, plus every raw page (for contract checks)."""
    items: list[Any] = []
    pages: list[dict[str, Any]] = []
    cursor = None
    for _ in range(10_000):
        extra = {"cursor": cursor} if cursor else {}
        if method == "GET":
            reply = client.get(path, params={**body, **extra})
        else:
            reply = client.post(path, json={**body, **extra})
        assert reply.status_code == 200, reply.text
        page = reply.json()
        pages.append(page)
        items.extend(page.get(key, []))
        cursor = page.get("cursor")
        if not cursor:
            return items, pages
    raise AssertionError(f"{path} never stopped paging")
