"""Crashes, with the instance an operator runs: a `shelfops sync` killed while one of its steps
holds a slot of a Dagster pool (`square_api`, `shopify_api` in `dagster.yaml`: how many provider
steps may run at once) must not keep that slot, or once the pool's few slots are all held by dead
runs every later sync waits for them forever, silently.

`dagster.yaml` is copied into the instance as `make demo` and `make ui` do; syncs are killed the
moment their run holds a slot, until one pool has every slot held by a killed run; then a sync of
one customer's day must finish.
"""

import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import dagster as dg
import pytest
from chaos_scale import scaled
from conftest import FROZEN_NOW
from sync_process import SyncCli
from warehouse_helpers import lakehouse

pytestmark = pytest.mark.chaos

DAGSTER_YAML = Path(__file__).resolve().parents[2] / "dagster.yaml"
CUSTOMER = "cust-001"
DAY = FROZEN_NOW.date() - timedelta(days=4)
RUN_DEADLINE_SECONDS = scaled(30, 120)
POLL_SECONDS = 0.01
# A step waiting this long for slots only dead runs hold waits forever.
BLOCKED_SECONDS = 5.0


def slot_holders(instance: dg.DagsterInstance) -> dict[str, set[str]]:
    """Run ids holding a slot, by pool."""
    storage = instance.event_log_storage
    return {
        pool: {slot.run_id for slot in storage.get_concurrency_info(pool).claimed_slots}
        for pool in storage.get_concurrency_keys()
    }


def pool_limit(instance: dg.DagsterInstance, pool: str) -> int:
    return instance.event_log_storage.get_concurrency_info(pool).slot_count


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SyncCli]:
    dagster_home = tmp_path / "dagster-home"
    dagster_home.mkdir()
    shutil.copy(DAGSTER_YAML, dagster_home / "dagster.yaml")
    # The file names its storage folder by this variable, for this process's reads as well.
    monkeypatch.setenv("DAGSTER_HOME", str(dagster_home))
    with lakehouse(tmp_path / "home") as house:
        yield SyncCli(house, dagster_home)


def _kill_while_holding_a_slot(cli: SyncCli, instance: dg.DagsterInstance) -> tuple[str, str]:
    """Start a stores sync and SIGKILL it as soon as its run holds a pool slot: (pool, run)."""
    before = slot_holders(instance)
    process = cli.start_sync([CUSTOMER], DAY, DAY)
    deadline = time.monotonic() + RUN_DEADLINE_SECONDS
    while True:
        assert process.poll() is None, "the sync finished before it was seen holding a slot"
        assert time.monotonic() < deadline, "the sync never took a pool slot"
        for pool, runs in slot_holders(instance).items():
            if new := runs - before.get(pool, set()):
                process.send_signal(signal.SIGKILL)
                process.communicate(timeout=30)
                return pool, next(iter(new))
        time.sleep(POLL_SECONDS)


def test_a_sync_killed_while_holding_a_pool_slot_does_not_block_the_next_one(
    cli: SyncCli,
) -> None:
    with dg.DagsterInstance.from_config(str(cli.dagster_home)) as instance:
        killed: dict[str, set[str]] = {}
        while not any(len(runs) >= pool_limit(instance, p) for p, runs in killed.items()):
            pool, run = _kill_while_holding_a_slot(cli, instance)
            killed.setdefault(pool, set()).add(run)
            assert sum(map(len, killed.values())) <= 6, killed

        dead = set().union(*killed.values())
        process = cli.start_sync([CUSTOMER], DAY, DAY)
        try:
            blocked = _wait_unless_blocked(process, instance, dead)
        finally:
            process.kill()
            output, _ = process.communicate(timeout=30)
        records = instance.get_run_records(dg.RunsFilter(run_ids=list(dead)))
        statuses = {record.dagster_run.status for record in records}
    assert not blocked, f"a sync after killed ones waits for slots they still hold: {blocked}"
    assert process.returncode == 0, output
    assert statuses == {dg.DagsterRunStatus.FAILURE}, "the killed runs are not marked failed"


def _wait_unless_blocked(
    process: subprocess.Popen[str], instance: dg.DagsterInstance, dead: set[str]
) -> dict[str, set[str]]:
    """Wait for `process`; stop early, returning the pools and the dead runs holding them, once
    one of its steps has waited BLOCKED_SECONDS for a pool whose every slot a dead run holds."""
    deadline = time.monotonic() + RUN_DEADLINE_SECONDS
    waiting_since: float | None = None
    while process.poll() is None:
        assert time.monotonic() < deadline, f"the sync did not finish in {RUN_DEADLINE_SECONDS} s"
        blocked = {}
        for pool, runs in slot_holders(instance).items():
            info = instance.event_log_storage.get_concurrency_info(pool)
            waiting = any(step.run_id not in dead for step in info.pending_steps)
            if waiting and runs and runs <= dead and len(runs) >= info.slot_count:
                blocked[pool] = runs
        waiting_since = (waiting_since or time.monotonic()) if blocked else None
        if waiting_since is not None and time.monotonic() - waiting_since > BLOCKED_SECONDS:
            return blocked
        time.sleep(POLL_SECONDS * 10)
    return {}
