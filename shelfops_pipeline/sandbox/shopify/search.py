"""Shopify's search syntax for the `query:` argument of connections, parsed and evaluated.

Terms are `field:value`, `field:>value` (also `>=`, `<`, `<=`), or free text; terms side by side
are ANDed, `OR` and `AND` join terms, `NOT` or a leading `-` negates one, parentheses group, and
values may be quoted with single or double quotes (tap-shopify sends
`updated_at:>='2024-01-01 00:00:00+00:00'`). Fields the caller does not know are ignored, as
Shopify ignores filters a resource does not support.
"""

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

Accessor = Callable[[Any], object]
_COMPARATORS = (">=", "<=", ">", "<", "=")
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<open>\() | (?P<close>\)) |
        (?P<term>(?:[^\s()"']|"[^"]*"|'[^']*')+)
    )""",
    re.VERBOSE,
)


class SearchSyntaxError(ValueError):
    """The query text cannot be parsed (unbalanced parentheses or quotes)."""


@dataclass(frozen=True)
class Term:
    field: str | None
    comparator: str
    value: str
    negated: bool = False


@dataclass(frozen=True)
class Group:
    operator: str
    parts: tuple["Group | Term", ...]
    negated: bool = False


Expression = Group | Term


def _unquote(text: str) -> str:
    return re.sub(r"""["']""", "", text)


def _term(text: str) -> Term:
    negated = text.startswith("-") and len(text) > 1
    body = text[1:] if negated else text
    field, colon, rest = body.partition(":")
    if not colon or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", field):
        return Term(None, "=", _unquote(body), negated)
    comparator = next((c for c in _COMPARATORS if rest.startswith(c)), "=")
    value = rest[len(comparator) :] if rest.startswith(comparator) else rest
    return Term(field.lower(), comparator, _unquote(value).strip(), negated)


def _tokens(text: str) -> list[str]:
    tokens, position = [], 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            if text[position:].strip():
                raise SearchSyntaxError(f"cannot parse search text near {text[position:]!r}")
            break
        tokens.append(match.group("open") or match.group("close") or match.group("term"))
        position = match.end()
    return tokens


def parse_search(text: str) -> Expression:
    """Parse Shopify search text into an expression tree."""
    tokens = _tokens(text)
    expression, rest = _parse_or(tokens)
    if rest:
        raise SearchSyntaxError("unbalanced parentheses in search text")
    return expression


def _parse_or(tokens: list[str]) -> tuple[Expression, list[str]]:
    parts = []
    part, tokens = _parse_and(tokens)
    parts.append(part)
    while tokens and tokens[0] == "OR":
        part, tokens = _parse_and(tokens[1:])
        parts.append(part)
    return (parts[0] if len(parts) == 1 else Group("OR", tuple(parts))), tokens


def _parse_and(tokens: list[str]) -> tuple[Expression, list[str]]:
    parts: list[Expression] = []
    while tokens and tokens[0] not in (")", "OR"):
        if tokens[0] == "AND":
            tokens = tokens[1:]
            continue
        negate = tokens[0] == "NOT"
        if negate:
            tokens = tokens[1:]
        if not tokens:
            break
        if tokens[0] == "(":
            inner, tokens = _parse_or(tokens[1:])
            if not tokens or tokens[0] != ")":
                raise SearchSyntaxError("unbalanced parentheses in search text")
            tokens = tokens[1:]
            part: Expression = inner
        else:
            part, tokens = _term(tokens[0]), tokens[1:]
        if negate:
            part = (
                Group(part.operator, part.parts, not part.negated)
                if isinstance(part, Group)
                else Term(part.field, part.comparator, part.value, not part.negated)
            )
        parts.append(part)
    return (parts[0] if len(parts) == 1 else Group("AND", tuple(parts))), tokens


def parse_search_time(text: str, timezone: str) -> datetime | None:
    """A search value as an instant: ISO 8601 with or without `T`, or a date in the shop's zone."""
    value = text.strip().replace(" ", "T", 1)
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime.combine(day, time(0), ZoneInfo(timezone)).astimezone(UTC)
        parsed = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo(timezone))
    return parsed.astimezone(UTC)


_ORDERING: dict[str, Callable[[Any, Any], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}


def _compare(actual: Any, comparator: str, wanted: Any) -> bool:
    if actual is None or wanted is None:
        return False
    ordering = _ORDERING.get(comparator)
    if ordering is not None:
        try:
            return ordering(actual, wanted)
        except TypeError:
            return False
    if isinstance(actual, str) and isinstance(wanted, str):
        if wanted.endswith("*"):
            return actual.lower().startswith(wanted[:-1].lower())
        return actual.lower() == wanted.lower()
    return bool(actual == wanted)


@dataclass(frozen=True)
class SearchFields:
    """How one resource answers search terms: accessors by field, and free text."""

    fields: Mapping[str, Accessor]
    timezone: str
    text: Accessor | None = None

    def _wanted(self, sample: object, value: str) -> object:
        if isinstance(sample, datetime):
            return parse_search_time(value, self.timezone)
        if isinstance(sample, bool):
            return value.lower() == "true"
        if isinstance(sample, int):
            digits = value.rsplit("/", 1)[-1]
            return int(digits) if digits.isdigit() else None
        return value

    def _matches_term(self, term: Term, item: object) -> bool:
        if term.field is None:
            if self.text is None or term.value == "":
                return True
            haystack = str(self.text(item) or "").lower()
            return term.value.lower().rstrip("*") in haystack
        accessor = self.fields.get(term.field)
        if accessor is None:
            return True
        actual = accessor(item)
        if term.value == "*":
            return actual not in (None, "", [])
        if isinstance(actual, datetime):
            actual = actual.replace(microsecond=0)
        if isinstance(actual, list | tuple):
            return any(_compare(a, term.comparator, self._wanted(a, term.value)) for a in actual)
        return _compare(actual, term.comparator, self._wanted(actual, term.value))

    def matches(self, expression: Expression, item: object) -> bool:
        if isinstance(expression, Term):
            result = self._matches_term(expression, item)
        elif expression.operator == "OR":
            result = any(self.matches(part, item) for part in expression.parts)
        else:
            result = all(self.matches(part, item) for part in expression.parts)
        return not result if expression.negated else result
