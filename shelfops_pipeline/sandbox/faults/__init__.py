"""Rate budgets and fault injection: make the sandbox misbehave the way real APIs do.

`config` says what to inject, `injector` is the ASGI middleware that does it, and `log` counts it.
"""

from shelfops_pipeline.sandbox.faults.config import (
    FaultConfig,
    FaultKind,
    Outage,
    parse_budget,
    parse_fault,
    parse_outage,
)
from shelfops_pipeline.sandbox.faults.injector import FaultInjector, render_square_error
from shelfops_pipeline.sandbox.faults.log import FaultLog, fault_log_routes

__all__ = [
    "FaultConfig",
    "FaultInjector",
    "FaultKind",
    "FaultLog",
    "Outage",
    "fault_log_routes",
    "parse_budget",
    "parse_fault",
    "parse_outage",
    "render_square_error",
]
