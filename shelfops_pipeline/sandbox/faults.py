"""Placeholder: rate budgets and fault injection (being written)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class FaultConfig:
    """How the sandbox misbehaves; the defaults behave perfectly."""
