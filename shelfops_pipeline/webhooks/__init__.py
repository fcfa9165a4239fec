"""Webhooks: a verifying receiver, a durable queue, and a sensor that applies queued events."""
