"""The `shelfops` command: thin assembly of the subcommands; none of them computes here."""

import click

from shelfops_pipeline.credentials.cli import connect, connections, keys
from shelfops_pipeline.demo import demo
from shelfops_pipeline.sandbox.cli import sandbox


@click.group()
@click.version_option(package_name="shelfops-pipeline")
def cli() -> None:
    """ShelfOps: retail catalogs, inventory and sales from Square and Shopify into DuckDB."""


cli.add_command(sandbox)
cli.add_command(demo)
cli.add_command(connect)
cli.add_command(connections)
cli.add_command(keys)


def main() -> None:
    cli(prog_name="shelfops")
