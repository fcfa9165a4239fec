"""What every Square handler needs: the world, the caller's merchant and the instant of the call."""

from dataclasses import dataclass
from datetime import datetime

from shelfops_pipeline.sandbox.square.errors import SquareError
from shelfops_pipeline.sandbox.square.serialize import SquareSerializer
from shelfops_pipeline.sandbox.world.entities import Store
from shelfops_pipeline.sandbox.world.world import World


@dataclass(frozen=True)
class SquareCall:
    world: World
    serializer: SquareSerializer
    merchant_id: str
    now: datetime
    square_version: str

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
