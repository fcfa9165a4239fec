"""`ApiClient`: the one way every provider client talks HTTP.

One pooled `httpx.AsyncClient` per (source, account) with a timeout per kind of call, and per
attempt: the circuit breaker admits it, the rate limiter paces it, fresh auth headers are fetched,
the reply is classified into our error hierarchy, and one DEBUG line records it (method, path
with secrets redacted, status, duration, attempt, limiter wait). The retry policy around it
decides what is tried again.
"""

import functools
import logging
import ssl
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal, Self, TypeVar

import httpx

from shelfops_pipeline.http.breaker import CircuitBreaker
from shelfops_pipeline.http.errors import ApiError, CircuitOpen, PayloadInvalid, RateLimited
from shelfops_pipeline.http.limiter import LimiterConfig, TokenBucket
from shelfops_pipeline.http.replies import Verdict, exchange_verdict, reply_verdict
from shelfops_pipeline.http.retry import RefreshAuth, RetryPolicy
from shelfops_pipeline.http.stats import CallStats
from shelfops_pipeline.http.urls import (
    RedactUrlArguments,
    check_base_url,
    redacted_target,
)

logger = logging.getLogger(__name__)

CallKind = Literal["read", "write", "bulk"]
AuthHeaders = Callable[[], Awaitable[Mapping[str, str]]]
ResponseHook = Callable[[httpx.Response], None]
E = TypeVar("E", bound=ApiError)

USER_AGENT = "shelfops-pipeline"
REDACT_HTTPX_URLS = RedactUrlArguments()
# httpx logs every request's full URL at INFO; keep secret query values out of that line too.
logging.getLogger("httpx").addFilter(REDACT_HTTPX_URLS)


@functools.cache
def _verified_tls() -> ssl.SSLContext:
    """httpx's default certificate-verifying context, built once per process: loading the CA
    bundle takes about 25 ms, which every client (one per partition run) would pay again."""
    return httpx.create_ssl_context()


@dataclass(frozen=True)
class Timeouts:
    """Seconds to wait for each reply, by kind of call; `connect` applies to every kind."""

    connect: float = 10.0
    read: float = 30.0
    write: float = 60.0
    bulk: float = 300.0

    def for_kind(self, kind: CallKind) -> httpx.Timeout:
        return httpx.Timeout(float(getattr(self, kind)), connect=self.connect)


@dataclass(frozen=True)
class JsonReply:
    """A successful reply and its decoded JSON body (None when the body is empty)."""

    response: httpx.Response
    body: Any


@dataclass(frozen=True)
class _Call:
    method: str
    path: str
    target: str
    params: Mapping[str, Any] | None
    json: Any
    kind: CallKind
    cost: float
    decode: bool


