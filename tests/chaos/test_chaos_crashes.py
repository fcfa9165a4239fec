"""Crashes: `shelfops sync` killed with SIGKILL at random moments while it writes never leaves a
partial partition where an analyst could see it, and the sync run again converges to the truth.

The command runs in its own process against the frozen small world (Square customers connected).
Each kill syncs a random share of the customers and days and is timed by what the sync is doing:
it lands a random few milliseconds after the sync's n-th partition file starts being written
(n random), so it falls inside a write, at its commit or just after. After every kill: each
committed Parquet file reads whole, each transactions partition holds exactly the truth for its
customer and day, and the DuckDB views (through `shelfops query`) show exactly the truth's lines
and sums for every day they show. After the last kill one uninterrupted sync must leave every
partition equal to the truth, and every file a killed run left equal to the final one.

The short form (`make test`) kills 3 runs, the full form (`make chaos`) 20; the moments come
from a seeded generator, so a failure replays. The instance is the default one `shelfops sync`
creates, without `dagster.yaml`'s pools (test_chaos_pool_slots.py covers those).
"""

import random
import signal
import time
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

import pytest
from chaos_scale import scaled
from conftest import FROZEN_NOW
from sync_process import (
    SyncCli,
    temporary_files,
    transactions_rows,
    truth_rows,
    visible_partitions,
)
from warehouse_helpers import lakehouse

from shelfops_pipeline.sandbox.truth import COLUMNS

pytestmark = pytest.mark.chaos

KILLS = scaled(3, 20)
MOMENTS_SEED = 8_2026
CUSTOMERS = ("cust-001", "cust-003")
# Old enough that every offline order has been uploaded.

DAYS = tuple(FROZEN_NOW.date() - timedelta(days=back) for back in scaled((4,), (5, 4, 3)))
# Each partition run writes its source's raw file, then the table's.
FILES_PER_PARTITION = 2
RUN_DEADLINE_SECONDS = 180
POLL_SECONDS = 0.002
NET = COLUMNS.index("net_amount")


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SyncCli]:
    home = tmp_path_factory.mktemp("crashes")
    with lakehouse(home) as house:
        assert set(CUSTOMERS) <= set(house.customers)
        yield SyncCli(house, home / "cli-dagster")


def _scope(moments: random.Random) -> tuple[list[str], date, date]:
    customers = sorted(moments.sample(CUSTOMERS, moments.randint(1, len(CUSTOMERS))))
    first = moments.choice(DAYS)
    last = moments.choice([day for day in DAYS if day >= first])
    return customers, first, last


def _kill_during_a_write(cli: SyncCli, moments: random.Random) -> bool | None:
    """Start a sync and SIGKILL it a few milliseconds after its n-th file write starts: whether
    the kill cut a write short (it left a temporary file behind), or None when it finished first."""
    customers, first, last = _scope(moments)
    partitions = len(customers) * (2 + (last - first).days + 1)  # stores, products, each day
    target = moments.randint(1, partitions * FILES_PER_PARTITION)
    delay = moments.uniform(0, 0.03)
    already = set(temporary_files(cli.lake)) if cli.lake.exists() else set()
    process = cli.start_sync(customers, first, last)
    started: set[str] = set()
    deadline = time.monotonic() + RUN_DEADLINE_SECONDS
    while process.poll() is None and len(started) < target:
        assert time.monotonic() < deadline, "a sync ran past its deadline"
        started |= set(temporary_files(cli.lake)) - already if cli.lake.exists() else set()
        time.sleep(POLL_SECONDS)
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    output, _ = process.communicate(timeout=30)
    if process.returncode == -signal.SIGKILL:
        return bool(set(temporary_files(cli.lake)) - already)
    assert process.returncode == 0, output
    return None


def _assert_nothing_partial_is_visible(cli: SyncCli) -> dict[str, Counter[str]]:
    """Every committed file reads whole, every transactions partition is the truth, and the views
    show each day's truth or nothing; returns what is visible."""
    visible = visible_partitions(cli.lake) if cli.lake.exists() else {}
    for customer in CUSTOMERS:
        for day in DAYS:
            written = transactions_rows(cli.lake, customer, day)
            assert written in (None, truth_rows(cli.house, customer, day)), (customer, day)
    totals = cli.day_totals()
    for (customer, day), shown in (totals or {}).items():
        expected = truth_rows(cli.house, customer, date.fromisoformat(day))
        net = sum((row[NET] for row in expected), Decimal(0))
        assert shown == (len(expected), net), (customer, day)
    return visible


def test_syncs_killed_while_writing_leave_no_partial_partition_and_a_rerun_converges(
    cli: SyncCli,
) -> None:
    assert all(len(truth_rows(cli.house, c, d)) > 10 for c in CUSTOMERS for d in DAYS)
    moments = random.Random(MOMENTS_SEED)
    seen: list[dict[str, Counter[str]]] = []
    kills = cut_short = completed = 0
    while kills < KILLS:
        outcome = _kill_during_a_write(cli, moments)
        if outcome is None:
            completed += 1
        else:
            kills += 1
            cut_short += outcome
        assert completed <= KILLS, "the syncs keep finishing before the moment to kill them"
        seen.append(_assert_nothing_partial_is_visible(cli))

    process = cli.start_sync(list(CUSTOMERS), DAYS[0], DAYS[-1])
    output, _ = process.communicate(timeout=RUN_DEADLINE_SECONDS)
    assert process.returncode == 0, output
    assert f"{len(CUSTOMERS) * (2 + len(DAYS))} of " in output
    final = _assert_nothing_partial_is_visible(cli)
    for customer in CUSTOMERS:
        for day in DAYS:
            assert transactions_rows(cli.lake, customer, day) == truth_rows(
                cli.house, customer, day
            )
    totals = cli.day_totals_from_the_cli()
    assert set(totals) == {(c, str(d)) for c in CUSTOMERS for d in DAYS}
    assert totals == cli.day_totals()
    for snapshot in seen:
        for path, rows in snapshot.items():
            assert rows == final[path], f"{path} differed from the converged file"
    assert any(seen), "no kill came after a partition was committed"
    assert cut_short >= KILLS // 4, f"only {cut_short} of {KILLS} kills fell inside a write"
