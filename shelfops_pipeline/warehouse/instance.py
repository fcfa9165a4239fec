"""The Dagster instance the `shelfops` commands record their runs in, the one the UI reads:
`$DAGSTER_HOME`, by default `$SHELFOPS_HOME/dagster` (where `make demo` and `make ui` put it)."""

import os
from pathlib import Path

import dagster as dg

from shelfops_pipeline.credentials.paths import shelfops_home

DAGSTER_HOME_ENV = "DAGSTER_HOME"


def dagster_home() -> Path:
    configured = os.environ.get(DAGSTER_HOME_ENV)
    return Path(configured) if configured else shelfops_home() / "dagster"


def local_instance() -> dg.DagsterInstance:
    """The instance at `dagster_home()`, created when missing.

    Dagster reads the folder from the DAGSTER_HOME variable (and `dagster.yaml` may refer to it),
    so it is set for this process when it was not.
    """
    home = dagster_home().resolve()
    home.mkdir(parents=True, exist_ok=True)
    os.environ[DAGSTER_HOME_ENV] = str(home)
    return dg.DagsterInstance.get()
