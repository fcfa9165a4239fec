"""The `shelfops` command: thin assembly of the subcommands; none of them computes here."""

import importlib
import warnings
from collections.abc import Mapping
from typing import Any

import click

from shelfops_pipeline.cli_types import check_home_variable
from shelfops_pipeline.credentials.cli import connect, connections, keys
from shelfops_pipeline.sandbox.cli import sandbox
from shelfops_pipeline.webhooks.cli import webhooks
from shelfops_pipeline.webhooks.connection_cli import remove, subscribe

# Commands that load the Dagster code location, imported only when run (or listed by --help):
# that import takes seconds, which `shelfops sandbox serve` and `connect` should not pay.
DAGSTER_COMMANDS = {
    "demo": "shelfops_pipeline.demo.command:demo",
    "ui": "shelfops_pipeline.demo.ui:ui",
    "sync": "shelfops_pipeline.warehouse.cli:sync",
    "query": "shelfops_pipeline.warehouse.cli:query",
}


class LazyGroup(click.Group):
    """A click group whose listed subcommands are imported on first use (click's documented
    lazy-loading recipe)."""

    def __init__(self, *args: Any, lazy: Mapping[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.lazy])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.lazy:
            return super().get_command(ctx, cmd_name)
        module, attribute = self.lazy[cmd_name].split(":")
        command: click.Command = getattr(importlib.import_module(module), attribute)
        return command


@click.group(cls=LazyGroup, lazy=DAGSTER_COMMANDS)
@click.version_option(package_name="shelfops-pipeline")
def cli() -> None:
    """ShelfOps: retail catalogs, inventory and sales from Square and Shopify into DuckDB."""
    check_home_variable()


cli.add_command(sandbox)
cli.add_command(connect)
cli.add_command(connections)
cli.add_command(keys)
cli.add_command(webhooks)
connections.add_command(remove)
webhooks.add_command(subscribe)


def main() -> None:
    # Dagster flags the beta and preview APIs the code location uses on every load; operators
    # cannot act on that, so the command line keeps quiet about it (tests still see them).
    warnings.filterwarnings("ignore", message=r".* is currently in (beta|preview)")
    cli(prog_name="shelfops")
