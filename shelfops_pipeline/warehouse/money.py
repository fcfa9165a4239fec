"""Exact money: minor units from the providers, decimals in the currency's major unit for analysts."""

from decimal import Decimal

# ISO 4217 currencies without a minor unit (or whose minor unit the providers do not use).
ZERO_DECIMAL_CURRENCIES = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND", "VUV",
     "XAF", "XOF", "XPF"}
)  # fmt: skip


def minor_digits(currency: str) -> int:
    return 0 if currency.upper() in ZERO_DECIMAL_CURRENCIES else 2


def from_minor(amount_minor: int, currency: str) -> Decimal:
    """1234 USD cents -> Decimal('12.34'); 450 JPY -> Decimal('450')."""
    return Decimal(amount_minor).scaleb(-minor_digits(currency))
