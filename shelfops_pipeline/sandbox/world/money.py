"""Exact money arithmetic in minor units; Square rounds half up to the currency's smallest unit."""

from decimal import ROUND_HALF_UP, Decimal


def round_minor(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def percent_of(amount_minor: int, percent: Decimal) -> int:
    return round_minor(Decimal(amount_minor) * percent / 100)


def to_major(amount_minor: int, digits: int) -> Decimal:
    """Minor units to an exact decimal in the currency's major unit: 1234 USD cents -> 12.34."""
    return Decimal(amount_minor).scaleb(-digits)
