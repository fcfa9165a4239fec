"""`make demo` runs `shelfops demo`: the sandbox serves and one merchant is paged through."""

import re

from click.testing import CliRunner

from shelfops_pipeline.cli import cli


def test_demo_pages_through_one_merchant_and_reports_what_it_found() -> None:
    result = CliRunner().invoke(cli, ["demo"])
    assert result.exit_code == 0, result.output
    assert re.search(r"catalog\s+\d+ items, \d+ variations", result.output)
    assert re.search(r"orders\s+\d+ closed in the last 24 h .* in [2-9]\d* page", result.output)
    assert re.search(r"sales\s+USD [\d,]+\.\d\d completed", result.output)
