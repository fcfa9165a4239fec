"""The Dagster UI in a real browser, after `shelfops demo`: Debian's Chromium (headless, driven by
Playwright) shows the lineage from Square's and Shopify's source assets into the unified tables,
and the transactions asset's partitions that the demo materialized.

Setup installs Chromium from Debian's packages when /usr/bin/chromium is missing
(scripts/install-chromium.sh); Playwright drives that binary and never downloads a browser. In CI
(`CI` set) a failed install fails the tests; elsewhere they skip and say why. Screenshots go to each
test's tmp_path and are copied to .pytest-artifacts/ui/.
"""

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from lineage_graph import (
    EXPECTED_NODES,
    SOURCES,
    UNIFIED_TABLE_OF,
    asset_key,
    edge_ends,
    read_graph,
)
from playwright.sync_api import BrowserContext, Page, Request, Route, sync_playwright
from service_helpers import BIN, REPO, service, wait_until_answering

from shelfops_pipeline.http.urls import is_loopback
from shelfops_pipeline.sandbox.runner import free_loopback_port

# Demo ~30 s, webserver ~8 s, browser ~15 s; a first Chromium install adds ~30 s.
pytestmark = pytest.mark.timeout(240)

CHROMIUM = Path("/usr/bin/chromium")
INSTALL_SCRIPT = REPO / "scripts" / "install-chromium.sh"
ARTIFACTS = REPO / ".pytest-artifacts" / "ui"
# No first-run UI, no background or component traffic: the browser talks to the webserver only.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1600, "height": 1400}
READY_SECONDS = 60.0
STOP_SECONDS = 15.0
ACTION_TIMEOUT_MS = 30_000
MAX_ZOOM_STEPS = 10


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's Chromium, installed by the project script when missing."""
    if not CHROMIUM.exists():
        done = subprocess.run(
            [str(INSTALL_SCRIPT)], capture_output=True, text=True, timeout=600, check=False
        )
        if done.returncode != 0 or not CHROMIUM.exists():
            lines = (done.stderr or done.stdout).strip().splitlines()
            reason = f"Chromium could not be installed: {lines[-1] if lines else done.returncode}"
            if os.environ.get("CI"):
                pytest.fail(f"{reason} (in CI the browser test must run)")
            pytest.skip(f"{reason}; run scripts/install-chromium.sh as root")
    return CHROMIUM


@dataclass
class DemoUi:
    base_url: str
    dagster_home: Path
    transactions_partitions: int


def _env(home: Path) -> dict[str, str]:
    private = ("SHELFOPS_ENCRYPTION_KEYS", "SHELFOPS_ALERT_WEBHOOK_URL", "DAGSTER_HOME")
    return {
        **{name: value for name, value in os.environ.items() if name not in private},
        "SHELFOPS_HOME": str(home),
        "DAGSTER_HOME": str(home / "dagster"),
        "DAGSTER_DISABLE_TELEMETRY": "1",
    }


def _run_demo(home: Path, env: dict[str, str]) -> int:
    """`make demo` into `home`; the number of transactions partitions it materialized."""
    dagster_home = home / "dagster"
    (dagster_home / ".nux").mkdir(parents=True)
    shutil.copy(REPO / "dagster.yaml", dagster_home / "dagster.yaml")  # telemetry off
    (dagster_home / ".nux" / "nux.yaml").write_text("seen: 1\n")  # no community modal
    for command in (["keys", "init"], ["demo"]):
        done = subprocess.run(
            [str(BIN / "shelfops"), *command],
            cwd=REPO, env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    ran = re.search(r"transactions_job\s+(\d+) of (\d+) partition runs ok", done.stdout)
    assert ran and ran.group(1) == ran.group(2), done.stdout
    return int(ran.group(1))


@pytest.fixture(scope="module")
def demo_ui(chromium: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoUi]:
    """The demo's warehouse and runs, and `dagster-webserver` over them on a loopback port."""
    home = tmp_path_factory.mktemp("ui_home")
    env = _env(home)
    partitions = _run_demo(home, env)
    port = free_loopback_port()
    command = ["dagster-webserver", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)]
    log = home / "webserver.log"
    base_url = f"http://127.0.0.1:{port}"
    with (
        service(command, env, log, stop_timeout=STOP_SECONDS) as process,
        httpx.Client(base_url=base_url, timeout=10, trust_env=False) as client,
    ):
        wait_until_answering(client, process, log, READY_SECONDS)
        yield DemoUi(base_url, home / "dagster", partitions)


