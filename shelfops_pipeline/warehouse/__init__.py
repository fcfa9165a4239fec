"""The unified model every source maps into, and how it is stored: Parquet lake and DuckDB."""
