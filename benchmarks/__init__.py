"""Benchmarks run by `make bench`: figures the issues promise, measured as a user would see them."""

import warnings

# Dagster flags its beta and preview APIs on import; the benchmarks' output is their tables.
warnings.filterwarnings("ignore", message=r".*is currently in (beta|preview)")
