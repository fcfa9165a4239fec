"""What an alert says: the source, customer and partition it concerns, the error, a link to the run.

The customer and partition come from the run's tags, as Dagster sets them for a partitioned run:
`dagster/partition` holds the key (`cust-001|2026-11-20`, or `cust-001` for the customers-only
partitions), and a multi-partition run also has one `dagster/partition/<dimension>` tag each.
"""

import logging
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass

UI_URL_ENV = "SHELFOPS_UI_URL"
DEFAULT_UI_URL = "http://127.0.0.1:3070"
PARTITION_TAG = "dagster/partition"
CUSTOMER_TAG = f"{PARTITION_TAG}/customer"
MAX_ERROR_CHARS = 500


def one_line(text: str, limit: int = MAX_ERROR_CHARS) -> str:
    """`text` on one line, whitespace collapsed, cut to `limit` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def run_url(run_id: str) -> str:
    """The run's page in the Dagster UI at SHELFOPS_UI_URL (default the `make ui` address)."""
    base = os.environ.get(UI_URL_ENV, "").strip() or DEFAULT_UI_URL
    return f"{base.rstrip('/')}/runs/{run_id}"


@dataclass(frozen=True)
class RunScope:
    """Which customer and partition a run works on, and where the UI shows it."""

    customer: str | None = None
    partition: str | None = None
    run_url: str | None = None

    @classmethod
    def of(cls, run_id: str | None, tags: Mapping[str, str]) -> "RunScope":
        partition = tags.get(PARTITION_TAG)
        customer = tags.get(CUSTOMER_TAG)
        if customer is None and partition is not None and "|" not in partition:
            customer = partition  # the customers-only partitions (stores) are the customer id
        return cls(customer, partition, run_url(run_id) if run_id else None)


@dataclass(frozen=True)
class Alert:
    """One alert; `body()` is what is posted, `text` what is logged."""

    title: str
    source: str
    error: str
    scope: RunScope = RunScope()
    account: str | None = None
    level: int = logging.ERROR

    @property
    def text(self) -> str:
        where = [
            f"{name} {value}"
            for name, value in (
                ("source", self.source),
                ("customer", self.scope.customer),
                ("account", self.account),
                ("partition", self.scope.partition),
            )
            if value
        ]
        lines = [f"ShelfOps: {self.title}", ", ".join(where), f"error: {self.error}"]
        if self.scope.run_url:
            lines.append(f"run: {self.scope.run_url}")
        return "\n".join(lines)

    def body(self) -> dict[str, str | None]:
        """Slack's incoming-webhook `text`, plus the fields as structured values."""
        return {
            "text": self.text,
            "title": self.title,
            "source": self.source,
            **asdict(self.scope),
            "account": self.account,
            "error": self.error,
        }
