"""Reading one provider's JSON strictly, at the parsers' boundary.

A field that is missing, of the wrong type, not a known value, too large or too precise for the
warehouse, or a time without a zone raises the provider's `MalformedRecord` with a message
naming the object and the field, rather than a bare KeyError or TypeError deep in the mapping,
or a row the warehouse would store wrong (or not at all).
"""

import re
from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from shelfops_pipeline.timestamps import parse_rfc3339

# Amounts (minor or major units) and quantities stay below this, so the warehouse's decimal(20, 4)
# money and decimal(20, 5) quantities hold each of them, and the difference of two, exactly.
LIMIT = 10**15
QUANTITY_QUANTUM = Decimal("0.00001")
CURRENCY_CODE = re.compile(r"[A-Z]{3}")
# Instants whose local date exists in every time zone (datetime spans the years 1 to 9999).
EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
LATEST = datetime(9999, 12, 30, tzinfo=UTC)
SHOWN_CHARACTERS = 60


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= SHOWN_CHARACTERS else f"{text[:SHOWN_CHARACTERS]}..."


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# Hand-written rather than pydantic models: the parsers fill frozen dataclasses field by field in
# the sync's hot loop, and each message must name the provider's object, its id and the field.
class FieldReader:
    """Typed fields out of one provider's JSON objects; errors are `error("<provider> <what>
    <id> ...`<field>`...")`, where `what` names the kind of object (`line item`, `order`)."""

    def __init__(self, provider: str, error: type[ValueError]) -> None:
        self.provider = provider
        self.error = error

    def fail(self, obj: Mapping[str, Any], what: str, problem: str) -> ValueError:
        known = obj.get("id") or obj.get("uid")
        label = f" {_show(known) if not isinstance(known, str) else known[:40]}" if known else ""
        return self.error(f"{self.provider} {what}{label} {problem}")

    def present(self, obj: Mapping[str, Any], name: str, what: str) -> Any:
        value = obj.get(name)
        if value is None:
            raise self.fail(obj, what, f"has no `{name}`")
        return value

    def text(self, obj: Mapping[str, Any], name: str, what: str) -> str:
        """A non-blank string (ids, codes, states)."""
        value = self.present(obj, name, what)
        if not isinstance(value, str) or not value.strip() or not _utf8(value):
            raise self.fail(obj, what, f"`{name}` is not a non-blank text: {_show(value)}")
        return value

    def optional_text(self, obj: Mapping[str, Any], name: str, what: str) -> str:
        """A string, possibly empty; "" when missing (names, SKUs)."""
        value = obj.get(name)
        if value is None:
            return ""
        if not isinstance(value, str) or not _utf8(value):
            raise self.fail(obj, what, f"`{name}` is not a text: {_show(value)}")
        return value

    def optional_id(self, obj: Mapping[str, Any], name: str, what: str) -> str | None:
        return None if obj.get(name) is None else self.text(obj, name, what)

    def choice(self, obj: Mapping[str, Any], name: str, what: str, known: Collection[str]) -> str:
        """One of the values the API documents; a new one is an error, never a guess."""
        value = self.text(obj, name, what)
        if value not in known:
            raise self.fail(
                obj, what, f"`{name}` {value!r} is not one of {', '.join(sorted(known))}"
            )
        return value

    def flag(self, obj: Mapping[str, Any], name: str, what: str, default: bool = False) -> bool:
        value = obj.get(name)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.fail(obj, what, f"`{name}` is not true or false: {_show(value)}")
        return value

    def object(self, obj: Mapping[str, Any], name: str, what: str) -> Mapping[str, Any] | None:
        value = obj.get(name)
        if value is not None and not isinstance(value, dict):
            raise self.fail(obj, what, f"`{name}` is not an object: {_show(value)}")
        return value

    def objects(self, obj: Mapping[str, Any], name: str, what: str) -> list[Mapping[str, Any]]:
        """A list of objects; [] when missing."""
        value = obj.get(name)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            raise self.fail(obj, what, f"`{name}` is not a list of objects: {_show(value)}")
        return value

    def time(self, obj: Mapping[str, Any], name: str, what: str) -> datetime:
        """An RFC 3339 instant with its UTC offset, in UTC."""
        value = self.present(obj, name, what)
        try:
            parsed = parse_rfc3339(value) if isinstance(value, str) else None
        except (ValueError, OverflowError):
            parsed = None
        if parsed is None:
            raise self.fail(
                obj, what, f"`{name}` is not an RFC 3339 time with a zone: {_show(value)}"
            )
        if not EARLIEST <= parsed <= LATEST:
            raise self.fail(obj, what, f"`{name}` is out of range: {_show(value)}")
        return parsed

    def decimal(
        self, obj: Mapping[str, Any], name: str, what: str, quantum: Decimal = QUANTITY_QUANTUM
    ) -> Decimal:
        """An exact number below LIMIT with no digits past `quantum`, from a string or number."""
        value = self.present(obj, name, what)
        number = None
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            try:
                number = Decimal(str(value).strip())
            except InvalidOperation:
                number = None
        if number is None or not number.is_finite():
            raise self.fail(obj, what, f"`{name}` is not a decimal number: {_show(value)}")
        if abs(number) >= LIMIT:
            raise self.fail(obj, what, f"`{name}` is out of range: {_show(value)}")
        if number != number.quantize(quantum):
            raise self.fail(obj, what, f"`{name}` has digits past {quantum}: {_show(value)}")
        return number

    def integer(self, obj: Mapping[str, Any], name: str, what: str) -> int:
        value = self.present(obj, name, what)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(obj, what, f"`{name}` is not an integer: {_show(value)}")
        if abs(value) >= LIMIT:
            raise self.fail(obj, what, f"`{name}` is out of range: {_show(value)}")
        return value

    def currency(self, obj: Mapping[str, Any], name: str, what: str) -> str:
        value = self.present(obj, name, what)
        if not isinstance(value, str) or not CURRENCY_CODE.fullmatch(value):
            raise self.fail(obj, what, f"`{name}` is not an ISO 4217 code: {_show(value)}")
        return value

    def timezone(self, obj: Mapping[str, Any], name: str, what: str) -> str:
        value = self.text(obj, name, what)
        try:
            ZoneInfo(value)
        except (KeyError, ValueError, OSError):
            raise self.fail(
                obj, what, f"`{name}` is not an IANA time zone: {_show(value)}"
            ) from None
        return value
