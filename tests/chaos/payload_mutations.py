"""Hypothesis strategies that break one thing in a valid API payload: a field missing, of the
wrong type, an unknown enum value, a huge or over-precise number, odd unicode, a timestamp
without zone. `mutated(payloads)` draws a payload, then (nine times in ten) one such change at
any depth, and says what it changed so a test can demand an error that names it.
"""

import copy
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

Path = tuple[str | int, ...]

WRONG_TYPES = st.sampled_from(
    [None, True, False, 0, 7, -3, 1.5, "", "x", [], {}, ["x"], {"amount": 1}, {"id": 1}]
)
UNKNOWN_ENUMS = st.sampled_from(["UNKNOWN", "completed", "COMPLETED ", "Paid", "TRANSFER", "🙂"])
HUGE_NUMBERS = st.sampled_from(
    [10**16, -(10**18), 2**63, 10**30, 1e308, float("nan"), float("inf"), "1e999", "9" * 40,
     "NaN", "-Infinity", "0.0000001", "1.123456789", "1e-30"]
)  # fmt: skip
ODD_TEXTS = (
    st.sampled_from(
        ["\u0000", "e\u0301", "\u202eevil", "😀", "\ud800", "Ｕ Ｓ Ｄ", "𝟏𝟐", "١٢٣", "\n\t",
         "ß" * 2000, "gid://shopify/Order/", "gid://shopify/Order/😀"]
    )
    | st.text(max_size=12)
)  # fmt: skip
ZONELESS_TIMES = st.sampled_from(
    ["2026-11-02T10:00:00", "2026-11-02", "2026-11-02 10:00", "10:00:00Z",
     "2026-11-02T10:00:00.123456789", "9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+05:00",
     "2026-02-30T10:00:00Z", "2026-11-02T25:00:00Z", "1793700000"]
)  # fmt: skip
REPLACEMENTS = {
    "wrong type": WRONG_TYPES,
    "unknown enum value": UNKNOWN_ENUMS,
    "huge number": HUGE_NUMBERS,
    "odd unicode": ODD_TEXTS,
    "timestamp without zone": ZONELESS_TIMES,
}
KINDS = ("missing", *REPLACEMENTS)


@dataclass(frozen=True)
class Mutation:
    path: Path
    kind: str
    value: Any = None

    @property
    def field(self) -> str:
        """The name of the object field the change is in or under (a list's own field name)."""
        return next(str(step) for step in reversed(self.path) if isinstance(step, str))

    def named_by(self, message: str) -> bool:
        """Whether an error message names what changed: the field, or, when an object took the
        place of another, the field of it that is missing or wrong."""
        if isinstance(self.value, dict):
            return self.field in message or bool(re.search(r"`[^`]+`", message))
        return self.field in message


def paths(tree: Any, prefix: Path = ()) -> Iterator[Path]:
    """Every field and list element under `tree`, parents before children."""
    children = tree.items() if isinstance(tree, dict) else enumerate(tree)
    for key, child in children:
        yield (*prefix, key)
        if isinstance(child, dict | list):
            yield from paths(child, (*prefix, key))


def apply(tree: Any, mutation: Mutation) -> Any:
    changed = copy.deepcopy(tree)
    parent = changed
    for step in mutation.path[:-1]:
        parent = parent[step]
    last = mutation.path[-1]
    if mutation.kind == "missing":
        del parent[last]
    else:
        parent[last] = mutation.value
    return changed


@st.composite
def mutated(
    draw: st.DrawFn, payloads: st.SearchStrategy[dict[str, Any]]
) -> tuple[dict[str, Any], Mutation | None]:
    payload = draw(payloads)
    if draw(st.integers(0, 9)) == 0:
        return payload, None
    path = draw(st.sampled_from(list(paths(payload))))
    kind = draw(st.sampled_from(KINDS))
    value = None if kind == "missing" else draw(REPLACEMENTS[kind])
    mutation = Mutation(path, kind, value)
    return apply(payload, mutation), mutation
