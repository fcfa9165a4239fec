"""What misbehaviour the sandbox is asked for: budgets, fault rates, outages, and their CLI texts."""

import functools
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

SQUARE_FAULT_PATHS: tuple[str, ...] = ("/square/v2/",)
# Shopify's Admin API under /shopify/{shop} and at the root; `*` stands for one path segment.
SHOPIFY_FAULT_PATHS: tuple[str, ...] = ("/shopify/*/admin/api/", "/admin/api/")
DEFAULT_FAULT_PATHS: tuple[str, ...] = SQUARE_FAULT_PATHS + SHOPIFY_FAULT_PATHS

ERROR_BY_STATUS: dict[int, tuple[str, str]] = {
    429: ("RATE_LIMITED", "Too many requests; retry later."),
    500: ("INTERNAL_SERVER_ERROR", "An internal error occurred; retry later."),
    502: ("BAD_GATEWAY", "The upstream server sent an invalid reply; retry later."),
    503: ("SERVICE_UNAVAILABLE", "The service is temporarily unavailable; retry later."),
    504: ("GATEWAY_TIMEOUT", "The upstream server did not reply in time; retry later."),
}


class FaultKind(StrEnum):
    """Every way a reply can go wrong; the random kinds share their name with a config field."""

    BUDGET_429 = "budget_429"
    BURST_429 = "burst_429"
    ERROR_500 = "error_500"
    ERROR_502 = "error_502"
    ERROR_503 = "error_503"
    SLOW = "slow"
    DROP = "drop"
    TRUNCATE = "truncate"
    OUTAGE = "outage"


RANDOM_KINDS: tuple[FaultKind, ...] = (
    FaultKind.ERROR_500,
    FaultKind.ERROR_502,
    FaultKind.ERROR_503,
    FaultKind.BURST_429,
    FaultKind.SLOW,
    FaultKind.DROP,
    FaultKind.TRUNCATE,
)

STATUS_BY_KIND: dict[FaultKind, int] = {
    FaultKind.ERROR_500: 500,
    FaultKind.ERROR_502: 502,
    FaultKind.ERROR_503: 503,
}


@dataclass(frozen=True)
class Outage:
    """Requests under `path_prefix` in [start, end) get `status` in the provider's error shape."""

    path_prefix: str
    start: datetime
    end: datetime
    status: int = 503

    def __post_init__(self) -> None:
        if not self.path_prefix.startswith("/"):
            raise ValueError(f"outage path {self.path_prefix!r} must start with '/'")
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("outage times must carry a UTC offset, e.g. 2026-11-05T12:00Z")
        if self.start >= self.end:
            raise ValueError(f"outage start {self.start} is not before its end {self.end}")
        if self.status not in ERROR_BY_STATUS:
            raise ValueError(f"outage status {self.status} is not one of {sorted(ERROR_BY_STATUS)}")

    def covers(self, path: str, at: datetime) -> bool:
        return path.startswith(self.path_prefix) and self.start <= at < self.end


@dataclass(frozen=True)
class FaultConfig:
    """How the sandbox misbehaves; the defaults behave perfectly.

    The random kinds are probabilities per request and at most one fires per request, so they
    must sum to at most 1. `budget_burst=None` allows one second's worth of requests at once.
    Faults touch only paths under `paths`, prefixes in which `*` matches one path segment.
    """

    budget_per_second: float | None = None
    budget_burst: int | None = None
    retry_after: bool = False
    error_500: float = 0.0
    error_502: float = 0.0
    error_503: float = 0.0
    burst_429: float = 0.0
    burst_length: int = 5
    slow: float = 0.0
    slow_seconds: float = 30.0
    drop: float = 0.0
    truncate: float = 0.0
    outages: tuple[Outage, ...] = ()
    paths: tuple[str, ...] = DEFAULT_FAULT_PATHS

    def __post_init__(self) -> None:
        for kind in RANDOM_KINDS:
            if not 0.0 <= self.probability(kind) <= 1.0:
                raise ValueError(f"{kind} rate {self.probability(kind)} is not within [0, 1]")
        total = sum(self.probability(kind) for kind in RANDOM_KINDS)
        if total > 1.0 + 1e-9:
            raise ValueError(f"fault rates add up to {total:g}; at most one fault fires, so <= 1")
        if self.budget_per_second is not None and self.budget_per_second <= 0:
            raise ValueError(f"budget of {self.budget_per_second}/s must be positive")
        if self.budget_burst is not None and self.budget_burst < 1:
            raise ValueError(f"budget burst {self.budget_burst} must be at least 1")
        if self.burst_length < 1:
            raise ValueError(f"429 burst length {self.burst_length} must be at least 1")
        if self.slow_seconds < 0:
            raise ValueError(f"slow reply delay {self.slow_seconds} s must not be negative")
        for outage in self.outages:
            if not any(self._overlaps(outage.path_prefix, path) for path in self.paths):
                raise ValueError(
                    f"outage path {outage.path_prefix!r} is outside the faultable paths {self.paths}"
                )

    @staticmethod
    def _overlaps(outage_prefix: str, path_prefix: str) -> bool:
        literal_head = path_prefix.split("*", 1)[0]
        return bool(_prefix_pattern(path_prefix).match(outage_prefix)) or literal_head.startswith(
            outage_prefix
        )

    @classmethod
    def from_cli(
        cls,
        faults: Iterable[str] = (),
        budget: str | None = None,
        outages: Iterable[str] = (),
        retry_after: bool = False,
    ) -> "FaultConfig":
        """Build from `--fault`, `--budget` and `--outage` texts; later faults override earlier."""
        pieces: dict[str, Any] = {"retry_after": retry_after}
        for text in faults:
            pieces.update(parse_fault(text))
        if budget is not None:
            pieces.update(parse_budget(budget))
        pieces["outages"] = tuple(parse_outage(text) for text in outages)
        return cls(**pieces)

    def probability(self, kind: FaultKind) -> float:
        return float(getattr(self, kind.value))

    @property
    def budget_capacity(self) -> int:
        rate = self.budget_per_second or 0.0
        return self.budget_burst or max(1, math.ceil(rate))

    def applies_to(self, path: str) -> bool:
        return any(_prefix_pattern(prefix).match(path) for prefix in self.paths)

    def outage_at(self, path: str, at: datetime) -> Outage | None:
        return next((outage for outage in self.outages if outage.covers(path, at)), None)


