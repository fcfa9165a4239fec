"""`shelfops` run in-process on one value, and the shape every refusal must have.

A refusal is: a non-zero exit, no traceback, nothing on stdout (the command did no work), and
on stderr exactly one `Error: ...` line, after click's two usage lines for a usage error.
"""

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from click.testing import CliRunner, Result

from shelfops_pipeline.cli import cli
from shelfops_pipeline.credentials.keys import KEYS_ENV
from shelfops_pipeline.credentials.paths import HOME_ENV
from shelfops_pipeline.sandbox.webhook_options import NOTIFICATION_URL_ENV, SIGNATURE_KEY_ENV
from shelfops_pipeline.sources.shopify import oauth as shopify
from shelfops_pipeline.sources.square import oauth as square
from shelfops_pipeline.warehouse.instance import DAGSTER_HOME_ENV
from shelfops_pipeline.webhooks.connection_cli import WEBHOOKS_URL_ENV
from shelfops_pipeline.webhooks.settings import SHOPIFY_SECRET_ENV, SQUARE_KEY_ENV, SQUARE_URL_ENV
from shelfops_pipeline.webhooks.subscribe import SQUARE_APP_TOKEN_ENV

# Every variable the commands under test read; each run starts with all of them unset.
READ_VARIABLES = (
    HOME_ENV, DAGSTER_HOME_ENV, KEYS_ENV, WEBHOOKS_URL_ENV, SQUARE_APP_TOKEN_ENV,
    square.CLIENT_ID_ENV, square.CLIENT_SECRET_ENV, square.BASE_URL_ENV,
    shopify.CLIENT_ID_ENV, shopify.CLIENT_SECRET_ENV, shopify.BASE_URL_ENV,
    SQUARE_KEY_ENV, SQUARE_URL_ENV, SHOPIFY_SECRET_ENV, SIGNATURE_KEY_ENV, NOTIFICATION_URL_ENV,
)  # fmt: skip
USAGE_LINES = ("Usage: shelfops ", "Try 'shelfops ")


def shelfops(
    args: Sequence[str], home: Path | str, env: Mapping[str, str | None] | None = None
) -> Result:
    """`shelfops ARGS` with SHELFOPS_HOME=home, the variables in `env`, and no others of ours."""
    environment: dict[str, str | None] = {name: None for name in READ_VARIABLES}
    environment[HOME_ENV] = str(home)
    environment.update(env or {})
    return CliRunner().invoke(cli, list(args), env=environment, prog_name="shelfops")


def assert_no_traceback(result: Result) -> None:
    unexpected = None if isinstance(result.exception, SystemExit) else result.exception
    assert unexpected is None, f"{type(unexpected).__name__}: {unexpected}\n{result.output}"
    assert "Traceback" not in result.output, result.output


def refusal(result: Result) -> str:
    """The one error line of a refused command, once the refusal's shape is checked."""
    assert_no_traceback(result)
    assert result.exit_code in (1, 2), (result.exit_code, result.output)
    assert result.stdout == "", f"a refused command printed {result.stdout!r}"
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines, "refused without a word"
    *head, last = lines
    assert last.startswith("Error: "), result.stderr
    if result.exit_code == 2:
        assert len(head) == 2, result.stderr
        assert all(line.startswith(p) for line, p in zip(head, USAGE_LINES, strict=True))
    else:
        assert head == [], result.stderr
    return last


def assert_refused(result: Result, names: Iterable[str], fixes: Iterable[str]) -> str:
    """A refusal whose line names one of `names` (the option or variable) and one of `fixes`
    (what to give instead)."""
    line = refusal(result)
    names, fixes = tuple(names), tuple(fixes)
    assert any(name in line for name in names), f"{line!r} names none of {names}"
    assert any(fix in line for fix in fixes), f"{line!r} hints none of {fixes}"
    return line


def assert_moved_on(result: Result, next_check: str, tested: Iterable[str]) -> None:
    """The value was accepted: the command refused at a later check, naming that instead."""
    line = refusal(result)
    assert next_check in line, f"expected the later check {next_check!r}, got {line!r}"
    assert not any(name in line for name in tested), f"{line!r} still names {tuple(tested)}"


def assert_not_echoed(result: Result, secrets: Iterable[str]) -> None:
    for secret in secrets:
        for form in {secret, secret.strip(), repr(secret)[1:-1]}:
            assert form not in result.output, "a secret value was echoed"
