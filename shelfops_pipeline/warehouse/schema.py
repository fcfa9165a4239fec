"""Arrow schemas of the four unified tables: exact decimals for money and quantity, UTC times."""

import pyarrow as pa

# Scale 4 holds every ISO 4217 minor unit (up to 3 digits) exactly; quantities keep Square's 5.
MONEY = pa.decimal128(20, 4)
QUANTITY = pa.decimal128(20, 5)
UTC_TIME = pa.timestamp("us", tz="UTC")

TRANSACTIONS = pa.schema(
    [
        ("transaction_id", pa.string()),
        ("customer_id", pa.string()),
        ("source_system", pa.string()),
        ("store_id", pa.string()),
        ("product_id", pa.string()),
        ("order_id", pa.string()),
        ("line_id", pa.string()),
        ("kind", pa.string()),
        ("quantity", QUANTITY),
        ("unit_price", MONEY),
        ("discount", MONEY),
        ("tax", MONEY),
        ("net_amount", MONEY),
        ("currency", pa.string()),
        ("occurred_at", UTC_TIME),
        ("business_date", pa.date32()),
    ]
)

STORES = pa.schema(
    [
        ("store_id", pa.string()),
        ("customer_id", pa.string()),
        ("source_system", pa.string()),
        ("account_id", pa.string()),
        ("name", pa.string()),
        ("timezone", pa.string()),
        ("currency", pa.string()),
        ("kind", pa.string()),
    ]
)

PRODUCTS = pa.schema(
    [
        ("product_id", pa.string()),
        ("customer_id", pa.string()),
        ("source_system", pa.string()),
        ("item_id", pa.string()),
        ("name", pa.string()),
        ("variation_name", pa.string()),
        ("sku", pa.string()),
        ("unit_price", MONEY),
        ("currency", pa.string()),
        ("is_deleted", pa.bool_()),
        ("valid_from", UTC_TIME),
    ]
)

INVENTORY_SNAPSHOTS = pa.schema(
    [
        ("customer_id", pa.string()),
        ("source_system", pa.string()),
        ("store_id", pa.string()),
        ("product_id", pa.string()),
        ("snapshot_hour", UTC_TIME),
        ("on_hand", QUANTITY),
        ("available", QUANTITY),
    ]
)