@dataclass
class Browser:
    context: BrowserContext
    outside: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def browser(chromium: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    """Headless Chromium with a fresh profile; any request beyond loopback is refused and noted."""
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium_profile")),
            executable_path=str(chromium),
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport=VIEWPORT,
        )
        opened = Browser(context)

        def loopback_only(route: Route, request: Request) -> None:
            if request.url.startswith(("data:", "blob:")) or is_loopback(
                httpx.URL(request.url).host
            ):
                route.continue_()
            else:
                opened.outside.append(request.url)
                route.abort()

        context.route("**/*", loopback_only)
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        try:
            yield opened
        finally:
            context.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    opened = browser.context.new_page()
    try:
        yield opened
    finally:
        opened.close()
    assert browser.outside == [], "the UI asked for hosts beyond loopback"


def save_screenshot(page: Page, tmp_path: Path, name: str) -> Path:
    shot = tmp_path / f"{name}.png"
    page.screenshot(path=str(shot))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, ARTIFACTS / shot.name)
    return shot


def test_the_lineage_draws_square_and_shopify_sources_into_the_unified_tables(
    demo_ui: DemoUi, page: Page, tmp_path: Path
) -> None:
    page.goto(f"{demo_ui.base_url}/asset-groups")
    page.locator("svg foreignObject.group").first.wait_for()
    # The global lineage opens with each group collapsed; the graph's own menu expands them.
    page.locator('button:has([aria-label="settings"])').last.click()
    page.get_by_role("menuitem", name="Expand all groups").click()
    page.keyboard.press("Escape")
    # Zoom out until the whole graph is on screen (the graph only draws the nodes in view).
    zoom_out = page.locator('button:has([aria-label="zoom_out"])')
    for step in range(MAX_ZOOM_STEPS + 1):
        page.wait_for_timeout(400)  # the zoom animates
        groups, assets, edges = read_graph(page)
        on_screen = all(box.in_view for box in [*groups, *assets])
        if (len(assets) == len(EXPECTED_NODES) and on_screen) or step == MAX_ZOOM_STEPS:
            break
        zoom_out.click()
    shot = save_screenshot(page, tmp_path, "lineage")

    assert sorted(g.name for g in groups) == ["shopify", "square", "warehouse"], shot
    drawn = {asset_key(groups, box): box for box in assets}
    assert set(drawn) == EXPECTED_NODES, f"nodes drawn: {sorted(drawn)}; see {shot}"
    assert on_screen, f"part of the graph is off screen: {shot}"
    ends = [edge_ends(path, drawn) for path in edges]
    assert None not in ends, f"an edge drawn between no two asset nodes; see {shot}"
    links = {pair for pair in ends if pair}
    into_tables = {
        (f"{source}/{name}", table)
        for source in SOURCES
        for name, table in UNIFIED_TABLE_OF.items()
    }
    assert into_tables <= links, f"edges missing: {sorted(into_tables - links)}; see {shot}"


def test_the_transactions_asset_shows_the_demos_partitions_materialized(
    demo_ui: DemoUi, page: Page, tmp_path: Path
) -> None:
    page.goto(f"{demo_ui.base_url}/assets/transactions?view=partitions")
    materialized = page.get_by_text(re.compile(r"^Materialized \(\d+\)$"))
    materialized.wait_for()
    shot = save_screenshot(page, tmp_path, "transactions_partitions")
    assert materialized.inner_text() == f"Materialized ({demo_ui.transactions_partitions})", shot
    assert page.get_by_text("Failed (0)", exact=True).is_visible(), shot
    for customer in ("cust-001", "cust-002", "cust-003"):
        assert page.get_by_title(customer, exact=True).is_visible(), shot


def test_the_webserver_kept_telemetry_off(demo_ui: DemoUi) -> None:
    """With telemetry disabled Dagster writes no event log to upload (`$DAGSTER_HOME/logs`)."""
    assert (demo_ui.dagster_home / "dagster.yaml").read_text().count("enabled: false") == 1
    assert not (demo_ui.dagster_home / "logs").exists()
    assert not (demo_ui.dagster_home / ".logs_queue").exists()
