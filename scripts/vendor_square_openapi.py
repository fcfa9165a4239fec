"""Vendor the slice of Square's OpenAPI document that the contract tests check the sandbox against.

Square publishes one 3 MB OpenAPI 3.0 document for its whole API. The tests only need the
operations the sandbox emulates, the webhook events it sends and the schemas those reach, so this
script keeps exactly that, drops the prose (descriptions, enum notes, SDK samples) and writes
compact JSON with sorted keys, so the same source always yields the same bytes.

Square's examples move out of the schemas: an operation's request and response examples go to
its `x-examples`, a webhook event's example goes to the top-level `x-webhook-events`.

Run from the repository root:  .venv/bin/python scripts/vendor_square_openapi.py
"""

import hashlib
import json
from pathlib import Path
from typing import Any

import click

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = REPO_ROOT.parent / "shared" / "square-openapi" / "api.json"
DEFAULT_OUT = REPO_ROOT / "tests" / "data" / "square_openapi_subset.json"
SOURCE_REPOSITORY = "square/connect-api-specification"
SOURCE_RELEASE = "2025-08-20"
SCHEMA_REF_PREFIX = "#/components/schemas/"

OPERATIONS: tuple[tuple[str, str], ...] = (
    ("get", "/v2/locations"),
    ("get", "/v2/catalog/list"),
    ("post", "/v2/catalog/search"),
    ("post", "/v2/inventory/counts/batch-retrieve"),
    ("post", "/v2/inventory/changes/batch-retrieve"),
    ("post", "/v2/orders/search"),
    ("get", "/v2/orders/{order_id}"),
    ("post", "/v2/orders/batch-retrieve"),
    ("post", "/oauth2/token"),
    ("post", "/oauth2/token/status"),
    ("post", "/oauth2/revoke"),
    ("get", "/v2/webhooks/subscriptions"),
    ("post", "/v2/webhooks/subscriptions"),
    ("delete", "/v2/webhooks/subscriptions/{subscription_id}"),
)
EVENT_SCHEMAS: tuple[str, ...] = (
    "PaymentCreatedEvent",
    "PaymentUpdatedEvent",
    "OrderCreatedEvent",
    "OrderUpdatedEvent",
    "InventoryCountUpdatedEvent",
    "CatalogVersionUpdatedEvent",
)

# Square's document contradicts itself in three places the contract tests reach. Each correction
# checks that it is still needed, so a new release fails loudly instead of being patched blindly,
# and is listed in the output's `x-vendored-corrections`.
STAND_IN_SCHEMAS: dict[str, tuple[dict[str, Any], str]] = {
    "CatalogModifierToggleOverrideType": (
        {"type": "string", "enum": ["YES", "NO", "NOT_SET"]},
        "CatalogModifierToggleOverrideType: referenced by CatalogItemModifierListInfo but never"
        " defined; stand-in enum of the values YES, NO, NOT_SET that the referring descriptions"
        " name",
    ),
}
RISK_EVALUATION_NOTE = (
    "RiskEvaluation: dropped 'status' from required; the schema declares no such property and"
    " Square's own payment event examples omit it"
)
CATALOG_EVENT_ID_NOTE = (
    "CatalogVersionUpdatedEventData: declared 'id' as the other event data schemas do; Square's"
    " own catalog.version.updated example sends it"
)

SUBSCHEMA_MAP_KEYWORDS = frozenset({"properties"})
SUBSCHEMA_KEYWORDS = frozenset({"items", "additionalProperties", "not"})
SUBSCHEMA_LIST_KEYWORDS = frozenset({"allOf", "anyOf", "oneOf"})
VALUE_KEYWORDS = frozenset(
    [
        "$ref",
        "type",
        "format",
        "enum",
        "required",
        "nullable",
        "readOnly",
        "writeOnly",
        "default",
        "discriminator",
        "pattern",
        "minLength",
        "maxLength",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "minItems",
        "maxItems",
        "uniqueItems",
        "minProperties",
        "maxProperties",
    ]
)
DOCUMENTARY_KEYWORDS = frozenset(
    [
        "description",
        "example",
        "title",
        "deprecated",
        "x-release-status",
        "x-enum-elements",
        "x-sq-sdk-sample-code",
        "x-since",
        "x-api",
        "x-webhook",
        "x-is-deprecated",
        "x-deprecation",
    ]
)


