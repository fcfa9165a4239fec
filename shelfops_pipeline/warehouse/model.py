"""The unified model's rows. It knows no provider: every source maps its records into these."""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal


@dataclass(frozen=True)
class TransactionRow:
    """One sold or returned line. Returns carry negative quantity, discount, tax and net amount."""

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


@dataclass(frozen=True)
class StoreRow:
    store_id: str
    customer_id: str
    source_system: str
    account_id: str
    name: str
    timezone: str
    currency: str
    kind: str


@dataclass(frozen=True)
class ProductRow:
    """What a product was called and priced at from `valid_from` on (one row per version)."""

    product_id: str
    customer_id: str
    source_system: str
    item_id: str
    name: str
    variation_name: str
    sku: str
    unit_price: Decimal | None
    currency: str
    is_deleted: bool
    valid_from: datetime


@dataclass(frozen=True)
class InventorySnapshotRow:
    """Stock of one product at one store as of the end of one hour (UTC)."""

    customer_id: str
    source_system: str
    store_id: str
    product_id: str
    snapshot_hour: datetime
    on_hand: Decimal
    available: Decimal
