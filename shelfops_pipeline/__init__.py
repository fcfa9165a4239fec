"""ShelfOps: retail catalogs, inventory and sales from Square and Shopify into DuckDB."""
