"""Shopify Admin API emulation over the seeded world: GraphQL, bulk operations, REST, OAuth."""
