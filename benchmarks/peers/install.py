"""A peer connector in a throwaway virtual environment, installed from the package index pip is
configured with, and kept in `.bench-peers/` (git-ignored) so later runs skip the install.

Nothing of the peer's code enters the repository. When the install fails (no index reachable,
say), the peer is reported unavailable with pip's last line, and the benchmark goes on.
"""

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.results import REPO

PEERS_HOME = REPO / ".bench-peers"
INSTALL_TIMEOUT_SECONDS = 600.0
MARKER = ".installed"


@dataclass(frozen=True)
class PeerEnv:
    """An installed peer: the interpreter of its environment and what installing it cost."""

    requirement: str
    python: Path
    install_seconds: float
    cached: bool

    def script(self, name: str) -> Path:
        return self.python.parent / name


class PeerUnavailable(RuntimeError):
    """The peer could not be installed; the message says why."""


def peer_env(requirement: str) -> PeerEnv:
    """`requirement` (e.g. `tap-square==2.3.1`) installed in its own venv, cached by name."""
    folder = PEERS_HOME / requirement.replace("==", "-")
    python = folder / "bin" / "python"
    marker = folder / MARKER
    if marker.is_file() and marker.read_text().strip() == requirement and python.is_file():
        return PeerEnv(requirement, python, 0.0, cached=True)
    started = time.perf_counter()
    _run(
        [sys.executable, "-m", "venv", "--clear", str(folder)], f"creating a venv for {requirement}"
    )
    _run(
        [str(python), "-m", "pip", "install", "--quiet", requirement], f"pip install {requirement}"
    )
    marker.write_text(requirement + "\n")
    return PeerEnv(requirement, python, time.perf_counter() - started, cached=False)


def _run(command: list[str], what: str) -> None:
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_SECONDS, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise PeerUnavailable(f"{what}: {error}") from error
    if done.returncode != 0:
        lines = [line for line in (done.stderr or done.stdout).splitlines() if line.strip()]
        raise PeerUnavailable(f"{what} failed: {lines[-1] if lines else done.returncode}")
