"""One line of ground truth: the columns every provider's truth shares (README "Ground truth")."""

from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from shelfops_pipeline.sandbox.timestamps import rfc3339
from shelfops_pipeline.sandbox.world.entities import Store

COLUMNS = (
    "transaction_id", "customer_id", "source_system", "store_id", "product_id", "order_id",
    "line_id", "kind", "quantity", "unit_price", "discount", "tax", "net_amount", "currency",
    "occurred_at", "business_date",
)  # fmt: skip


@dataclass(frozen=True)
class TruthLine:
    transaction_id: str
    customer_id: str
    source_system: str
    store_id: str
    product_id: str
    order_id: str
    line_id: str
    kind: str
    quantity: Decimal
    unit_price: Decimal
    discount: Decimal
    tax: Decimal
    net_amount: Decimal
    currency: str
    occurred_at: datetime
    business_date: date

    def as_text(self) -> dict[str, str]:
        row = asdict(self)
        row["occurred_at"] = rfc3339(self.occurred_at, 6)
        return {k: str(v) for k, v in row.items()}


def local_day_bounds(store: Store, day: date) -> tuple[datetime, datetime]:
    """The UTC instants a store's local business day starts and ends at."""
    zone = ZoneInfo(store.timezone)
    start = datetime.combine(day, time(0), zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), zone).astimezone(UTC)
    return start, end
