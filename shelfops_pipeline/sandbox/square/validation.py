"""Reading request fields the way Square does: typed, bounded, and named in every error."""

from datetime import datetime
from typing import Any

from shelfops_pipeline.sandbox.square.errors import SquareError
from shelfops_pipeline.sandbox.timestamps import parse_rfc3339


def string_list(body: dict[str, Any], key: str, max_items: int | None = None) -> list[str]:
    value = body.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SquareError("INVALID_ARRAY_VALUE", f"`{key}` must be an array of strings.", key)
    if max_items is not None and len(value) > max_items:
        raise SquareError(
            "VALUE_TOO_HIGH",
            f"`{key}` holds {len(value)} values; at most {max_items} are allowed.",
            key,
        )
    return value


def enum_list(body: dict[str, Any], key: str, allowed: frozenset[str]) -> list[str]:
    values = string_list(body, key)
    for value in values:
        if value not in allowed:
            raise SquareError(
                "INVALID_ENUM_VALUE", f"`{value}` is not a valid value for `{key}`.", key
            )
    return values


def timestamp(body: dict[str, Any], key: str, field: str | None = None) -> datetime | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise SquareError("INVALID_VALUE", f"`{key}` must be an RFC 3339 timestamp.", field or key)
    try:
        return parse_rfc3339(value)
    except ValueError as error:
        raise SquareError(
            "INVALID_VALUE", f"`{key}` is not an RFC 3339 timestamp: {value!r}.", field or key
        ) from error


def limit(body: dict[str, Any], key: str, default: int, maximum: int) -> int:
    value = body.get(key)
    if value is None:
        return default
    if not isinstance(value, int) or isinstance(value, bool):
        raise SquareError("INVALID_VALUE", f"`{key}` must be an integer.", key)
    if value < 1:
        raise SquareError("VALUE_TOO_LOW", f"`{key}` must be at least 1.", key)
    if value > maximum:
        raise SquareError("VALUE_TOO_HIGH", f"`{key}` must be at most {maximum}.", key)
    return value


def boolean(body: dict[str, Any], key: str) -> bool:
    value = body.get(key, False)
    if not isinstance(value, bool):
        raise SquareError("INVALID_VALUE", f"`{key}` must be true or false.", key)
    return value


def cursor(body: dict[str, Any]) -> str | None:
    value = body.get("cursor")
    if value is not None and not isinstance(value, str):
        raise SquareError("INVALID_CURSOR", "The pagination cursor must be a string.", "cursor")
    return value or None


def mapping(body: dict[str, Any], key: str) -> dict[str, Any]:
    value = body.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise SquareError("INVALID_VALUE", f"`{key}` must be an object.", key)
    return value