def prune_schema(schema: dict[str, Any], where: str) -> dict[str, Any]:
    """Keep the keywords a validator reads; fail on any keyword this script does not know."""
    pruned: dict[str, Any] = {}
    for keyword, value in schema.items():
        if keyword in DOCUMENTARY_KEYWORDS:
            continue
        if keyword in SUBSCHEMA_MAP_KEYWORDS:
            pruned[keyword] = {
                name: prune_schema(sub, f"{where}.{keyword}.{name}") for name, sub in value.items()
            }
        elif keyword in SUBSCHEMA_KEYWORDS and isinstance(value, dict):
            pruned[keyword] = prune_schema(value, f"{where}.{keyword}")
        elif keyword in SUBSCHEMA_LIST_KEYWORDS:
            pruned[keyword] = [
                prune_schema(sub, f"{where}.{keyword}[{index}]") for index, sub in enumerate(value)
            ]
        elif keyword in VALUE_KEYWORDS or keyword in SUBSCHEMA_KEYWORDS:
            pruned[keyword] = value
        else:
            raise click.ClickException(f"unknown schema keyword {keyword!r} at {where}")
    return pruned


def schema_refs(node: Any) -> set[str]:
    """Names of the component schemas a pruned schema (or operation) refers to."""
    if isinstance(node, dict):
        found = {name for value in node.values() for name in schema_refs(value)}
        ref = node.get("$ref")
        if isinstance(ref, str):
            if not ref.startswith(SCHEMA_REF_PREFIX):
                raise click.ClickException(f"unsupported reference {ref!r}")
            found.add(ref.removeprefix(SCHEMA_REF_PREFIX))
        return found
    if isinstance(node, list):
        return {name for item in node for name in schema_refs(item)}
    return set()


def referenced_example(source_schemas: dict[str, Any], schema: dict[str, Any]) -> Any:
    """The `example` of the component schema that a body's `$ref` names, if Square gave one."""
    name = schema.get("$ref", "").removeprefix(SCHEMA_REF_PREFIX)
    return source_schemas.get(name, {}).get("example")


def json_schema_of(container: dict[str, Any], where: str) -> dict[str, Any]:
    content = container.get("content", {})
    if "application/json" not in content:
        raise click.ClickException(f"{where} has no application/json content")
    return content["application/json"]["schema"]


def prune_operation(
    operation: dict[str, Any], source_schemas: dict[str, Any], where: str
) -> dict[str, Any]:
    """Keep an operation's id, parameters, JSON request body and JSON responses, plus examples."""
    pruned: dict[str, Any] = {"operationId": operation["operationId"], "responses": {}}
    examples: dict[str, Any] = {}
    if operation.get("parameters"):
        pruned["parameters"] = [
            {
                "in": parameter["in"],
                "name": parameter["name"],
                "required": parameter.get("required", False),
                "schema": prune_schema(parameter["schema"], f"{where} {parameter['name']}"),
            }
            for parameter in operation["parameters"]
        ]
    if "requestBody" in operation:
        body = operation["requestBody"]
        schema = json_schema_of(body, f"{where} request")
        pruned["requestBody"] = {
            "required": body.get("required", False),
            "content": {"application/json": {"schema": prune_schema(schema, f"{where} request")}},
        }
        if (example := referenced_example(source_schemas, schema)) is not None:
            examples["request"] = example
    for status, response in operation["responses"].items():
        schema = json_schema_of(response, f"{where} {status}")
        pruned["responses"][status] = {
            "description": response.get("description", ""),
            "content": {"application/json": {"schema": prune_schema(schema, f"{where} {status}")}},
        }
        if status == "200" and (example := referenced_example(source_schemas, schema)) is not None:
            examples["response"] = example
    if examples:
        pruned["x-examples"] = examples
    return pruned


