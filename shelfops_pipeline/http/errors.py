"""The errors every provider client raises, each with a message an operator can act on.

    ApiError                  a call to a provider failed: source, account, method, path, status
     ├── BadRequest           400, 422 and other 4xx the request cannot recover from; not retried
     ├── AuthRejected         401 after one token refresh, or 403; not retried
     ├── NotFound             404; not retried
     ├── RateLimited          429 or a throttled reply, once the retries ran out
     ├── UpstreamUnavailable  5xx, timeouts and dropped connections, once the retries ran out
     ├── PayloadInvalid       a cut-short or undecodable body, once the retries ran out
     └── CircuitOpen          the account's circuit is open, so the call was never sent

Messages never carry tokens or headers: details come from the provider's error body with the
caller's secrets scrubbed out (see `shelfops_pipeline.http.replies`).
"""

from typing import Any, ClassVar


class ApiError(Exception):
    """A provider call failed; `str()` says which call, what came back and what to do next."""

    kind: ClassVar[str] = "api_error"
    retryable: ClassVar[bool] = False
    counts_against_circuit: ClassVar[bool] = False
    next_step: ClassVar[str] = "check the provider's reply above and rerun the sync"

    def __init__(
        self,
        *,
        source: str,
        account: str,
        method: str,
        path: str,
        status: int | None,
        detail: str,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(detail)
        self.source = source
        self.account = account
        self.method = method
        self.path = path
        self.status = status
        self.detail = detail
        self.retry_after = retry_after
        self.attempts = 1
        self.elapsed_seconds = 0.0

    @property
    def summary(self) -> str:
        """`GET /v2/locations -> HTTP 503: detail`, short enough for a log line."""
        reply = f"HTTP {self.status}" if self.status is not None else "no reply"
        return f"{self.method} {self.path} -> {reply}: {self.detail}"

    def advice(self) -> str:
        return self.next_step

    def __str__(self) -> str:
        tries = ""
        if self.attempts > 1:
            tries = f" after {self.attempts} attempts over {self.elapsed_seconds:.1f} s"
        return (
            f"{self.source} call for account {self.account} failed{tries}: {self.summary}. "
            f"Next step: {self.advice()}."
        )


class BadRequest(ApiError):
    kind = "bad_request"
    next_step = (
        "the provider refused the request as sent, so retrying cannot help; check the sync's "
        "parameters (dates, ids, page size) against the provider's API reference"
    )


class AuthRejected(ApiError):
    kind = "auth_rejected"

    def advice(self) -> str:
        if self.status == 403:
            return (
                "the token lacks a permission this call needs; grant the missing scope to the app "
                "and reconnect the account (`shelfops connect`)"
            )
        return (
            "the provider refused the token (expired, revoked or unknown); reconnect the account "
            "with `shelfops connect` and rerun"
        )


class NotFound(ApiError):
    kind = "not_found"
    next_step = (
        "the object or endpoint does not exist for this account; check the id (it may have been "
        "deleted) and the configured base URL"
    )


class RateLimited(ApiError):
    kind = "rate_limited"
    retryable = True
    next_step = (
        "the provider kept throttling this account; lower the client's requests per second or the "
        "Dagster pool's concurrency for this API, then rerun"
    )


class UpstreamUnavailable(ApiError):
    kind = "upstream_unavailable"
    retryable = True
    counts_against_circuit = True
    next_step = (
        "the provider is failing or unreachable; check its status page and the network, then "
        "rerun the same partition (nothing was written for it)"
    )


class PayloadInvalid(ApiError):
    kind = "payload_invalid"
    retryable = True
    counts_against_circuit = True
    next_step = (
        "replies arrived cut short or not as the API documents; check proxies between us and the "
        "provider, then rerun; if it persists, report the endpoint and time to the provider"
    )


class CircuitOpen(ApiError):
    kind = "circuit_open"

    def __init__(self, *, last_failure: str, half_open_in_seconds: float, **call: Any) -> None:
        super().__init__(**call)
        self.last_failure = last_failure
        self.half_open_in_seconds = half_open_in_seconds

    def advice(self) -> str:
        if self.half_open_in_seconds <= 0:
            return (
                f"one trial call is testing the provider (last failure: {self.last_failure}); "
                "rerun shortly"
            )
        return (
            f"calls for this account fail fast until the circuit half-opens in "
            f"{self.half_open_in_seconds:.1f} s (last failure: {self.last_failure}); check the "
            "provider's status page, then rerun: the first call after the cool-down tests the line"
        )
