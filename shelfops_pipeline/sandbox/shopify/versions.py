"""Shopify API versions: which ones the sandbox serves, and the fall-forward rule for the rest.

Shopify releases a stable version each quarter (YYYY-01/04/07/10) and supports each for at least
twelve months. A request naming a version it no longer supports, or one it never released, is
served by the oldest supported stable version; `X-Shopify-API-Version` tells which one served it.
"""

import re

CURRENT_STABLE = "2026-10"
SUPPORTED_VERSIONS: tuple[str, ...] = ("2025-10", "2026-01", "2026-04", "2026-07", CURRENT_STABLE)
RELEASE_CANDIDATE = "2027-01"
UNSTABLE = "unstable"
# From 2026-01 a shop may run up to five bulk query operations at once; before, one.
MULTIPLE_BULK_QUERIES_SINCE = "2026-01"
# From 2026-01 `bulkOperationRunQuery(groupObjects:)` defaults to false; before, to true.
UNGROUPED_BULK_OUTPUT_SINCE = "2026-01"
_VERSION_NAME = re.compile(r"^\d{4}-\d{2}$")


def served_version(requested: str) -> str | None:
    """The version that answers a request for `requested`; None when it is not a version name."""
    if requested in (*SUPPORTED_VERSIONS, RELEASE_CANDIDATE, UNSTABLE):
        return requested
    if _VERSION_NAME.match(requested):
        return SUPPORTED_VERSIONS[0]
    return None


def at_least(version: str, minimum: str) -> bool:
    """Whether `version` is `minimum` or newer; `unstable` is newer than every release."""
    return version == UNSTABLE or version >= minimum
