"""`python -m shelfops_pipeline.webhooks`: `shelfops webhooks serve` without the rest of the CLI."""

from shelfops_pipeline.webhooks.cli import serve

serve(prog_name="python -m shelfops_pipeline.webhooks")
