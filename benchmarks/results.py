"""The benchmark's one output: every measure of a run in `bench/results.json`, and a table.

A measure is a value with its unit and what it is compared with: a goal's bound, a floor set by
the sandbox's limits, or a peer's figure measured in the same run. The ratio is always value over
that reference, so a ratio is never formed across runs.
"""

import json
import os
import platform
import subprocess
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = REPO / "bench" / "results.json"


@dataclass(frozen=True)
class Measure:
    """One figure; `met` is None where no goal applies (a peer's figure shown beside ours)."""

    name: str
    value: float | None
    unit: str
    compared_with: str = ""
    reference: float | None = None
    goal: str = ""
    met: bool | None = None
    note: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.value is None or not self.reference:
            return None
        return self.value / self.reference

    def as_json(self, cpus: int) -> dict[str, Any]:
        data = asdict(self)
        data["ratio"] = self.ratio
        data["cpus"] = cpus
        return data


def at_most(value: float | None, bound: float) -> bool | None:
    return None if value is None else value <= bound


def at_least(value: float | None, bound: float) -> bool | None:
    return None if value is None else value >= bound


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def _commit() -> str | None:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    return done.stdout.strip() or None


def machine() -> dict[str, Any]:
    """Where the run happened; the load average says whether it had the machine to itself."""
    return {
        "cpus": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_gb": _memory_gb(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average": list(os.getloadavg()),
    }


def write(
    path: Path, measures: list[Measure], started: datetime, seconds: float, context: dict[str, Any]
) -> Path:
    cpus = os.cpu_count() or 1
    document = {
        "command": "make bench (python -m benchmarks)",
        "commit": _commit(),
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": round(seconds, 1),
        "machine": machine(),
        **context,
        "measures": [m.as_json(cpus) for m in measures],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, default=str) + "\n")
    return path


def _number(value: float | None) -> str:
    if value is None:
        return "-"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


HEADERS = ("measure", "value", "unit", "compared with", "reference", "ratio", "goal", "met")


def table(measures: list[Measure]) -> str:
    """Aligned columns for people; hand-written because no table library is a dependency."""
    rows = [HEADERS] + [
        (
            m.name,
            _number(m.value),
            m.unit,
            m.compared_with,
            _number(m.reference),
            "-" if m.ratio is None else f"{m.ratio:.3g}",
            m.goal,
            {True: "yes", False: "NO", None: ""}[m.met],
        )
        for m in measures
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADERS))]
    right = {1, 4, 5}
    return "\n".join(
        "  ".join(
            cell.rjust(width) if i in right else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    )


def markdown(measures: list[Measure]) -> str:
    """The same table as Markdown, for the README."""
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    for m in measures:
        ratio = "-" if m.ratio is None else f"{m.ratio:.3g}"
        met = {True: "yes", False: "**no**", None: ""}[m.met]
        cells = [m.name, _number(m.value), m.unit, m.compared_with, _number(m.reference), ratio,
                 m.goal, met]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