@functools.cache
def _prefix_pattern(prefix: str) -> re.Pattern[str]:
    """A path prefix as a regular expression, `*` matching one path segment."""
    return re.compile("^" + re.escape(prefix).replace(r"\*", "[^/]+"))


FAULT_ALIASES: dict[str, FaultKind] = {
    **{kind.value: kind for kind in RANDOM_KINDS},
    "500": FaultKind.ERROR_500,
    "502": FaultKind.ERROR_502,
    "503": FaultKind.ERROR_503,
    "429": FaultKind.BURST_429,
}
FAULT_OPTIONS: dict[tuple[FaultKind, str], str] = {
    (FaultKind.SLOW, "seconds"): "slow_seconds",
    (FaultKind.BURST_429, "length"): "burst_length",
}
FAULT_FORM = (
    "KIND=RATE with KIND one of 500, 502, 503, 429, slow, drop, truncate and RATE in [0, 1], "
    "optionally slow=RATE,seconds=S or 429=RATE,length=N"
)
BUDGET_FORM = "RATE/s or RATE/min, optionally followed by ,burst=N (e.g. 10/s,burst=20)"
OUTAGE_FORM = "PATH=START..END[,status=503] (e.g. /square/v2/orders/search=2026-11-05T12:00Z..2026-11-05T12:10Z)"
BUDGET_PATTERN = re.compile(
    r"\s*(?P<rate>\d+(?:\.\d+)?)\s*/\s*(?P<unit>s|min)\s*(?:,\s*burst\s*=\s*(?P<burst>\d+)\s*)?"
)


def parse_fault(text: str) -> dict[str, float | int]:
    """`503=0.02`, `slow=0.01,seconds=45`, `429=0.01,length=8` -> FaultConfig field values."""
    head, *options = text.split(",")
    name, _, rate_text = head.partition("=")
    kind = FAULT_ALIASES.get(name.strip().lower())
    if kind is None:
        raise ValueError(f"fault {text!r} names no known fault; expected {FAULT_FORM}")
    rate = _number(rate_text, f"fault {text!r}", FAULT_FORM)
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"fault {text!r} has a rate outside [0, 1]; expected {FAULT_FORM}")
    pieces: dict[str, float | int] = {kind.value: rate}
    for option in options:
        key, _, value = option.partition("=")
        field_name = FAULT_OPTIONS.get((kind, key.strip().lower()))
        if field_name is None:
            raise ValueError(
                f"fault {text!r} has an unknown option {option!r}; expected {FAULT_FORM}"
            )
        number = _number(value, f"fault {text!r}", FAULT_FORM)
        if field_name == "burst_length" and not number.is_integer():
            raise ValueError(f"fault {text!r} has a fractional length; expected {FAULT_FORM}")
        pieces[field_name] = int(number) if field_name == "burst_length" else number
    return pieces


def parse_budget(text: str) -> dict[str, float | int]:
    """`10/s,burst=20` -> {"budget_per_second": 10.0, "budget_burst": 20}."""
    match = BUDGET_PATTERN.fullmatch(text)
    if match is None or float(match["rate"]) <= 0:
        raise ValueError(f"budget {text!r} is not understood; expected {BUDGET_FORM}")
    per_second = float(match["rate"]) / (60.0 if match["unit"] == "min" else 1.0)
    pieces: dict[str, float | int] = {"budget_per_second": per_second}
    if match["burst"] is not None:
        if int(match["burst"]) < 1:
            raise ValueError(f"budget {text!r} has a burst below 1; expected {BUDGET_FORM}")
        pieces["budget_burst"] = int(match["burst"])
    return pieces


def parse_outage(text: str) -> Outage:
    """`/square/v2/orders/search=2026-11-05T12:00Z..2026-11-05T12:10Z[,status=503]` -> Outage."""
    path, _, rest = text.partition("=")
    window, _, option = rest.partition(",")
    start_text, dots, end_text = window.partition("..")
    if not path.strip() or not dots:
        raise ValueError(f"outage {text!r} is not understood; expected {OUTAGE_FORM}")
    status = 503
    if option:
        key, _, value = option.partition("=")
        if key.strip().lower() != "status" or not value.strip().isdigit():
            raise ValueError(
                f"outage {text!r} has an unknown option {option!r}; expected {OUTAGE_FORM}"
            )
        status = int(value)
    try:
        start = datetime.fromisoformat(start_text.strip())
        end = datetime.fromisoformat(end_text.strip())
        return Outage(path.strip(), start, end, status)
    except ValueError as error:
        raise ValueError(f"outage {text!r}: {error}; expected {OUTAGE_FORM}") from error


def _number(text: str, what: str, form: str) -> float:
    try:
        number = float(text)
    except ValueError:
        raise ValueError(
            f"{what} has {text.strip()!r} where a number belongs; expected {form}"
        ) from None
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"{what} has {text.strip()!r}, not a finite number >= 0; expected {form}")
    return number
