"""Rate budgets and fault injection: make the sandbox misbehave the way real APIs do.

`FaultInjector` is a pure-ASGI middleware (it must be able to drop connections and cut bodies,
which `BaseHTTPMiddleware` cannot). Every decision is repeatable: the n-th request of a given
(identity, path) draws from a stream keyed by (seed, identity, path), so the same seed and the
same requests give the same faults. Only the request budget uses real (monotonic) time.
"""

import hashlib
import json
import logging
import math
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

import anyio
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shelfops_pipeline.sandbox.square.errors import error_body

logger = logging.getLogger(__name__)

SQUARE_FAULT_PATHS: tuple[str, ...] = ("/square/v2/",)

ERROR_BY_STATUS: dict[int, tuple[str, str]] = {
    429: ("RATE_LIMITED", "Too many requests; retry later."),
    500: ("INTERNAL_SERVER_ERROR", "An internal error occurred; retry later."),
    502: ("BAD_GATEWAY", "The upstream server sent an invalid reply; retry later."),
    503: ("SERVICE_UNAVAILABLE", "The service is temporarily unavailable; retry later."),
    504: ("GATEWAY_TIMEOUT", "The upstream server did not reply in time; retry later."),
}

ErrorRenderer = Callable[[str, int, str, str], tuple[bytes, dict[str, str]]]
"""(path, status, code, detail) -> (body, headers): one provider's error reply."""


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
    Faults touch only paths under `paths`; add e.g. "/shopify/" there to cover another provider.
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
    paths: tuple[str, ...] = SQUARE_FAULT_PATHS

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
        return outage_prefix.startswith(path_prefix) or path_prefix.startswith(outage_prefix)

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
        return path.startswith(self.paths)

    def outage_at(self, path: str, at: datetime) -> Outage | None:
        return next((outage for outage in self.outages if outage.covers(path, at)), None)


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


def render_square_error(
    path: str, status: int, code: str, detail: str
) -> tuple[bytes, dict[str, str]]:
    """Square's `{"errors": [{"category", "code", "detail"}]}` reply body and headers."""
    body = json.dumps(error_body(code, detail)).encode()
    return body, {"content-type": "application/json"}


@dataclass(frozen=True)
class FaultEntry:
    """One injected fault, as recorded in the fault log."""

    kind: FaultKind
    method: str
    path: str
    identity: str
    at: datetime


class FaultLog:
    """Counts of injected faults by kind plus the most recent entries; safe across threads."""

    def __init__(self, recent_limit: int = 200) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[FaultKind] = Counter()
        self._recent: deque[FaultEntry] = deque(maxlen=recent_limit)
        self._requests_seen = 0

    def record_request(self) -> None:
        with self._lock:
            self._requests_seen += 1

    def record_fault(self, entry: FaultEntry) -> None:
        logger.warning(
            "sandbox fault %s: %s %s for %s", entry.kind, entry.method, entry.path, entry.identity
        )
        with self._lock:
            self._counts[entry.kind] += 1
            self._recent.append(entry)

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = self.snapshot()["counts"]
        return counts

    def snapshot(self) -> dict[str, Any]:
        """What `GET /_sandbox/faults` returns: counts by kind, requests seen, recent entries."""
        with self._lock:
            counts = {kind.value: self._counts[kind] for kind in FaultKind}
            recent = list(self._recent)
            requests_seen = self._requests_seen
        return {
            "counts": counts,
            "total_faults": sum(counts.values()),
            "requests_seen": requests_seen,
            "recent": [
                {
                    "kind": entry.kind.value,
                    "method": entry.method,
                    "path": entry.path,
                    "identity": entry.identity,
                    "at": entry.at.isoformat(),
                }
                for entry in recent
            ],
        }

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()
            self._recent.clear()
            self._requests_seen = 0


