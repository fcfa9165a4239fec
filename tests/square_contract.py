"""Check JSON bodies against Square's own OpenAPI 3.0 schemas.

The schemas come from tests/data/square_openapi_subset.json, a pruned copy of Square's published
document written by scripts/vendor_square_openapi.py, so the checks need nothing outside the repo.

Square sets `additionalProperties` only on map-valued fields (such as `metadata`), never on its
objects, so a plain schema check lets any unknown field through. Strict mode (the default) treats
every object schema that lists `properties` as closed, which catches misspelled or invented
fields. Square's own examples pass in strict mode, except for one field Square has since retired
from its schema (`CatalogItem.visibility` in the catalog search example).

Square declares no `format: date-time` in these schemas (timestamps are plain strings described
as RFC 3339), so the OpenAPI format checker only enforces what is declared, such as `int64`.
"""

import copy
import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any, Literal

from jsonschema.exceptions import ValidationError
from jsonschema.protocols import Validator
from openapi_schema_validator import (
    OAS30ReadValidator,
    OAS30WriteValidator,
    oas30_format_checker,
)
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

SUBSET_PATH = Path(__file__).parent / "data" / "square_openapi_subset.json"
SPEC_URI = "urn:shelfops:square-openapi-subset"
MAX_REPORTED = 5
MAX_MESSAGE_CHARS = 200
Direction = Literal["read", "write"]
SECRET_FIELDS = frozenset(
    {
        "access_token",
        "refresh_token",
        "client_secret",
        "code_verifier",
        "migration_token",
        "signature_key",
    }
)


@cache
def square_spec() -> dict[str, Any]:
    """The vendored subset of Square's OpenAPI document, loaded once."""
    return json.loads(SUBSET_PATH.read_text(encoding="utf-8"))


def documented_operations() -> list[tuple[str, str]]:
    """Every (METHOD, path template) the subset documents, sorted."""
    return sorted(
        (method.upper(), path)
        for path, methods in square_spec()["paths"].items()
        for method in methods
    )


def webhook_event_types() -> dict[str, str]:
    """Map each webhook event type ("payment.created") to its schema ("PaymentCreatedEvent")."""
    return {kind: event["schema"] for kind, event in square_spec()["x-webhook-events"].items()}


def assert_square_reply(
    method: str, path: str, body: Any, status: int = 200, *, strict: bool = True
) -> None:
    """Fail unless `body` is a reply Square documents for this operation and HTTP status.

    `path` is a template ("/v2/orders/{order_id}") or a concrete path ("/v2/orders/ABC"). Square
    declares only a 200 reply per operation and reports failures through the `errors` member of
    that same reply object, so a non-2xx body is checked against it and must carry `errors`.
    """
    template, operation = _operation(method, path)
    responses = operation["responses"]
    declared = str(status) if str(status) in responses else None
    if declared is None and 200 <= status < 300:
        raise AssertionError(
            f"{method.upper()} {template}: Square documents no HTTP {status} reply,"
            f" only {sorted(responses)}"
        )
    key = declared or ("default" if "default" in responses else "200")
    pointer = _pointer("paths", template, method.lower(), "responses", key, "content")
    problems = _violations(f"{pointer}/application~1json/schema", body, "read", strict)
    if status >= 400 and not (isinstance(body, dict) and body.get("errors")):
        problems.append("$.errors: an error reply must carry a non-empty 'errors' list")
    _raise_if_any(problems, f"{operation['operationId']} reply (HTTP {status})", strict)


def assert_square_request(method: str, path: str, body: Any, *, strict: bool = True) -> None:
    """Fail unless `body` is a request body Square documents for this operation (None: no body)."""
    template, operation = _operation(method, path)
    label = f"{operation['operationId']} request"
    request = operation.get("requestBody")
    if request is None:
        if body is not None:
            raise AssertionError(f"{label}: Square documents no request body for this operation")
        return
    if body is None:
        if request["required"]:
            raise AssertionError(f"{label}: Square requires a JSON request body")
        return
    pointer = _pointer("paths", template, method.lower(), "requestBody", "content")
    problems = _violations(f"{pointer}/application~1json/schema", body, "write", strict)
    _raise_if_any(problems, label, strict)


def assert_square_event(event: str, body: Any, *, strict: bool = True) -> None:
    """Fail unless `body` is a webhook event of this type ("payment.created" or its schema name)."""
    types = webhook_event_types()
    by_schema = {schema: kind for kind, schema in types.items()}
    kind = event if event in types else by_schema.get(event)
    if kind is None:
        raise ValueError(f"unknown Square webhook event {event!r}; known: {sorted(types)}")
    problems = _violations(_pointer("components", "schemas", types[kind]), body, "read", strict)
    if isinstance(body, dict) and body.get("type") != kind:
        problems.append(f"$.type: {body.get('type')!r} is not the event type {kind!r}")
    _raise_if_any(problems, f"{types[kind]} event", strict)


