"""The measures on the busy world: our pipeline end to end, against the rate-limit floor and the
JSON-decode floor, and beside tap-square and tap-shopify on the same sandbox, limits and days.

Three sandboxes, each fresh: Square under the README's example budget (10 requests/s, burst 20;
it does not bind either tool, so the Square runs also serve as the limits-off comparison);
Shopify with its limits off (our last two days, the tap from the same start); Shopify at its
standard limits (all six days, about 20,000 orders: the end-to-end goal).
"""

import subprocess
import sys
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from benchmarks import busy_world as busy
from benchmarks import truth
from benchmarks.compare import beside_peer, ingest_measures, ours_vs_peer_speed, sync_details
from benchmarks.ingest import decode_seconds, our_sync
from benchmarks.peers import tap_shopify, tap_square
from benchmarks.peers.install import PeerEnv, PeerUnavailable, peer_env
from benchmarks.peers.singer import PeerRun
from benchmarks.results import REPO, Measure, at_most
from shelfops_pipeline.sandbox.faults import FaultConfig
from shelfops_pipeline.sandbox.server import build_sandbox

SQUARE_LIMITS = busy.Limits(
    "square budget", busy.STANDARD, FaultConfig(budget_per_second=10.0, budget_burst=20)
)
LIMITS_OFF_DAYS = 2
E2E_BOUND = 1.15
MEMORY_BOUND_MB = 500.0
REST_PAGE = 250
REST_BUCKET, REST_LEAK_PER_SECOND = 40, 2.0
TRUTH_TIMEOUT_SECONDS = 900.0


class TruthJob:
    """Both accounts' ground truth for every benchmarked day, computed by a child process that
    starts at once and is waited for when first needed."""

    def __init__(self, folder: Path) -> None:
        accounts = busy.Accounts(build_sandbox(busy.settings(busy.LIMITS_OFF)))
        days = sorted(set(accounts.square_days) | set(accounts.shopify_days))
        customers = [accounts.square_customer, accounts.shop.customer_id]
        self.path = folder / "truth.jsonl"
        command = [
            sys.executable,
            "-m",
            "benchmarks.truth_child",
            "--seed",
            str(busy.SEED),
            "--scale",
            busy.SCALE,
            "--now",
            busy.NOW_TEXT,
            "--out",
            str(self.path),
            *[part for day in days for part in ("--date", day.isoformat())],
            *[part for customer in customers for part in ("--customer", customer)],
        ]
        self._process = subprocess.Popen(
            command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )

    def rows(self, customer: str, days: list[date]) -> list[dict[str, str]]:
        _, errors = self._process.communicate(timeout=TRUTH_TIMEOUT_SECONDS)
        if self._process.returncode != 0:
            raise RuntimeError(f"computing the sandbox's truth failed: {errors.strip()[-300:]}")
        return truth.load_truth(self.path, customer, days)

    def close(self) -> None:
        """Stop the child if nobody waited for it (the groups needing it did not run)."""
        if self._process.poll() is None:
            self._process.kill()
            self._process.communicate()


@dataclass
class BusyContext:
    folder: Path
    truth: TruthJob
    peers: dict[str, PeerEnv | PeerUnavailable] = field(default_factory=dict)

    def peer(self, requirement: str) -> PeerEnv | PeerUnavailable:
        if requirement not in self.peers:
            try:
                self.peers[requirement] = peer_env(requirement)
            except PeerUnavailable as error:
                self.peers[requirement] = error
        return self.peers[requirement]

    def peer_report(self) -> dict[str, dict[str, object]]:
        """Each peer's install: where, what it cost, or why it is unavailable."""
        return {
            requirement: {"unavailable": str(env)}
            if isinstance(env, PeerUnavailable)
            else {
                "python": str(env.python),
                "install_seconds": round(env.install_seconds, 1),
                "cached": env.cached,
            }
            for requirement, env in self.peers.items()
        }


def _run_peer(
    context: BusyContext,
    module: object,
    world: busy.BusyWorld,
    limits: str,
    days: list[date],
    rows: list[dict[str, str]],
) -> PeerRun:
    name, requirement = module.NAME, module.REQUIREMENT
    env = context.peer(requirement)
    if isinstance(env, PeerUnavailable):
        return PeerRun(name, limits, reason=f"not installed: {env}")
    folder = context.folder / f"{requirement}-{limits.replace(' ', '-')}"
    try:
        return module.run(env, world, folder, limits, days, rows)  # type: ignore[attr-defined]
    except (OSError, RuntimeError, ValueError) as error:
        return PeerRun(name, limits, reason=str(error))


