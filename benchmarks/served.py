"""A sandbox served from the benchmark's own process, on plain HTTP and optionally on TLS, behind
a request log: what every client (ours or a peer) asked for, when, and what it was charged.

The log is the benchmarks' one source of request counts, bytes, Shopify query costs and
THROTTLED replies, whoever the client is. It reads only the head and tail of each reply (the
cost sits in `extensions`, last in the body) unless asked to keep whole API replies, which the
decode-only floor needs.
"""

import asyncio
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shelfops_pipeline.sandbox.runner import free_loopback_port
from shelfops_pipeline.sandbox.tls import ServerCertificate, server_certificate

API_PATHS = re.compile(r"^/(square/v2/|shopify/[^/]+/admin/api/|admin/api/)")
REQUESTED = re.compile(rb'"requestedQueryCost":\s*([0-9.]+)')
ACTUAL = re.compile(rb'"actualQueryCost":\s*([0-9.]+)')
THROTTLED = b'"THROTTLED"'
RESULT_FILE = re.compile(r"/[A-Za-z0-9_-]{20,}\.jsonl$")
EDGE_BYTES = 400
STARTUP_TIMEOUT_SECONDS = 15.0


@dataclass
class Exchange:
    """One request and its reply as the sandbox saw them (monotonic seconds)."""

    started: float
    finished: float
    method: str
    path: str
    status: int
    reply_bytes: int
    requested_cost: float | None
    actual_cost: float | None
    throttled: bool
    body: bytes | None = None


@dataclass
class Window:
    """What the log holds between two marks: one client's run."""

    exchanges: list[Exchange]

    @property
    def bodies(self) -> list[bytes]:
        """Whole API replies (200s), when the log was asked to keep them."""
        return [e.body for e in self.exchanges if e.body is not None]

    @property
    def api(self) -> list[Exchange]:
        return [e for e in self.exchanges if API_PATHS.match(e.path)]

    @property
    def requests(self) -> int:
        return len(self.exchanges)

    @property
    def api_requests(self) -> int:
        return len(self.api)

    @property
    def throttled(self) -> int:
        """GraphQL THROTTLED replies and HTTP 429s."""
        return sum(1 for e in self.exchanges if e.throttled or e.status == 429)

    @property
    def reply_bytes(self) -> int:
        return sum(e.reply_bytes for e in self.exchanges)

    @property
    def server_seconds(self) -> float:
        """Time the sandbox spent answering API requests (their latencies, summed)."""
        return sum(e.finished - e.started for e in self.api)

    @property
    def serving_seconds(self) -> float:
        """Wall time during which at least one of the window's requests (API and OAuth) was
        inside the sandbox; overlapping requests count once. A bulk result file's download is
        left out: the sandbox only streams a finished file, at the pace the client reads it."""
        served = [e for e in self.exchanges if not RESULT_FILE.search(e.path)]
        total, reach = 0.0, float("-inf")
        for e in sorted(served, key=lambda e: e.started):
            if e.finished > reach:
                total += e.finished - max(e.started, reach)
                reach = e.finished
        return total

    def charged_points(self) -> float:
        """Points the bucket had to supply: every actual cost, but the last query's requested
        cost (it must be whole in the bucket before it runs)."""
        costed = [e for e in self.exchanges if e.requested_cost is not None and not e.throttled]
        if not costed:
            return 0.0
        spent = sum(e.actual_cost or 0.0 for e in costed[:-1])
        return spent + (costed[-1].requested_cost or 0.0)

    def by_path(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for e in self.exchanges:
            key = f"{e.method} {RESULT_FILE.sub('/<file>.jsonl', e.path)}"
            counts[key] = counts.get(key, 0) + 1
        return counts


@dataclass
class RequestLog:
    """ASGI middleware recording every HTTP exchange; thread-safe appends."""

    app: ASGIApp
    keep_bodies: bool = False
    _exchanges: list[Exchange] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def mark(self) -> int:
        with self._lock:
            return len(self._exchanges)

    def since(self, mark: int) -> Window:
        with self._lock:
            return Window(list(self._exchanges[mark:]))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.monotonic()
        status = 0
        size = 0
        head = b""
        tail = b""
        keep = self.keep_bodies and API_PATHS.match(scope["path"]) is not None
        chunks: list[bytes] = []

        async def recording_send(message: Message) -> None:
            nonlocal status, size, head, tail
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                body = message.get("body", b"")
                size += len(body)
                if len(head) < EDGE_BYTES:
                    head += body[: EDGE_BYTES - len(head)]
                tail = (tail + body)[-EDGE_BYTES:]
                if keep:
                    chunks.append(body)
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            requested = REQUESTED.search(tail)
            actual = ACTUAL.search(tail)
            exchange = Exchange(
                started=started,
                finished=time.monotonic(),
                method=scope["method"],
                path=scope["path"],
                status=status,
                reply_bytes=size,
                requested_cost=float(requested[1]) if requested else None,
                actual_cost=float(actual[1]) if actual else None,
                throttled=THROTTLED in head,
                body=b"".join(chunks) if keep and status == 200 else None,
            )
            with self._lock:
                self._exchanges.append(exchange)


@dataclass(frozen=True)
class Served:
    base_url: str
    tls_port: int | None
    ca_file: Path | None


@contextmanager
def serve(app: ASGIApp, ca_file: Path | None = None) -> Iterator[Served]:
    """Serve `app` on 127.0.0.1 in a thread until the block ends; with `ca_file`, also on a TLS
    port whose certificate (for `*.myshopify.com`) chains to the CA written there.

    Unlike `shelfops sandbox serve --tls-port`, this keeps the app in this process, so the
    benchmark reads its request log and world directly.
    """
    with _certificate(ca_file) as certificate:
        port = free_loopback_port()
        configs = [_config(app, port, lifespan="on")]
        tls_port = None
        if certificate is not None:
            tls_port = free_loopback_port()
            configs.append(
                _config(
                    app, tls_port, lifespan="off", ssl_certfile=str(certificate.cert),
                    ssl_keyfile=str(certificate.key),
                )
            )  # fmt: skip
        servers = [uvicorn.Server(config) for config in configs]

        async def run_all() -> None:
            await asyncio.gather(*(server.serve() for server in servers))

        thread = threading.Thread(target=asyncio.run, args=(run_all(),), daemon=True)
        thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while not all(server.started for server in servers):
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the benchmark's sandbox did not start on loopback")
            time.sleep(0.02)
        try:
            yield Served(
                f"http://127.0.0.1:{port}",
                tls_port,
                certificate.ca_cert if certificate else None,
            )
        finally:
            for server in servers:
                server.should_exit = True
            thread.join(timeout=15)


def _config(app: ASGIApp, port: int, **options: str) -> uvicorn.Config:
    return uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", access_log=False, **options
    )


@contextmanager
def _certificate(ca_file: Path | None) -> Iterator[ServerCertificate | None]:
    if ca_file is None:
        yield None
        return
    with server_certificate(ca_file) as certificate:
        yield certificate
