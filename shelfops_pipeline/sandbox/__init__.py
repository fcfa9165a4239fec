"""A faithful local stand-in for the Square and Shopify APIs, for demos, tests and benchmarks."""
