"""Select streams in a tap-shopify catalog with every field the sandbox's schema can serve.

Run with the peer's interpreter: `python shopify_select.py CATALOG SCHEMA STREAM...`. A field is
left out when the tap's own query for the stream, with every other field, fails validation
against the sandbox schema (the sandbox emulates a subset of Shopify's). Rewrites CATALOG and
prints {stream: [left-out fields]} as JSON.
"""

import json
import sys
from pathlib import Path

import tap_shopify.streams  # noqa: F401  (registers the stream classes)
from graphql import build_schema, parse, validate
from tap_shopify.context import Context

catalog_path, schema_path, *wanted = sys.argv[1:]
schema = build_schema(Path(schema_path).read_text())
catalog = json.loads(Path(catalog_path).read_text())
Context.config = {"start_date": "2026-01-01T00:00:00Z"}
Context.catalog = catalog
left_out: dict[str, list[str]] = {}
for entry in catalog["streams"]:
    name = entry["tap_stream_id"]
    selected = name in wanted
    fields = set(entry["schema"]["properties"])
    automatic = {
        m["breadcrumb"][1]
        for m in entry["metadata"]
        if len(m["breadcrumb"]) == 2 and m["metadata"].get("inclusion") == "automatic"
    }
    unsupported: set[str] = set()
    if selected:
        stream = Context.stream_objects[name]()
        for field in sorted(fields - automatic):
            query = stream.remove_fields_from_query(list(fields - automatic - {field}))
            if "%s" in query:
                query = query % "updated_at:>='2026-01-01'"
            if validate(schema, parse(query)):
                unsupported.add(field)
        left_out[name] = sorted(unsupported)
    for meta in entry["metadata"]:
        crumb = meta["breadcrumb"]
        if crumb == []:
            meta["metadata"]["selected"] = selected
        elif meta["metadata"].get("inclusion") == "available":
            meta["metadata"]["selected"] = selected and crumb[-1] not in unsupported
Path(catalog_path).write_text(json.dumps(catalog, indent=1))
sys.stdout.write(json.dumps(left_out) + "\n")