def fault_log_routes(log: FaultLog) -> list[Route]:
    """`GET /_sandbox/faults` (the log's snapshot) and `POST /_sandbox/faults/reset`."""

    async def show(request: Request) -> JSONResponse:
        return JSONResponse(log.snapshot())

    async def reset(request: Request) -> JSONResponse:
        log.reset()
        return JSONResponse(log.snapshot())

    return [
        Route("/_sandbox/faults", show, methods=["GET"]),
        Route("/_sandbox/faults/reset", reset, methods=["POST"]),
    ]


class TokenBucket:
    """Allows `capacity` requests at once, refilled at `rate` per second of monotonic time."""

    # Hand-written: none of our dependencies ships a rate limiter, and this is a dozen lines.
    def __init__(self, rate: float, capacity: int, clock: Callable[[], float] = time.monotonic):
        self._rate = rate
        self._capacity = float(capacity)
        self._clock = clock
        self._tokens = float(capacity)
        self._updated = clock()

    def take(self) -> float:
        """Take one token; returns 0 on success, else the seconds until one is available."""
        now = self._clock()
        self._tokens = min(self._capacity, self._tokens + (now - self._updated) * self._rate)
        self._updated = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return 0.0
        return (1.0 - self._tokens) / self._rate


def fault_draw(seed: int, identity: str, path: str, number: int) -> float:
    """The uniform [0, 1) draw for the `number`-th request of (identity, path) under `seed`."""
    # A counter-keyed hash instead of one random.Random per key: a few bytes of state per key.
    material = f"{seed}\x00{identity}\x00{path}\x00{number}".encode()
    digest = hashlib.blake2b(material, digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def identity_from_authorization(scope: Scope) -> str:
    """A stable stand-in identity: a short hash of the Authorization header, never the token."""
    authorization = Headers(scope=scope).get("authorization")
    if not authorization:
        return "anonymous"
    return "auth-" + hashlib.sha256(authorization.encode("latin-1")).hexdigest()[:12]


@dataclass
class BufferedReply:
    """An inner app's whole reply, held back so it can be delayed, cut or dropped."""

    status: int = 500
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytearray = field(default_factory=bytearray)

    def headers_with_length(self, length: int) -> list[tuple[bytes, bytes]]:
        kept = [
            (k, v)
            for k, v in self.headers
            if k.lower() not in (b"content-length", b"transfer-encoding")
        ]
        return [*kept, (b"content-length", str(length).encode())]


class FaultInjector:
    """ASGI middleware that applies `config`'s budget, outages and random faults to `app`.

    Precedence per request: budget 429, then an ongoing 429 burst, then an outage, then the
    random draw (which is taken for every request so the n-th draw never shifts).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        config: FaultConfig,
        seed: int,
        log: FaultLog,
        now: Callable[[], datetime],
        identify: Callable[[Scope], str | None] | None = None,
        render_error: ErrorRenderer = render_square_error,
    ) -> None:
        self.app = app
        self.config = config
        self.seed = seed
        self.log = log
        self.now = now
        self.identify = identify
        self.render_error = render_error
        # State lives on the server's single event loop and is never touched across an await.
        self._buckets: dict[str, TokenBucket] = {}
        self._burst_left: dict[str, int] = {}
        self._requests_by_key: Counter[tuple[str, str]] = Counter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.config.applies_to(scope["path"]):
            await self.app(scope, receive, send)
            return
        self.log.record_request()
        identity = self._identity(scope)
        path = scope["path"]
        number = self._requests_by_key[identity, path]
        self._requests_by_key[identity, path] += 1
        draw = fault_draw(self.seed, identity, path, number)

        wait = self._budget_wait(identity)
        if wait > 0:
            self._record(FaultKind.BUDGET_429, scope, identity)
            await self._send_error(send, path, 429, retry_after=wait)
            return
        if self._burst_left.get(identity, 0) > 0:
            self._burst_left[identity] -= 1
            self._record(FaultKind.BURST_429, scope, identity)
            await self._send_error(send, path, 429, retry_after=1.0)
            return
        at = self.now()
        outage = self.config.outage_at(path, at)
        if outage is not None:
            self._record(FaultKind.OUTAGE, scope, identity)
            seconds_left = (outage.end - at).total_seconds()
            await self._send_error(send, path, outage.status, retry_after=seconds_left)
            return
        kind = self._random_kind(draw)
        if kind is None:
            await self.app(scope, receive, send)
            return
        self._record(kind, scope, identity)
        await self._inject(kind, scope, receive, send, identity)

    def _identity(self, scope: Scope) -> str:
        known = self.identify(scope) if self.identify else None
        return known or identity_from_authorization(scope)

    def _budget_wait(self, identity: str) -> float:
        if self.config.budget_per_second is None:
            return 0.0
        bucket = self._buckets.get(identity)
        if bucket is None:
            bucket = TokenBucket(self.config.budget_per_second, self.config.budget_capacity)
            self._buckets[identity] = bucket
        return bucket.take()

    def _random_kind(self, draw: float) -> FaultKind | None:
        threshold = 0.0
        for kind in RANDOM_KINDS:
            threshold += self.config.probability(kind)
            if draw < threshold:
                return kind
        return None

    def _record(self, kind: FaultKind, scope: Scope, identity: str) -> None:
        entry = FaultEntry(kind, scope["method"], scope["path"], identity, self.now())
        self.log.record_fault(entry)

    async def _inject(
        self, kind: FaultKind, scope: Scope, receive: Receive, send: Send, identity: str
    ) -> None:
        path = scope["path"]
        if kind in STATUS_BY_KIND:
            await self._send_error(send, path, STATUS_BY_KIND[kind])
        elif kind is FaultKind.BURST_429:
            self._burst_left[identity] = self.config.burst_length - 1
            await self._send_error(send, path, 429, retry_after=1.0)
        elif kind is FaultKind.SLOW:
            reply = await self._buffer(scope, receive)
            if await self._still_connected_after(receive, self.config.slow_seconds):
                await _send_reply(
                    send,
                    reply.status,
                    reply.headers_with_length(len(reply.body)),
                    bytes(reply.body),
                )
        elif kind is FaultKind.DROP:
            reply = await self._buffer(scope, receive)
            await _send_half_then_hang_up(send, reply)
        elif kind is FaultKind.TRUNCATE:
            reply = await self._buffer(scope, receive)
            cut = bytes(reply.body[: len(reply.body.rstrip()) // 2])
            await _send_reply(send, reply.status, reply.headers_with_length(len(cut)), cut)

    async def _buffer(self, scope: Scope, receive: Receive) -> BufferedReply:
        reply = BufferedReply()

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                reply.status = message["status"]
                reply.headers = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                reply.body.extend(message.get("body", b""))

        await self.app(scope, receive, capture)
        return reply

    @staticmethod
    async def _still_connected_after(receive: Receive, seconds: float) -> bool:
        """Wait `seconds`, stopping early (False) if the client hangs up meanwhile."""
        with anyio.move_on_after(seconds):
            while (await receive())["type"] != "http.disconnect":
                continue
            return False
        return True

    async def _send_error(
        self, send: Send, path: str, status: int, retry_after: float | None = None
    ) -> None:
        code, detail = ERROR_BY_STATUS[status]
        body, headers = self.render_error(path, status, code, detail)
        raw_headers = [
            (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()
        ]
        raw_headers.append((b"content-length", str(len(body)).encode()))
        if self.config.retry_after and retry_after is not None:
            raw_headers.append((b"retry-after", str(max(1, math.ceil(retry_after))).encode()))
        await _send_reply(send, status, raw_headers, body)


async def _send_reply(
    send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes
) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def _send_half_then_hang_up(send: Send, reply: BufferedReply) -> None:
    """Promise the whole body, send half, and return unfinished so the server drops the line."""
    declared = max(1, len(reply.body))
    headers = reply.headers_with_length(declared)
    await send({"type": "http.response.start", "status": reply.status, "headers": headers})
    partial = bytes(reply.body[: len(reply.body) // 2])
    await send({"type": "http.response.body", "body": partial, "more_body": True})
