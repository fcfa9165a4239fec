"""Everything that shapes one sandbox process, gathered so the CLI and the tests build it alike."""

from dataclasses import dataclass, field
from datetime import datetime

from shelfops_pipeline.sandbox.faults import FaultConfig
from shelfops_pipeline.sandbox.shopify.endpoint import GraphQLSettings


@dataclass(frozen=True)
class SandboxSettings:
    """One sandbox: which world it serves, what time it thinks it is, and how badly it behaves."""

    seed: int = 7
    scale: str = "demo"
    frozen_at: datetime | None = None
    days: int | None = None
    faults: FaultConfig = field(default_factory=FaultConfig)
    # Shopify's GraphQL points bucket and bulk operations (pace, injected failures).
    shopify: GraphQLSettings = field(default_factory=GraphQLSettings)
