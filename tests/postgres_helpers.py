"""A throwaway PostgreSQL cluster for the tests of the Postgres instance profile, made, started and
stopped by `scripts/postgres.sh` under the project's own `.postgres/` folder on a loopback port.

In CI (the `CI` variable set) a cluster that cannot be installed or started fails the tests that
need it; elsewhere they are skipped with the script's reason.
"""

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "scripts" / "postgres.sh"
CLUSTERS = REPO / ".postgres"
PROFILE = REPO / "deploy" / "dagster.postgres.yaml"
# Installing Debian's package where it is missing takes under a minute; starting, seconds.
START_TIMEOUT_SECONDS = 120
STOP_TIMEOUT_SECONDS = 60
EXPORT = re.compile(r"^export (DAGSTER_PG_[A-Z]+)=(.*)$")


@dataclass(frozen=True)
class Postgres:
    """A running cluster: the DAGSTER_PG_* variables the profile reads."""

    env: dict[str, str]


def unavailable(reason: str) -> NoReturn:
    """Fail in CI, where the profile's tests must run for real; skip elsewhere."""
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL is required in CI: {reason}", pytrace=False)
    pytest.skip(f"no PostgreSQL for the production profile's tests: {reason}")


def _script(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def _start(folder: Path, port: int) -> Postgres:
    try:
        started = _script("start", str(folder), str(port), timeout=START_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        unavailable(f"scripts/postgres.sh start took over {START_TIMEOUT_SECONDS} s")
    if started.returncode != 0:
        said = " | ".join(started.stderr.strip().splitlines()[-6:])
        unavailable(said or f"scripts/postgres.sh exited {started.returncode}")
    env = dict(m.groups() for line in started.stdout.splitlines() if (m := EXPORT.match(line)))
    return Postgres(env)


@contextmanager
def throwaway_postgres(name: str, port: int) -> Iterator[Postgres]:
    """A new cluster in `.postgres/<name>` on 127.0.0.1:`port`, stopped and removed afterwards."""
    folder = CLUSTERS / name
    shutil.rmtree(folder, ignore_errors=True)
    try:
        yield _start(folder, port)
    finally:
        _script("stop", str(folder), timeout=STOP_TIMEOUT_SECONDS)
        shutil.rmtree(folder, ignore_errors=True)


def postgres_home(home: Path) -> Path:
    """A DAGSTER_HOME with the Postgres profile as its dagster.yaml (and the UI's intro seen)."""
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(PROFILE, home / "dagster.yaml")
    (home / ".nux").mkdir(exist_ok=True)
    (home / ".nux" / "nux.yaml").write_text("seen: 1\n")
    return home
