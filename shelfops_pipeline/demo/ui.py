"""`shelfops ui` (`make ui`): the Dagster UI on loopback, against a running demo sandbox that
posts live webhooks to a receiver served beside it.

The sandbox issues OAuth tokens in memory, so the demo merchants and shops are connected again
to the one served here; every run launched from the UI (and every schedule and sensor tick of the
daemon `dagster dev` starts) then reaches it. The UI stops when this command does, and the sandbox
with it.
"""

import os
import signal
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path
from types import FrameType

import click

from shelfops_pipeline.credentials.errors import CredentialError
from shelfops_pipeline.credentials.keys import load_keys
from shelfops_pipeline.credentials.store import CredentialStore
from shelfops_pipeline.demo.live import (
    LIVE_INTERVAL_SECONDS,
    SHOPIFY_FEED,
    SQUARE_FEED,
    live_webhooks,
)
from shelfops_pipeline.demo.merchants import connect_merchants, serve_demo_sandbox
from shelfops_pipeline.warehouse.instance import DAGSTER_HOME_ENV, dagster_home
from shelfops_pipeline.webhooks.settings import DEFAULT_PORT as DEFAULT_WEBHOOKS_PORT

STOP_TIMEOUT_SECONDS = 30.0


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to `dagster dev` (it then stops its webserver, daemon and code server)."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _terminate_as_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def catch_stop_signals() -> None:
    """Handle SIGINT and SIGTERM here, so `dagster dev` starts with both at their defaults.

    A shell that starts a command in the background makes it ignore SIGINT; a child inherits an
    ignored signal, and Dagster copies SIGINT's disposition onto SIGTERM, so it could not be
    stopped. A handled signal is reset to the default in the child instead.
    """
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _terminate_as_interrupt)


def dagster_dev_command(workspace: Path, port: int) -> list[str]:
    dagster = Path(sys.executable).parent / "dagster"
    return [str(dagster), "dev", "-w", str(workspace), "-h", "127.0.0.1", "-p", str(port)]


@click.command()
@click.option("--port", type=click.IntRange(1, 65535), default=3070, show_default=True)
@click.option(
    "--sandbox-port", type=click.IntRange(0, 65535), default=8750, show_default=True,
    help="Where the sandbox serves; 0 picks a free port.",
)  # fmt: skip
@click.option(
    "--workspace",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=Path("workspace.yaml"),
    show_default=True,
)
@click.option(
    "--webhooks-port", type=click.IntRange(1, 65535), default=DEFAULT_WEBHOOKS_PORT,
    show_default=True, help="Where the webhook receiver serves the sandbox's live events.",
)  # fmt: skip
def ui(port: int, sandbox_port: int, workspace: Path, webhooks_port: int) -> None:
    """Serve the demo sandbox, its live webhooks and the Dagster UI on 127.0.0.1 until Ctrl-C."""
    try:
        store = CredentialStore(keys=load_keys())
    except CredentialError as error:
        raise click.ClickException(f"{error}; run `make demo` first") from None
    home = dagster_home().resolve()
    home.mkdir(parents=True, exist_ok=True)
    catch_stop_signals()
    try:
        with ExitStack() as stack:
            try:
                sandbox = stack.enter_context(
                    serve_demo_sandbox(sandbox_port, (SQUARE_FEED, SHOPIFY_FEED))
                )
                connections = connect_merchants(sandbox, store)
                subscribed = stack.enter_context(
                    live_webhooks(sandbox, store, webhooks_port, connections)
                )
            except RuntimeError as error:
                raise click.ClickException(
                    f"{error} (is `make sandbox` or another `make ui` running? set SANDBOX_PORT "
                    "or --webhooks-port)"
                ) from None
            click.echo(
                f"sandbox serving at {sandbox.square_url}; demo merchants and shops connected"
            )
            for subscription in subscribed:
                click.echo(subscription.describe())
            click.echo(
                f"every {LIVE_INTERVAL_SECONDS:g} s the sandbox posts what happened (a sale every "
                "few minutes in this quiet world) and webhook_events_sensor applies it to "
                "transactions"
            )
            env = {**os.environ, **sandbox.env(), DAGSTER_HOME_ENV: str(home)}
            # Started in the instance folder: from the repository root, Dagster would warn that
            # the template dagster.yaml there is not the one in DAGSTER_HOME.
            process = subprocess.Popen(
                dagster_dev_command(workspace.resolve(), port),
                env=env,
                cwd=home,
                start_new_session=True,
            )
            click.echo(f"Dagster UI at http://127.0.0.1:{port} (instance {home}); Ctrl-C stops")
            try:
                process.wait()
            finally:
                _stop(process)
    except KeyboardInterrupt:
        click.echo("stopped")
