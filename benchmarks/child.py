"""Run one process to its end and measure it: wall time and its own peak resident set.

The peak is the largest `VmHWM` read from /proc/PID/status while the child runs (every 20 ms).
Not `wait4`'s `ru_maxrss`: Linux carries the high-water mark of the memory a child had before
`exec` into it, and a child spawned from this process starts with this process's memory (the
benchmark's sandbox and world), so `ru_maxrss` reports the parent's size whenever that is larger.
A watchdog kills a child that outlives its timeout, so a hung peer cannot hang the benchmark.
"""

import os
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

KILOBYTE = 1024
MEGABYTE = 1024 * 1024
TAIL_LINES = 12
POLL_SECONDS = 0.02


@dataclass(frozen=True)
class ChildRun:
    seconds: float
    peak_rss_mb: float
    returncode: int
    output_tail: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def run_child(
    command: list[str],
    env: dict[str, str],
    *,
    stdout: Path | None = None,
    log: Path,
    cwd: Path | None = None,
    timeout_seconds: float = 1800.0,
) -> ChildRun:
    """Run `command`; stdout to `stdout` (else to `log`), stderr to `log`."""
    with log.open("w") as err, stdout.open("w") if stdout else log.open("a") as out:
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, stdout=out, stderr=err, cwd=cwd)
        watchdog = threading.Timer(timeout_seconds, process.kill)
        watchdog.start()
        peak = PeakMemory(process.pid)
        peak.start()
        try:
            _, status, _ = os.wait4(process.pid, 0)
        finally:
            watchdog.cancel()
            peak.stop()
        seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    return ChildRun(
        seconds=seconds,
        peak_rss_mb=peak.kilobytes * KILOBYTE / MEGABYTE,
        returncode=process.returncode,
        output_tail="\n".join(lines[-TAIL_LINES:]),
    )


class PeakMemory(threading.Thread):
    """Polls a process's VmHWM (KiB) until stopped; psutil is not a dependency, /proc is enough."""

    def __init__(self, pid: int) -> None:
        super().__init__(name=f"peak-memory-{pid}", daemon=True)
        self.path = Path(f"/proc/{pid}/status")
        self.kilobytes = 0
        self._stopped = threading.Event()

    def run(self) -> None:
        while not self._stopped.is_set():
            self._read()
            self._stopped.wait(POLL_SECONDS)

    def _read(self) -> None:
        try:
            text = self.path.read_text()
        except OSError:
            return
        for line in text.splitlines():
            if line.startswith("VmHWM:"):
                self.kilobytes = max(self.kilobytes, int(line.split()[1]))

    def stop(self) -> None:
        self._stopped.set()
        self.join()
