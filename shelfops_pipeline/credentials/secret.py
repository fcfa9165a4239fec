"""A string that will not show itself by accident: repr, str and format print `***`."""

import hmac

MASK = "***"


class Secret:
    """Holds a token or password; read it with `.reveal()` at the one place that sends it."""

    # Hand-written: pydantic's SecretStr is only a transitive dependency and spells reveal differently.
    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str) or not value:
            raise ValueError("a Secret holds a non-empty string")
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return MASK

    def __str__(self) -> str:
        return MASK

    def __format__(self, format_spec: str) -> str:
        return MASK

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash(self._value)
