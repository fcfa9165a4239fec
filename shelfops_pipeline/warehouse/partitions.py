"""Partitions: each connected customer on its own key, crossed with business days or UTC hours.

A customer's failure or backfill never touches another's partitions, and a newly connected
customer can backfill its own history alone. Business days are the stores' local dates.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import dagster as dg

HISTORY_START = "2025-01-01"

customers = dg.DynamicPartitionsDefinition(name="customers")
business_days = dg.DailyPartitionsDefinition(start_date=HISTORY_START, end_offset=1)
utc_hours = dg.HourlyPartitionsDefinition(start_date=f"{HISTORY_START}-00:00", end_offset=1)
customer_days = dg.MultiPartitionsDefinition({"customer": customers, "date": business_days})
customer_hours = dg.MultiPartitionsDefinition({"customer": customers, "hour": utc_hours})

BY_CUSTOMER = dg.MultiToSingleDimensionPartitionMapping(partition_dimension_name="customer")


@dataclass(frozen=True)
class CustomerDay:
    customer_id: str
    day: date

    @property
    def lake_partition(self) -> dict[str, str]:
        return {"customer_id": self.customer_id, "business_date": self.day.isoformat()}


@dataclass(frozen=True)
class CustomerHour:
    customer_id: str
    hour: datetime

    @property
    def lake_partition(self) -> dict[str, str]:
        return {
            "customer_id": self.customer_id,
            "snapshot_date": self.hour.date().isoformat(),
            "hour": f"{self.hour.hour:02d}",
        }


def customer_day(key: str | dg.MultiPartitionKey) -> CustomerDay:
    keys = customer_days.get_partition_key_from_str(str(key)).keys_by_dimension
    return CustomerDay(keys["customer"], date.fromisoformat(keys["date"]))


def customer_hour(key: str | dg.MultiPartitionKey) -> CustomerHour:
    keys = customer_hours.get_partition_key_from_str(str(key)).keys_by_dimension
    hour = datetime.strptime(keys["hour"], "%Y-%m-%d-%H:%M").replace(tzinfo=UTC)
    return CustomerHour(keys["customer"], hour)


def local_day_window(day: date, timezones: Iterable[str]) -> tuple[datetime, datetime]:
    """The UTC span covering `day` in every one of the zones: its earliest local midnight to its
    latest next local midnight. Rows in it still need filtering to their own store's day."""
    starts, ends = [], []
    for name in set(timezones):
        zone = ZoneInfo(name)
        starts.append(datetime.combine(day, time(0), zone).astimezone(UTC))
        ends.append(datetime.combine(day + timedelta(days=1), time(0), zone).astimezone(UTC))
    if not starts:
        raise ValueError(f"no time zone to place business day {day} in")
    return min(starts), max(ends)
