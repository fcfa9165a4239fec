"""The Square connector: client, typed records, mapping and Dagster resources."""
