"""One timed run of a Singer tap against the benchmark's sandbox, and what it produced."""

import itertools
import json
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.child import ChildRun, run_child
from benchmarks.served import Window
from benchmarks.truth import Match

TEMPLATES = Path(__file__).resolve().parent / "templates"
TAP_TIMEOUT_SECONDS = 900.0


@dataclass
class PeerRun:
    """A peer's run beside ours: `reason` is set when it could not run at all."""

    peer: str
    limits: str
    reason: str | None = None
    child: ChildRun | None = None
    window: Window | None = None
    records: dict[str, int] = field(default_factory=dict)
    line_items: int = 0
    match: Match | None = None
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def available(self) -> bool:
        return self.reason is None and self.child is not None and self.child.ok

    @property
    def why_not(self) -> str:
        if self.reason:
            return self.reason
        if self.child is not None and not self.child.ok:
            return f"exited {self.child.returncode}: {self.child.output_tail[-300:]}"
        return ""

    def longest_idle_seconds(self) -> float:
        """The longest stretch between two of its requests (a fixed poll interval shows here)."""
        if self.window is None or len(self.window.exchanges) < 2:
            return 0.0
        times = sorted(self.window.exchanges, key=lambda e: e.started)
        return max(b.started - a.finished for a, b in itertools.pairwise(times))


def copy_template(name: str, destination: Path) -> Path:
    destination.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(TEMPLATES / name, destination)
    return destination


def read_records(path: Path, stream: str) -> tuple[Counter[str], list[dict[str, Any]]]:
    """Counts of RECORD messages per stream, and the records of `stream`."""
    counts: Counter[str] = Counter()
    kept: list[dict[str, Any]] = []
    with path.open() as lines:
        for line in lines:
            if not line.startswith("{"):
                continue
            message = json.loads(line)
            if message.get("type") == "RECORD":
                counts[message["stream"]] += 1
                if message["stream"] == stream:
                    kept.append(message["record"])
    return counts, kept


def timed_tap(
    command: list[str], env: dict[str, str], folder: Path, name: str
) -> tuple[ChildRun, Path]:
    out = folder / f"{name}.jsonl"
    child = run_child(
        command, env, stdout=out, log=folder / f"{name}.log", cwd=folder,
        timeout_seconds=TAP_TIMEOUT_SECONDS,
    )  # fmt: skip
    return child, out
