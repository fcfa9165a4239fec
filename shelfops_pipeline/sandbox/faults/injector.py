"""The fault-injecting middleware: budgets, bursts, outages and random faults per request.

`FaultInjector` is a pure-ASGI middleware (it must be able to drop connections and cut bodies,
which `BaseHTTPMiddleware` cannot). Every decision is repeatable: the n-th request of a given
(identity, path) draws from a stream keyed by (seed, identity, path), so the same seed and the
same requests give the same faults. Only the request budget uses real (monotonic) time.
"""

import hashlib
import json
import logging
import math
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import anyio
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shelfops_pipeline.sandbox.faults.config import (
    ERROR_BY_STATUS,
    RANDOM_KINDS,
    STATUS_BY_KIND,
    FaultConfig,
    FaultKind,
)
from shelfops_pipeline.sandbox.faults.log import FaultEntry, FaultLog
from shelfops_pipeline.sandbox.square.errors import error_body

logger = logging.getLogger(__name__)


ErrorRenderer = Callable[[str, int, str, str, float | None], tuple[bytes, dict[str, str]]]
"""(path, status, code, detail, seconds to retry after or None) -> (body, headers): one
provider's error reply, Retry-After written the provider's way."""


def render_square_error(
    path: str, status: int, code: str, detail: str, retry_after: float | None = None
) -> tuple[bytes, dict[str, str]]:
    """Square's `{"errors": [{"category", "code", "detail"}]}` reply, whole-second Retry-After."""
    body = json.dumps(error_body(code, detail)).encode()
    headers = {"content-type": "application/json"}
    if retry_after is not None:
        headers["retry-after"] = str(max(1, math.ceil(retry_after)))
    return body, headers


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
        wait = retry_after if self.config.retry_after else None
        body, headers = self.render_error(path, status, code, detail, wait)
        raw_headers = [
            (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()
        ]
        raw_headers.append((b"content-length", str(len(body)).encode()))
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
