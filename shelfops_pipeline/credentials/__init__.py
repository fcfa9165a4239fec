"""Credentials: keys, the encrypted connection store, OAuth state, connect and token refresh."""
