"""The run-failure sensor: every failed run of this code location becomes one alert.

Dagster's daemon evaluates it (`make ui` runs one), so the variables it reads
(SHELFOPS_ALERT_WEBHOOK_URL, SHELFOPS_UI_URL) must be in the daemon's environment. Runs that
`shelfops sync` and `shelfops demo` execute in their own process are not seen by it (Dagster
matches run-status sensors to runs launched from the code location); those commands report
their failures themselves.
"""

import dagster as dg
from dagster_shared.error import SerializableErrorInfo

from shelfops_pipeline.alerts.alert import Alert, RunScope, one_line
from shelfops_pipeline.alerts.poster import post_alert

UNIFIED_SOURCE = "warehouse"


def step_source(step_key: str) -> str:
    """`square__orders` is Square's; a step without a provider prefix builds a unified table."""
    prefix, separator, _ = step_key.partition("__")
    return prefix if separator else UNIFIED_SOURCE


def without_class_name(error: SerializableErrorInfo) -> str:
    """`Failure: x` (with the module path of the class) reads as `x`."""
    head, separator, rest = error.message.partition(": ")
    return rest if separator and error.cls_name and head.endswith(error.cls_name) else error.message


def run_failure_alert(context: dg.RunFailureSensorContext) -> Alert:
    run = context.dagster_run
    steps = context.get_step_failure_events()
    error = context.failure_event.message or f"run {run.run_id} failed"
    first = steps[0] if steps else None
    cause = first.step_failure_data.error if first else None
    if first and cause:
        error = f"{error} {first.step_key}: {without_class_name(cause)}"
    sources = sorted({step_source(step.step_key) for step in steps if step.step_key})
    return Alert(
        title=f"run failed: {run.job_name}",
        source=", ".join(sources) or run.job_name,
        error=one_line(error),
        scope=RunScope.of(run.run_id, run.tags),
    )


@dg.run_failure_sensor(
    name="run_failure_alert_sensor",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Posts each failed run (source, customer, partition, error, link) to "
    "SHELFOPS_ALERT_WEBHOOK_URL, or logs it when that is unset.",
)
def run_failure_alert_sensor(context: dg.RunFailureSensorContext) -> None:
    post_alert(run_failure_alert(context))
