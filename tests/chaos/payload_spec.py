"""The verdict every bad-input test gives, and the strict readers the specifications use.

A specification (`square_payloads.expected_*`, `shopify_payloads.expected_*`) reads a payload
strictly and raises `Invalid` where it cannot give rows; `check` then demands of the parser's
outcome either exactly the specified rows, stored unchanged in the warehouse's Arrow schema, or
the provider's named error, naming what the mutation broke.
"""

from collections.abc import Callable, Mapping
from dataclasses import asdict
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
from payload_mutations import Mutation

from shelfops_pipeline.timestamps import parse_rfc3339
from shelfops_pipeline.warehouse.lake import to_table

LIMIT = 10**15


class Invalid(Exception):
    """The payload cannot give rows: the parser must raise a named error for it."""


def need(condition: bool, problem: str) -> None:
    if not condition:
        raise Invalid(problem)


def obj(value: Any, name: str) -> Mapping[str, Any]:
    need(isinstance(value, dict), f"{name} is not an object")
    return value


def objects(payload: Mapping[str, Any], name: str) -> list[Mapping[str, Any]]:
    value = payload.get(name) or []
    need(isinstance(value, list), f"{name} is not a list")
    return [obj(item, name) for item in value]


def text(payload: Mapping[str, Any], name: str, optional: bool = False) -> str:
    value = payload.get(name)
    if value is None and optional:
        return ""
    need(isinstance(value, str), f"{name} is not text")
    need(optional or bool(value.strip()), f"{name} is blank")
    need(value.encode("utf-8", "replace").decode("utf-8") == value, f"{name} is not UTF-8")
    return value


def zone(payload: Mapping[str, Any], name: str) -> str:
    value = text(payload, name)
    try:
        ZoneInfo(value)
    except (KeyError, ValueError, OSError):
        raise Invalid(f"{name} is not an IANA time zone") from None
    return value


def flag(payload: Mapping[str, Any], name: str) -> bool:
    value = payload.get(name, False)
    need(value is None or isinstance(value, bool), f"{name} is not a boolean")
    return bool(value)


def instant(payload: Mapping[str, Any], name: str) -> datetime:
    value = payload.get(name)
    need(isinstance(value, str), f"{name} is not text")
    try:
        parsed = parse_rfc3339(value)
    except (ValueError, OverflowError):
        raise Invalid(f"{name} is not a time with a zone") from None
    need(datetime(1, 1, 2, tzinfo=UTC) <= parsed <= datetime(9999, 12, 30, tzinfo=UTC), name)
    return parsed


def quantity(payload: Mapping[str, Any], name: str) -> Decimal:
    value = payload.get(name)
    need(type(value) in (str, int, float), f"{name} is not a number")
    try:
        number = Decimal(str(value).strip())
    except ArithmeticError:
        raise Invalid(f"{name} is not a number") from None
    need(number.is_finite() and abs(number) < LIMIT, f"{name} is out of range")
    need(number == number.quantize(Decimal("0.00001")), f"{name} has more than 5 decimals")
    return number


def outcome(mapping: Callable[[], list[Any]], error: type[ValueError]) -> list[Any] | ValueError:
    """The rows `mapping` gives, or the provider's named `error` it raises (anything else
    propagates and fails the test)."""
    try:
        return mapping()
    except error as refused:
        return refused


def check(
    got: list[Any] | ValueError,
    mutation: Mutation | None,
    expected: Callable[[], list[Any]],
    schema: pa.Schema | None = None,
) -> None:
    """Rows exactly as specified (and stored unchanged), or a named error for a broken payload."""
    if isinstance(got, ValueError):
        assert mutation is not None, f"a valid payload was refused: {got}"
        assert mutation.named_by(str(got)), f"{got} does not name {mutation.field!r}"
        return
    try:
        wanted = expected()
    except Invalid as invalid:
        raise AssertionError(
            f"rows from a payload that cannot give any ({invalid}): {got}"
        ) from None
    assert got == wanted
    if schema is not None and got:
        assert to_table(got, schema).to_pylist() == [asdict(row) for row in got]
