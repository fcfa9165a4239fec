"""The sandbox benchmark's outputs: a table for people and a JSON file for later comparisons."""

import json
import os
import platform
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.sandbox_startup import ScaleFigures

HEADERS = (
    "scale", "startup s", "bound s", "ratio", "pages", "orders", "lines", "lines/s", "peak RSS MB",
)  # fmt: skip


def table(results: list[ScaleFigures]) -> str:
    """Right-aligned columns; hand-written because no table library is a direct dependency."""
    rows = [HEADERS] + [
        (
            r.scale,
            f"{r.startup_seconds:.2f}",
            f"{r.bound_seconds:g}",
            f"{r.ratio:.2f}",
            str(r.pages),
            str(r.orders.objects),
            str(r.orders.line_items),
            f"{r.line_items_per_second:,.0f}",
            f"{r.peak_rss_mb:.0f}",
        )
        for r in results
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADERS))]
    return "\n".join(
        "  ".join(
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    )


def results_path() -> Path:
    return Path(os.environ.get("SHELFOPS_HOME", "data")) / "bench" / "sandbox.json"


def write_json(results: list[ScaleFigures], seed: int, now: datetime, repeat: int) -> Path:
    """Write this run's figures, keyed by scale so later benchmarks can add their own sections."""
    document: dict[str, Any] = {
        "benchmark": "sandbox",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "host": {"python": platform.python_version(), "machine": platform.machine(),
                 "cpus": os.cpu_count()},
        "seed": seed,
        "now": now.isoformat(),
        "repeat": repeat,
        "scales": {
            r.scale: {
                **asdict(r),
                "ratio": r.ratio,
                "pages": r.pages,
                "line_items_per_second": r.line_items_per_second,
                "within_bound": r.within_bound,
            }
            for r in results
        },
    }  # fmt: skip
    path = results_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n")
    return path
