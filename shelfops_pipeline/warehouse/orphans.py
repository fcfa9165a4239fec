"""Runs whose `shelfops` process died: marked failed, their pool slots given back.

`shelfops sync` and `shelfops demo` run partitions inside their own process, with no daemon to
watch them. A process killed mid-run (SIGKILL, a lost machine) leaves its run STARTED and the
Dagster pool slots its steps claimed held for good; once a pool's few slots are all held so,
every later sync waits for them forever. Each run these commands start is tagged with the host
and process id that runs it, and before starting, a command fails every tagged run on this host
whose process is gone and frees its slots, as the daemon's run monitoring would.
"""

import logging
import os
import socket

import dagster as dg

PROCESS_TAG = "shelfops/process"
UNFINISHED = [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED]

log = logging.getLogger(__name__)


def process_tag() -> dict[str, str]:
    """The tag naming this process on this host, for every run it executes in process."""
    return {PROCESS_TAG: f"{socket.gethostname()}:{os.getpid()}"}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _dead_process(tag: str) -> int | None:
    """The process id in `tag` when it names a process of this host that no longer runs."""
    host, _, pid = tag.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return None
    return None if _alive(int(pid)) else int(pid)


def fail_orphaned_runs(instance: dg.DagsterInstance) -> list[str]:
    """Fail the unfinished runs of dead `shelfops` processes of this host and free their pool
    slots; the ids of the runs failed."""
    records = instance.get_run_records(dg.RunsFilter(statuses=UNFINISHED))
    failed = []
    for record in records:
        run = record.dagster_run
        pid = _dead_process(run.tags.get(PROCESS_TAG, ""))
        if pid is None:
            continue
        instance.report_run_failed(
            run, f"the shelfops process running it (pid {pid}) ended before the run did"
        )
        if instance.event_log_storage.supports_global_concurrency_limits:
            instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        log.warning("run %s of a dead process (pid %s) marked failed", run.run_id, pid)
        failed.append(run.run_id)
    return failed
