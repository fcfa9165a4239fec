"""The code location loads, as `workspace.yaml` and `make ui` load it."""

import dagster as dg

from shelfops_pipeline.definitions import defs


def test_the_code_location_loads() -> None:
    dg.Definitions.validate_loadable(defs)
