"""The fault log: counts and recent entries of every injected fault, served to tests."""

import logging
import threading
from collections import Counter, deque
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from shelfops_pipeline.sandbox.faults.config import FaultKind

# One logger for the whole fault package, so operators filter on a single name.
logger = logging.getLogger("shelfops_pipeline.sandbox.faults")


@dataclass(frozen=True)
class FaultEntry:
    """One injected fault, as recorded in the fault log."""

    kind: FaultKind
    method: str
    path: str
    identity: str
    at: datetime


class FaultLog:
    """Counts of injected faults by kind plus the most recent entries; safe across threads."""

    def __init__(self, recent_limit: int = 200) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[FaultKind] = Counter()
        self._recent: deque[FaultEntry] = deque(maxlen=recent_limit)
        self._requests_seen = 0

    def record_request(self) -> None:
        with self._lock:
            self._requests_seen += 1

    def record_fault(self, entry: FaultEntry) -> None:
        logger.warning(
            "sandbox fault %s: %s %s for %s", entry.kind, entry.method, entry.path, entry.identity
        )
        with self._lock:
            self._counts[entry.kind] += 1
            self._recent.append(entry)

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = self.snapshot()["counts"]
        return counts

    def snapshot(self) -> dict[str, Any]:
        """What `GET /_sandbox/faults` returns: counts by kind, requests seen, recent entries."""
        with self._lock:
            counts = {kind.value: self._counts[kind] for kind in FaultKind}
            recent = list(self._recent)
            requests_seen = self._requests_seen
        return {
            "counts": counts,
            "total_faults": sum(counts.values()),
            "requests_seen": requests_seen,
            "recent": [
                {
                    "kind": entry.kind.value,
                    "method": entry.method,
                    "path": entry.path,
                    "identity": entry.identity,
                    "at": entry.at.isoformat(),
                }
                for entry in recent
            ],
        }

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()
            self._recent.clear()
            self._requests_seen = 0


def fault_log_routes(log: FaultLog) -> list[Route]:
    """`GET /_sandbox/faults` (the log's snapshot) and `POST /_sandbox/faults/reset`."""

    async def show(request: Request) -> JSONResponse:
        return JSONResponse(log.snapshot())

    async def reset(request: Request) -> JSONResponse:
        log.reset()
        return JSONResponse(log.snapshot())

    return [
        Route("/_sandbox/faults", show, methods=["GET"]),
        Route("/_sandbox/faults/reset", reset, methods=["POST"]),
    ]
