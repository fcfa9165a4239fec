"""The Square API emulation: data endpoints, OAuth, errors and webhooks."""