def _operation(method: str, path: str) -> tuple[str, dict[str, Any]]:
    """Find the operation by exact template, else by matching a concrete path segment-wise."""
    paths = square_spec()["paths"]
    verb = method.lower()
    if verb in paths.get(path, {}):
        return path, paths[path][verb]
    for template, methods in paths.items():
        if verb in methods and _matches(template, path):
            return template, methods[verb]
    raise ValueError(
        f"Square subset documents no {method.upper()} {path}; known: {documented_operations()}"
    )


def _matches(template: str, path: str) -> bool:
    wanted, actual = template.split("/"), path.split("/")
    return len(wanted) == len(actual) and all(
        want == got or (want.startswith("{") and want.endswith("}") and got != "")
        for want, got in zip(wanted, actual, strict=True)
    )


def _pointer(*segments: str) -> str:
    return "".join("/" + segment.replace("~", "~0").replace("/", "~1") for segment in segments)


@cache
def _validator(pointer: str, direction: Direction, strict: bool) -> Validator:
    """A validator for the schema at `pointer`; "read" for replies/events, "write" for requests."""
    validator_class = OAS30ReadValidator if direction == "read" else OAS30WriteValidator
    return validator_class(
        {"$ref": f"{SPEC_URI}#{pointer}"},
        registry=_registry(strict),
        format_checker=oas30_format_checker,
    )


@cache
def _registry(strict: bool) -> Registry:
    spec = _closed_spec(square_spec()) if strict else square_spec()
    return Registry().with_resource(SPEC_URI, Resource(contents=spec, specification=DRAFT4))


def _closed_spec(spec: dict[str, Any]) -> dict[str, Any]:
    closed = copy.deepcopy(spec)
    for schema in _body_schemas(closed):
        _close_objects(schema)
    return closed


def _body_schemas(spec: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from spec["components"]["schemas"].values()
    for methods in spec["paths"].values():
        for operation in methods.values():
            for body in [operation.get("requestBody", {}), *operation["responses"].values()]:
                for media in body.get("content", {}).values():
                    yield media["schema"]


def _close_objects(schema: dict[str, Any]) -> None:
    """Forbid undeclared properties wherever a schema lists `properties` and says nothing else."""
    for keyword in ("allOf", "anyOf", "oneOf"):
        if keyword in schema:
            # Closing each branch of a combination would reject the other branches' properties.
            raise ValueError(f"strict mode cannot close a schema that uses {keyword}")
    if "properties" in schema:
        schema.setdefault("additionalProperties", False)
        for subschema in schema["properties"].values():
            _close_objects(subschema)
    for keyword in ("items", "additionalProperties"):
        if isinstance(schema.get(keyword), dict):
            _close_objects(schema[keyword])


def _violations(pointer: str, body: Any, direction: Direction, strict: bool) -> list[str]:
    errors = _validator(pointer, direction, strict).iter_errors(body)
    lines = (
        line
        for error in sorted(errors, key=lambda error: (error.json_path, error.message))
        for line in _describe(error)
    )
    return list(dict.fromkeys(lines))


def _describe(error: ValidationError) -> list[str]:
    if error.validator == "additionalProperties" and error.validator_value is False:
        declared = error.schema.get("properties", {})
        return [
            f"{error.json_path}.{name}: not a property Square declares here"
            for name in sorted(set(error.instance) - declared.keys())
        ]
    if error.validator == "type" and error.instance is None:
        # The library reports a null twice ("None for not nullable", "None is not of type ...").
        return [
            f"{error.json_path}: null where Square's schema allows only {error.validator_value}"
        ]
    if _reveals_secret(error):
        return [f"{error.json_path}: value breaks {error.validator!r} (value withheld: secret)"]
    message = error.message
    if len(message) > MAX_MESSAGE_CHARS:
        message = message[: MAX_MESSAGE_CHARS - 1] + "…"
    return [f"{error.json_path}: {message}"]


def _reveals_secret(error: ValidationError) -> bool:
    if SECRET_FIELDS.intersection(map(str, error.absolute_path)):
        return True
    return any(secret in error.message for secret in _secret_strings(error.instance, False))


def _secret_strings(value: Any, under_secret: bool) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _secret_strings(item, under_secret or key in SECRET_FIELDS)
    elif isinstance(value, list):
        for item in value:
            yield from _secret_strings(item, under_secret)
    elif under_secret and value not in (None, ""):
        yield str(value)


def _raise_if_any(problems: list[str], label: str, strict: bool) -> None:
    if not problems:
        return
    mode = "strict" if strict else "open"
    shown = "\n  ".join(problems[:MAX_REPORTED])
    more = f"\n  … and {len(problems) - MAX_REPORTED} more" if len(problems) > MAX_REPORTED else ""
    raise AssertionError(
        f"{label} breaks Square's schema ({mode} mode), {len(problems)} violation(s):\n"
        f"  {shown}{more}"
    )