def square(context: BusyContext) -> list[Measure]:
    with busy.busy_world(SQUARE_LIMITS, keep_bodies=True) as world:
        days = world.square_days
        customer, _ = world.account("square")
        rows = context.truth.rows(customer, days)
        ours = our_sync(world, context.folder / "square-ours", "square", days, rows)
        decode = decode_seconds(ours.window.bodies)
        peer = _run_peer(context, tap_square, world, SQUARE_LIMITS.name, days, rows)
    return [
        *ingest_measures("square", ours, decode),
        *ours_vs_peer_speed("square", ours, peer),
        *beside_peer("square.beside_peer", ours, peer),
    ]


def shopify_limits_off(context: BusyContext) -> list[Measure]:
    with busy.busy_world(busy.LIMITS_OFF, context.folder / "ca-off.pem", keep_bodies=True) as world:
        days = world.shopify_days[-LIMITS_OFF_DAYS:]
        customer, _ = world.account("shopify")
        rows = context.truth.rows(customer, days)
        ours = our_sync(world, context.folder / "shopify-off-ours", "shopify", days, rows)
        decode = decode_seconds(ours.window.bodies)
        peer = _run_peer(context, tap_shopify, world, busy.LIMITS_OFF.name, days, rows)
    return [*ingest_measures("shopify", ours, decode), *ours_vs_peer_speed("shopify", ours, peer)]


def shopify_standard(context: BusyContext) -> list[Measure]:
    limits = busy.STANDARD_LIMITS
    with busy.busy_world(limits, context.folder / "ca-standard.pem") as world:
        days = world.shopify_days
        customer, _ = world.account("shopify")
        rows = context.truth.rows(customer, days)
        ours = our_sync(world, context.folder / "shopify-standard-ours", "shopify", days, rows)
        peer = _run_peer(context, tap_shopify, world, limits.name, days, rows)
    throttle = limits.shopify.throttle
    points = ours.window.charged_points()
    floor = max(0.0, points - throttle.maximum_available) / throttle.restore_rate
    rest_requests = -(-ours.orders // REST_PAGE)
    rest_floor = max(0, rest_requests - REST_BUCKET) / REST_LEAK_PER_SECOND
    extract = ours.seconds_by_kind()["extract"]
    throttled = ours.window.throttled / max(1, ours.window.requests)
    return [
        Measure(
            "shopify.e2e_20k.wall_over_floor",
            ours.child.seconds,
            "s",
            f"rate-limit floor: ({points:g} points - {throttle.maximum_available:g}) / "
            f"{throttle.restore_rate:g}/s",
            floor,
            goal="ratio <= 1.15",
            met=at_most(ours.child.seconds / floor if floor else None, E2E_BOUND),
            note=f"{ours.orders} orders, {len(days)} days, stores + catalog + transactions; "
            f"extract steps {extract:.1f} s",
            details={
                **sync_details(ours),
                "days": [d.isoformat() for d in days],
                "rest_equivalent": {
                    "requests": rest_requests,
                    "floor_s": rest_floor,
                    "budget": "40-request bucket, 2/s leak, 250 orders a page",
                },
            },
        ),
        Measure(
            "shopify.e2e_20k.peak_memory",
            ours.child.peak_rss_mb,
            "MB",
            "goal",
            MEMORY_BOUND_MB,
            goal="< 500 MB",
            met=ours.child.peak_rss_mb < MEMORY_BOUND_MB,
        ),
        Measure(
            "shopify.e2e_20k.throttled",
            throttled,
            "share of replies",
            goal="<= 1%",
            met=at_most(throttled, 0.01),
        ),
        Measure(
            "shopify.e2e_20k.truth_match",
            ours.match.share,
            "share",
            goal="= 1, no extra rows",
            met=ours.match.share == 1.0 and ours.match.extra == 0,
            details=ours.match.summary(),
        ),
        *beside_peer("shopify.beside_peer", ours, peer),
        Measure(
            "shopify.peer_longest_idle",
            peer.longest_idle_seconds(),
            "s",
            peer.peer,
            note="its bulk poll interval (60 s) is a fixed cost of every run",
        ),
    ]
