"""The store time zones the planners place events with, read from the synced locations."""

from collections.abc import Callable, Mapping

from shelfops_pipeline.sources.square.assets import square_reader
from shelfops_pipeline.warehouse.resources import WarehouseResource


def timezone_lookup(warehouse: WarehouseResource) -> Callable[[str], Mapping[str, str]]:
    """customer id -> {location id: IANA zone}, each customer read from the lake once."""
    zones: dict[str, Mapping[str, str]] = {}

    def timezones(customer: str) -> Mapping[str, str]:
        if customer not in zones:
            found = square_reader.locations(warehouse, customer)
            zones[customer] = {i: location.timezone for i, location in found.items()}
        return zones[customer]

    return timezones
