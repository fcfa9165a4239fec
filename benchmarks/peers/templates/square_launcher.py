"""Run the unmodified tap-square against the ShelfOps sandbox (copied next to the peer's run).

The Square SDK takes its host from `Configuration.environments`, a class attribute; the tap
offers no setting for it, so this launcher points both environments at the sandbox and then
calls the tap's own entry point.
"""

import os
import sys

import tap_square
from square.configuration import Configuration

BASE = os.environ["SQUARE_SANDBOX_BASE"]
Configuration.environments["production"] = {"default": BASE}
Configuration.environments["sandbox"] = {"default": BASE}

if __name__ == "__main__":
    sys.exit(tap_square.main())
