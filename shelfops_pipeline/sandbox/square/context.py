"""What every Square handler needs: the world, the caller's merchant and application, and the
instant of the call."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shelfops_pipeline.sandbox.result_cache import ResultCache
from shelfops_pipeline.sandbox.square.cursors import PageState, fingerprint
from shelfops_pipeline.sandbox.square.errors import SquareError
from shelfops_pipeline.sandbox.square.serialize import SquareSerializer
from shelfops_pipeline.sandbox.square.subscriptions import WebhookSubscriptions
from shelfops_pipeline.sandbox.world.entities import Store
from shelfops_pipeline.sandbox.world.world import World


@dataclass(frozen=True)
class SquareCall:
    world: World
    serializer: SquareSerializer
    merchant_id: str
    now: datetime
    square_version: str
    results: ResultCache
    client_id: str
    subscriptions: WebhookSubscriptions

    def cached(
        self, name: str, body: dict[str, Any], state: PageState, compute: Callable[[], list[Any]]
    ) -> list[Any]:
        """The full result of this query at the paging snapshot, computed once per snapshot."""
        key = (name, self.merchant_id, self.square_version, fingerprint(body), state.started_at)
        return self.results.get_or_compute(key, compute)

    @property
    def wants_item_category_id(self) -> bool:
        """`item_data.category_id` was dropped from replies in Square-Version 2023-12-13."""
        return self.square_version < "2023-12-13"

    def stores(self) -> list[Store]:
        return self.world.stores_of(self.merchant_id)

    def own_stores(self, location_ids: list[str], field: str) -> list[Store]:
        """The caller's stores named by `location_ids`; any other id is a client error."""
        own = {s.id: s for s in self.stores()}
        unknown = [i for i in location_ids if i not in own]
        if unknown:
            raise SquareError(
                "INVALID_VALUE", f"Location `{unknown[0]}` was not found for this merchant.", field
            )
        return [own[i] for i in location_ids]
