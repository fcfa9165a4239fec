"""Peer connectors (tap-square, tap-shopify) run unchanged beside our pipeline on the same sandbox.

`templates/` holds the small files we generate around a peer at bench time (a launcher, a name
resolver, a field selector); they are our code and run inside the peer's own environment.
"""