class ApiClient:
    """Calls one provider for one account; use as `async with ApiClient(...) as client:`.

    `auth_headers` is awaited before every attempt, so a refreshed token is picked up at once;
    `refresh_auth`, if given, is awaited once after a 401 before the single retry it allows.
    `on_response` sees every reply before it is classified; it may feed the limiter from headers
    or raise an ApiError (e.g. RateLimited for a GraphQL THROTTLED body) to fail the attempt.
    Pass `limiter` and `breaker` from the shared registries so all clients of an account share
    them; by default each client gets private ones.
    """

    def __init__(
        self,
        *,
        source: str,
        account: str,
        base_url: str,
        auth_headers: AuthHeaders,
        refresh_auth: RefreshAuth | None = None,
        headers: Mapping[str, str] | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        limiter: TokenBucket | None = None,
        breaker: CircuitBreaker | None = None,
        stats: CallStats | None = None,
        on_response: ResponseHook | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        max_connections: int = 10,
    ) -> None:
        self.source = source
        self.account = account
        self.base_url = check_base_url(base_url)
        self.timeouts = timeouts or Timeouts()
        self.retry = retry or RetryPolicy()
        self.limiter = limiter or TokenBucket(LimiterConfig())
        self.breaker = breaker or CircuitBreaker(source, account)
        self.stats = stats or CallStats()
        self._auth_headers = auth_headers
        self._refresh_auth = refresh_auth
        self._on_response = on_response
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers={"User-Agent": USER_AGENT, **(headers or {})},
            transport=transport,
            verify=_verified_tls(),
            limits=httpx.Limits(max_connections=max_connections),
            timeout=self.timeouts.for_kind("read"),
        )

    async def __aenter__(self) -> Self:
        await self._http.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self._http.__aexit__(exc_type, exc, traceback)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        kind: CallKind = "read",
        cost: float = 1.0,
    ) -> httpx.Response:
        """The 2xx reply to one call, after retries; otherwise the ApiError that ended it."""
        reply = await self._call(method, path, params, json, kind, cost, decode=False)
        return reply.response

    async def request_json(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        kind: CallKind = "read",
        cost: float = 1.0,
    ) -> Any:
        """The decoded JSON of a 2xx reply; an undecodable body is retried as PayloadInvalid."""
        # Through `request_json_reply`, so a subclass adjusting calls overrides one method.
        reply = await self.request_json_reply(
            method, path, params=params, json=json, kind=kind, cost=cost
        )
        return reply.body

    async def request_json_reply(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        kind: CallKind = "read",
        cost: float = 1.0,
    ) -> JsonReply:
        """Like `request_json`, keeping the response for its headers (e.g. `Link`)."""
        return await self._call(method, path, params, json, kind, cost, decode=True)

    def error(
        self, error_class: type[E], method: str, path: str, *, detail: str, status: int | None
    ) -> E:
        """An error of this client's source and account, for checks made on a decoded body."""
        return error_class(
            source=self.source,
            account=self.account,
            method=method,
            path=path,
            status=status,
            detail=detail,
        )

    async def _call(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        json: Any,
        kind: CallKind,
        cost: float,
        *,
        decode: bool,
    ) -> JsonReply:
        self.stats.record_call()
        target = redacted_target(httpx.URL(path, params=params))
        call = _Call(method.upper(), path, target, params, json, kind, cost, decode)
        return await self.retry.run(
            lambda attempt: self._attempt(attempt, call),
            label=f"{self.source} {call.method} {target} (account {self.account})",
            stats=self.stats,
            refresh_auth=self._refresh_auth,
        )

    async def _attempt(self, attempt: int, call: _Call) -> JsonReply:
        try:
            self.breaker.admit(call.method, call.target)
        except CircuitOpen as error:
            self.stats.record_error(error.kind)
            raise
        try:
            reply = await self._exchange(attempt, call)
        except ApiError as error:
            self._record_failure(error)
            raise
        except BaseException:
            self.breaker.release()
            raise
        self.breaker.record_success()
        self.limiter.succeeded()
        return reply

    def _record_failure(self, error: ApiError) -> None:
        """Count the failed attempt; any reply from the provider proves the line is up."""
        self.stats.record_error(error.kind)
        if isinstance(error, RateLimited):
            self.stats.record_throttled()
            self.limiter.throttled(error.retry_after)
        if error.counts_against_circuit:
            self.breaker.record_failure(error)
        elif error.status is not None:
            self.breaker.record_success()
        else:
            self.breaker.release()

    async def _exchange(self, attempt: int, call: _Call) -> JsonReply:
        waited = await self.limiter.acquire(call.cost)
        self.stats.record_request(waited)
        auth = dict(await self._auth_headers())
        secrets = list(auth.values())
        timeout = self.timeouts.for_kind(call.kind)
        started = time.perf_counter()
        outcome = "no reply"
        try:
            response = await self._http.request(
                call.method,
                call.path,
                params=call.params,
                json=call.json,
                headers=auth,
                timeout=timeout,
            )
            outcome = str(response.status_code)
        except httpx.HTTPError as error:
            outcome = type(error).__name__
            verdict = exchange_verdict(error, call.kind, timeout, secrets)
            failure = self._failure(verdict, call)
            # Only retried failures keep their cause: others (bad headers) may quote a secret.
            raise failure from (error if failure.retryable else None)
        finally:
            logger.debug(
                "%s %s %s -> %s in %.0f ms (attempt %d, limiter wait %.0f ms, account %s)",
                self.source,
                call.method,
                call.target,
                outcome,
                (time.perf_counter() - started) * 1000,
                attempt,
                waited * 1000,
                self.account,
            )
        if self._on_response is not None:
            self._on_response(response)
        if not response.is_success:
            raise self._failure(reply_verdict(response, secrets), call)
        return JsonReply(response, self._decode(response, call) if call.decode else None)

    def _decode(self, response: httpx.Response, call: _Call) -> Any:
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as error:
            detail = f"the {len(response.content)}-byte body is not valid JSON ({error})"
            verdict = Verdict(PayloadInvalid, response.status_code, detail)
            raise self._failure(verdict, call) from error

    def _failure(self, verdict: Verdict, call: _Call) -> ApiError:
        error = self.error(
            verdict.error_class,
            call.method,
            call.target,
            detail=verdict.detail,
            status=verdict.status,
        )
        error.retry_after = verdict.retry_after
        return error
