"""Provider connectors: one subpackage per source, with the same module names in each."""
