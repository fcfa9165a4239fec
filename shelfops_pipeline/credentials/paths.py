"""Where ShelfOps keeps its local state: `$SHELFOPS_HOME`, by default `./data`."""

import os
from pathlib import Path

HOME_ENV = "SHELFOPS_HOME"
DEFAULT_HOME = Path("data")


def shelfops_home() -> Path:
    """`$SHELFOPS_HOME`, or `./data` relative to the working directory."""
    return Path(os.environ.get(HOME_ENV) or DEFAULT_HOME)


def key_file_path(home: Path | None = None) -> Path:
    return (home or shelfops_home()) / "secrets" / "encryption.keys"


def store_path(home: Path | None = None) -> Path:
    return (home or shelfops_home()) / "credentials.sqlite"
