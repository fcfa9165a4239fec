"""Select streams (breadcrumb []) in a discovered Singer catalog: `python square_select.py
CATALOG STREAM...`; rewrites CATALOG. Every field of a selected stream keeps the tap's default."""

import json
import sys
from pathlib import Path

catalog_path, *wanted = sys.argv[1:]
catalog = json.loads(Path(catalog_path).read_text())
for entry in catalog["streams"]:
    for meta in entry["metadata"]:
        if meta["breadcrumb"] == []:
            meta["metadata"]["selected"] = entry["tap_stream_id"] in wanted
Path(catalog_path).write_text(json.dumps(catalog, indent=1))
