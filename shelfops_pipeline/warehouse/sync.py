"""Backfills through Dagster, without a daemon: each partition of a table's asset job runs in this
process against the Dagster instance, so every run, materialization and check result is recorded
there (the UI shows them) exactly as if a schedule had launched it.

A plan is one request per (job, partition key): stores per customer, catalog and sales per
customer and business day, stock per customer and UTC hour. A failed partition is reported and the
others still run, so one customer's trouble never blocks another's backfill.
"""

import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import dagster as dg

from shelfops_pipeline.warehouse.jobs import JOB_OF_TABLE
from shelfops_pipeline.warehouse.orphans import fail_orphaned_runs, process_tag
from shelfops_pipeline.warehouse.schedules import day_key, hour_key

# Stores first: the other tables read the stores' time zones and currencies.
TABLES = ("stores", "products", "transactions", "inventory_snapshots")
SYNC_TAG = "shelfops/sync"
QUIET_LOGS = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
FULL_REFRESH = {"config": {"full_refresh": True}}


@dataclass(frozen=True)
class PartitionRequest:
    table: str
    partition_key: str

    @property
    def job_name(self) -> str:
        return JOB_OF_TABLE[self.table]


@dataclass(frozen=True)
class CheckOutcome:
    """One check evaluation; `partition_key` is None for checks over the whole table."""

    name: str
    partition_key: str | None
    passed: bool
    blocking_severity: bool

    @classmethod
    def of(cls, evaluation: dg.AssetCheckEvaluation) -> "CheckOutcome":
        return cls(
            f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}",
            evaluation.partition,
            evaluation.passed,
            evaluation.severity == dg.AssetCheckSeverity.ERROR,
        )


@dataclass(frozen=True)
class PartitionOutcome:
    request: PartitionRequest
    run_id: str
    success: bool
    failure: str | None
    checks: tuple[CheckOutcome, ...]

    @property
    def failed_checks(self) -> list[str]:
        return [c.name for c in self.checks if not c.passed and c.blocking_severity]

    @property
    def warnings(self) -> list[str]:
        return [c.name for c in self.checks if not c.passed and not c.blocking_severity]

    @property
    def ok(self) -> bool:
        """The run succeeded and no ERROR-severity check failed (WARN ones only warn)."""
        return self.success and not self.failed_checks


def days_between(start: date, end: date) -> list[date]:
    if end < start:
        raise ValueError(f"the end date {end} is before the start date {start}")
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def hours_of(days: Sequence[date]) -> Iterator[datetime]:
    for day in days:
        midnight = datetime.combine(day, time(0), UTC)
        for hour in range(24):
            yield midnight + timedelta(hours=hour)


def plan(
    tables: Iterable[str], customers: Sequence[str], start: date, end: date, now: datetime
) -> list[PartitionRequest]:
    """The partitions that rebuild `tables` for `customers` over business days start..end.

    Stock snapshots cover every UTC hour of those dates that has ended by `now`. Products come
    from today's catalog sync whatever the range: sources serve only the current catalog, and
    `products` keeps each version from the day it was first synced.
    """
    wanted = set(tables)
    unknown = wanted - set(TABLES)
    if unknown:
        raise ValueError(f"unknown tables {sorted(unknown)}; choose from {', '.join(TABLES)}")
    days = days_between(start, end)
    requests: list[PartitionRequest] = []
    for table in (t for t in TABLES if t in wanted):
        for customer in customers:
            if table == "stores":
                keys: list[str] = [customer]
            elif table == "products":
                keys = [str(day_key(customer, now.date()))]
            elif table == "inventory_snapshots":
                keys = [
                    str(hour_key(customer, hour))
                    for hour in hours_of(days)
                    if hour + timedelta(hours=1) <= now
                ]
            else:
                keys = [str(day_key(customer, day)) for day in days]
            requests.extend(PartitionRequest(table, key) for key in keys)
    return requests


def full_refresh_config(catalog_assets: Iterable[dg.AssetKey]) -> dict[str, Any]:
    """Run config that makes each source's catalog asset fetch everything (its one flag)."""
    return {"ops": {key.to_python_identifier(): FULL_REFRESH for key in catalog_assets}}


def _failure(result: dg.ExecuteInProcessResult) -> str | None:
    for event in result.get_step_failure_events():
        data = event.step_failure_data
        if data is not None and data.error is not None:
            return f"{event.step_key}: {data.error.message.strip()}"
    return None if result.success else "the run failed before any step ran"


def run_partition(
    defs: dg.Definitions,
    request: PartitionRequest,
    instance: dg.DagsterInstance,
    tags: Mapping[str, str],
    run_config: Mapping[str, Any] | None = None,
) -> PartitionOutcome:
    """Run one partition of the table's job in this process, recorded in `instance`."""
    job = defs.resolve_job_def(request.job_name)
    result = job.execute_in_process(
        run_config={**QUIET_LOGS, **(run_config or {})},
        instance=instance,
        partition_key=request.partition_key,
        raise_on_error=False,
        tags=dict(tags),
    )
    checks = tuple(CheckOutcome.of(e) for e in result.get_asset_check_evaluations())
    return PartitionOutcome(request, result.run_id, result.success, _failure(result), checks)


def latest_checks(outcomes: Iterable[PartitionOutcome]) -> list[CheckOutcome]:
    """The last evaluation of each check and partition: the state the runs left behind."""
    latest = {(c.name, c.partition_key): c for o in outcomes for c in o.checks}
    return list(latest.values())


def run_plan(
    defs: dg.Definitions,
    requests: Sequence[PartitionRequest],
    instance: dg.DagsterInstance,
    tags: Mapping[str, str] | None = None,
    run_configs: Mapping[str, Mapping[str, Any]] | None = None,
    on_outcome: Callable[[PartitionOutcome], None] = lambda outcome: None,
) -> list[PartitionOutcome]:
    """Run every request in order; all runs share a `shelfops/sync` tag with one sync id.

    Runs a dead process of this host left unfinished are failed first, freeing their pool slots.

    `run_configs` holds extra run config by table (say, the catalog's full refresh).
    """
    fail_orphaned_runs(instance)
    shared = {SYNC_TAG: uuid.uuid4().hex[:12], **process_tag(), **(tags or {})}
    outcomes = []
    for request in requests:
        extra = (run_configs or {}).get(request.table)
        outcome = run_partition(defs, request, instance, shared, extra)
        on_outcome(outcome)
        outcomes.append(outcome)
    return outcomes
