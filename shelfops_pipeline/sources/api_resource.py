"""What every provider's Dagster resource shares: the data directory and the call policy.

Subclasses add the provider's host, app credentials, rate budget and page size, and build their
client with `call_options`, so retries, timeouts and circuits are configured the same everywhere.
While a run uses the resource, an account's circuit opening posts an alert naming the run's
customer and partition (`shelfops_pipeline.alerts`).
"""

from pathlib import Path
from typing import Any, ClassVar

import dagster as dg
from pydantic import Field, PrivateAttr

from shelfops_pipeline.alerts.alert import RunScope
from shelfops_pipeline.alerts.circuit import circuit_alert_listener
from shelfops_pipeline.credentials.paths import shelfops_home, store_path
from shelfops_pipeline.credentials.store import CredentialStore
from shelfops_pipeline.http.breaker import SHARED_BREAKERS, BreakerConfig, OpenListener
from shelfops_pipeline.http.client import Timeouts
from shelfops_pipeline.http.retry import RetryConfig, RetryPolicy


class ApiResource(dg.ConfigurableResource):
    """Configuration shared by the provider resources; not used on its own."""

    shelfops_home: str | None = Field(
        default=None,
        description="Data directory with the credential store; default SHELFOPS_HOME or ./data.",
    )
    max_attempts: int = Field(default=6, ge=1, description="Tries per call, retries included.")
    max_retry_seconds: float = Field(
        default=300.0, gt=0, description="Time one call may spend retrying."
    )
    read_timeout_seconds: float = Field(
        default=30.0, gt=0, description="Wait for a reply before retrying."
    )
    failure_threshold: int = Field(
        default=5, ge=1, description="Consecutive failed calls that open an account's circuit."
    )
    cool_down_seconds: float = Field(
        default=30.0, gt=0, description="How long an open circuit fails fast before one trial call."
    )

    # The provider whose calls the subclass makes ("square", "shopify").
    source: ClassVar[str]
    _circuit_alerts: OpenListener | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        run = context.run
        scope = RunScope.of(run.run_id, run.tags) if run else RunScope()
        self._circuit_alerts = circuit_alert_listener(scope, self.source)
        SHARED_BREAKERS.add_open_listener(self._circuit_alerts)

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._circuit_alerts is not None:
            SHARED_BREAKERS.remove_open_listener(self._circuit_alerts)
            self._circuit_alerts = None

    def store(self) -> CredentialStore:
        home = Path(self.shelfops_home) if self.shelfops_home else shelfops_home()
        return CredentialStore(store_path(home))

    def call_options(self, source: str, account: str) -> dict[str, Any]:
        """Timeouts, retry policy and the account's shared breaker, for `ApiClient`."""
        return {
            "timeouts": Timeouts(read=self.read_timeout_seconds),
            "retry": RetryPolicy(
                RetryConfig(
                    max_attempts=self.max_attempts, max_elapsed_seconds=self.max_retry_seconds
                )
            ),
            "breaker": SHARED_BREAKERS.breaker(
                source, account, BreakerConfig(self.failure_threshold, self.cool_down_seconds)
            ),
        }
