"""An alert when a merchant's circuit opens during a run: which source, customer and account, the
partition the run works on, and the failure that tripped it. Reopening after a failed trial call
is not alerted again; the next alert comes after the circuit has closed and opens anew."""

import logging

from shelfops_pipeline.alerts.alert import Alert, RunScope, one_line
from shelfops_pipeline.alerts.poster import post_alert
from shelfops_pipeline.http.breaker import CircuitOpened, OpenListener


def circuit_alert(event: CircuitOpened, scope: RunScope) -> Alert:
    return Alert(
        title=f"{event.source} circuit opened for account {event.account}",
        source=event.source,
        error=one_line(
            f"{event.failures} consecutive failed calls; calls fail fast for "
            f"{event.cool_down_seconds:g} s; last: {event.last_failure}"
        ),
        scope=scope,
        account=event.account,
        level=logging.WARNING,
    )


def circuit_alert_listener(scope: RunScope, source: str) -> OpenListener:
    """A breaker listener that posts (or logs) an alert for the run described by `scope`, for
    `source`'s circuits only (each provider's resource in a run listens for its own)."""

    def on_open(event: CircuitOpened) -> None:
        if event.source == source:
            post_alert(circuit_alert(event, scope))

    return on_open
