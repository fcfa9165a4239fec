"""ListCatalog and SearchCatalogObjects over the merchant's catalog as of the first page's time."""

from datetime import UTC, datetime
from typing import Any

from shelfops_pipeline.sandbox.square import validation
from shelfops_pipeline.sandbox.square.context import SquareCall
from shelfops_pipeline.sandbox.square.cursors import decode_cursor
from shelfops_pipeline.sandbox.square.errors import SquareError
from shelfops_pipeline.sandbox.square.paging import page
from shelfops_pipeline.sandbox.timestamps import rfc3339

LIST_PAGE_SIZE = 100
EMULATED_TYPES = frozenset(
    {"ITEM", "ITEM_VARIATION", "CATEGORY", "TAX", "DISCOUNT", "MEASUREMENT_UNIT"}
)
KNOWN_TYPES = EMULATED_TYPES | {
    "IMAGE", "MODIFIER_LIST", "MODIFIER", "PRICING_RULE", "PRODUCT_SET", "TIME_PERIOD",
    "SUBSCRIPTION_PLAN", "ITEM_OPTION", "ITEM_OPTION_VAL", "CUSTOM_ATTRIBUTE_DEFINITION",
    "QUICK_AMOUNT_SETTINGS", "SUBSCRIPTION_PLAN_VARIATION", "AVAILABILITY_PERIOD",
}  # fmt: skip
# ListCatalog's default types; variations only come nested inside their items.
LIST_DEFAULT_TYPES = KNOWN_TYPES - {"ITEM_VARIATION", "IMAGE", "MODIFIER", "ITEM_OPTION_VAL"}
_TYPE_ORDER = ("CATEGORY", "TAX", "DISCOUNT", "MEASUREMENT_UNIT", "ITEM", "ITEM_VARIATION")


def catalog_objects(
    call: SquareCall, types: set[str], at: datetime, include_deleted: bool
) -> list[dict[str, Any]]:
    """Every catalog object of `types` as it stood at `at`, in a stable order."""
    world, serializer, merchant = call.world, call.serializer, call.merchant_id
    store = call.stores()[0]
    history_start = world.history_start
    objects: list[dict[str, Any]] = []
    fixed = serializer.merchant_objects(merchant, store.tax_percent, store.country, history_start)
    objects.extend(o for o in fixed if o["type"] in types)
    if "CATEGORY" in types:
        objects.extend(serializer.category(c) for c in world.categories(merchant))
    for item in world.items(merchant):
        if item.created_at > at:
            continue
        deleted = item.deleted_at is not None and item.deleted_at <= at
        if deleted and not include_deleted:
            continue
        if "ITEM" in types:
            objects.append(serializer.item(item, store.currency, at, call.wants_item_category_id))
        if "ITEM_VARIATION" in types:
            objects.extend(serializer.variations(item, store.currency, at))
    objects.sort(key=lambda o: (_TYPE_ORDER.index(o["type"]), o["id"]))
    return objects


def _types(raw: list[str], field: str) -> set[str]:
    types = {t.strip().upper() for t in raw if t.strip()}
    unknown = types - KNOWN_TYPES
    if unknown:
        raise SquareError(
            "INVALID_ENUM_VALUE", f"`{sorted(unknown)[0]}` is not a catalog object type.", field
        )
    return types


def list_catalog(call: SquareCall, query: dict[str, str]) -> dict[str, Any]:
    unknown = set(query) - {"cursor", "types", "catalog_version"}
    if unknown:
        raise SquareError(
            "UNKNOWN_QUERY_PARAMETER",
            f"Unknown query parameter `{sorted(unknown)[0]}`.",
            sorted(unknown)[0],
        )
    types = _types(query["types"].split(","), "types") if query.get("types") else LIST_DEFAULT_TYPES
    request = {"types": sorted(types), "catalog_version": query.get("catalog_version")}
    state = decode_cursor(request, query.get("cursor"), call.now)
    at = state.started_at
    if query.get("catalog_version"):
        try:
            version_at = datetime.fromtimestamp(int(query["catalog_version"]) / 1000, UTC)
        except (ValueError, OverflowError) as error:
            raise SquareError(
                "INVALID_VALUE", "`catalog_version` must be an integer.", "catalog_version"
            ) from error
        at = min(at, version_at)
    objects = catalog_objects(call, set(types), at, include_deleted=False)
    chunk, next_cursor = page(objects, request, state, LIST_PAGE_SIZE)
    reply: dict[str, Any] = {"objects": list(chunk)} if chunk else {}
    if next_cursor:
        reply["cursor"] = next_cursor
    return reply


def search_catalog(call: SquareCall, body: dict[str, Any]) -> dict[str, Any]:
    if body.get("query"):
        raise SquareError(
            "BAD_REQUEST",
            "The sandbox emulates SearchCatalogObjects without `query`; filter by object_types and begin_time.",
            "query",
        )
    raw_types = validation.string_list(body, "object_types")
    types = _types(raw_types, "object_types") if raw_types else set(LIST_DEFAULT_TYPES)
    include_deleted = validation.boolean(body, "include_deleted_objects")
    validation.boolean(body, "include_related_objects")
    begin_time = validation.timestamp(body, "begin_time")
    size = body.get("limit")
    # Square treats limit as advisory: out-of-range values fall back to the default.
    page_size = size if isinstance(size, int) and 0 < size <= 1000 else LIST_PAGE_SIZE
    state = decode_cursor(body, validation.cursor(body), call.now)
    objects = catalog_objects(call, types, state.started_at, include_deleted)
    if begin_time is not None:
        objects = [o for o in objects if o["version"] > begin_time.timestamp() * 1000]
    chunk, next_cursor = page(objects, body, state, page_size)
    reply: dict[str, Any] = {"objects": list(chunk)} if chunk else {}
    if next_cursor:
        reply["cursor"] = next_cursor
    versions = [
        o["version"] for o in catalog_objects(call, set(KNOWN_TYPES), state.started_at, True)
    ]
    if versions:
        latest = datetime.fromtimestamp(max(versions) / 1000, UTC)
        reply["latest_time"] = rfc3339(latest)
    return reply