def webhook_events(source_schemas: dict[str, Any]) -> dict[str, Any]:
    """Map each event type ("payment.created") to its schema name and Square's example."""
    events: dict[str, Any] = {}
    for name in EVENT_SCHEMAS:
        if name not in source_schemas:
            raise click.ClickException(f"event schema {name} is not in components.schemas")
        example = source_schemas[name].get("example")
        if not isinstance(example, dict) or not example.get("type"):
            raise click.ClickException(f"event schema {name} has no example naming its type")
        events[example["type"]] = {"schema": name, "example": example}
    return events


def correct_schemas(schemas: dict[str, Any]) -> list[str]:
    """Fix the two contradictions inside defined schemas; return the notes describing them."""
    risk = schemas["RiskEvaluation"]
    if "status" not in risk.get("required", []) or "status" in risk["properties"]:
        raise click.ClickException(
            f"review this correction, it no longer applies: {RISK_EVALUATION_NOTE}"
        )
    risk["required"].remove("status")
    if not risk["required"]:
        del risk["required"]

    catalog_data = schemas["CatalogVersionUpdatedEventData"]["properties"]
    if "id" in catalog_data:
        raise click.ClickException(
            f"review this correction, it no longer applies: {CATALOG_EVENT_ID_NOTE}"
        )
    catalog_data["id"] = dict(schemas["PaymentCreatedEventData"]["properties"]["id"])
    return [RISK_EVALUATION_NOTE, CATALOG_EVENT_ID_NOTE]


def build_subset(source: dict[str, Any], source_sha256: str) -> dict[str, Any]:
    source_schemas: dict[str, Any] = source["components"]["schemas"]
    paths: dict[str, dict[str, Any]] = {}
    for method, path in OPERATIONS:
        operation = source["paths"].get(path, {}).get(method)
        if operation is None:
            raise click.ClickException(f"{method.upper()} {path} is not in Square's document")
        where = f"{method.upper()} {path}"
        paths.setdefault(path, {})[method] = prune_operation(operation, source_schemas, where)

    schemas: dict[str, Any] = {}
    corrections: list[str] = []
    pending = schema_refs(paths) | set(EVENT_SCHEMAS)
    while pending:
        name = pending.pop()
        if name in schemas:
            continue
        if name in source_schemas:
            schemas[name] = prune_schema(source_schemas[name], name)
        elif name in STAND_IN_SCHEMAS:
            schemas[name], note = STAND_IN_SCHEMAS[name]
            corrections.append(note)
        else:
            raise click.ClickException(f"schema {name} is referenced but defined nowhere")
        pending |= schema_refs(schemas[name]) - schemas.keys()

    corrections += correct_schemas(schemas)
    info = source["info"]
    return {
        "openapi": source["openapi"],
        "info": {"title": info["title"], "version": info["version"], "license": info["license"]},
        "paths": paths,
        "components": {"schemas": schemas},
        "x-vendored-corrections": sorted(corrections),
        "x-webhook-events": webhook_events(source_schemas),
        "x-vendored": {
            "repository": SOURCE_REPOSITORY,
            "release": SOURCE_RELEASE,
            "source_sha256": source_sha256,
            "generator": "scripts/vendor_square_openapi.py",
        },
    }


def render(subset: dict[str, Any]) -> str:
    return json.dumps(subset, sort_keys=True, separators=(",", ":")) + "\n"


@click.command()
@click.option(
    "--source",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=DEFAULT_SOURCE,
    show_default=True,
    help="Square's full OpenAPI document.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_OUT,
    show_default=True,
    help="Where to write the pruned subset.",
)
def main(source: Path, out: Path) -> None:
    """Write the pruned subset of Square's OpenAPI document that the contract tests use."""
    raw = source.read_bytes()
    subset = build_subset(json.loads(raw), hashlib.sha256(raw).hexdigest())
    text = render(subset)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    operations = sum(len(methods) for methods in subset["paths"].values())
    click.echo(
        f"wrote {out}: {len(text.encode()):,} bytes (source {len(raw):,}), {operations} operations,"
        f" {len(subset['components']['schemas'])} schemas, {len(subset['x-webhook-events'])} events"
    )


if __name__ == "__main__":
    main()
