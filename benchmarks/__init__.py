"""Benchmarks run by `make bench`: figures the issues promise, measured as a user would see them."""
