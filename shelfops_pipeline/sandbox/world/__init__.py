"""The seeded retail world both emulations serve: merchants, stores, catalog, stock and orders."""
