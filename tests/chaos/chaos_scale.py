"""How hard the reliability suites push: a short form in `make test`, the full one in `make chaos`.

`SHELFOPS_CHAOS=full` (what `make chaos` sets) selects the full form: more days, more crashes,
more examples, longer load. Unset, or `short`, selects the short form CI runs on every change.
"""

import os
from typing import TypeVar

CHAOS_ENV = "SHELFOPS_CHAOS"
FORMS = ("short", "full")

T = TypeVar("T")

_form = os.environ.get(CHAOS_ENV, "short").strip().lower() or "short"
if _form not in FORMS:
    raise ValueError(f"{CHAOS_ENV}={_form!r} is not one of {', '.join(FORMS)}; unset it for short")

FULL = _form == "full"


def scaled(short: T, full: T) -> T:
    """`full` under `make chaos`, `short` otherwise."""
    return full if FULL else short
