"""Command-line value types the `shelfops` commands share: each refuses a bad value at parse time
with one line naming the option and the form it takes, before any command does work with it."""

import math
import os
import re
import unicodedata

import click

from shelfops_pipeline.credentials.paths import HOME_ENV

CUSTOMER_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
# Unicode's control, surrogate and unassigned categories: none belongs in an id or a host name.
UNPRINTABLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
# Characters that end a line (str.splitlines), as a pasted newline would.
LINE_BREAKING_CATEGORIES = frozenset({"Cc", "Zl", "Zp"})


class CustomerId(click.ParamType):
    """A customer id: it becomes part of Dagster partition keys (`cust-001|2026-11-05`) and of
    file names, so only ASCII letters, digits, '-' and '_' are allowed."""

    name = "customer id"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> str:
        text = str(value)
        if not CUSTOMER_ID_PATTERN.fullmatch(text):
            self.fail(
                f"{text!r} is not a customer id: give 1 to 64 ASCII letters, digits, '-' or '_', "
                "starting with a letter or digit, e.g. cust-001",
                param,
                ctx,
            )
        return text


# The `--customer` option of the commands that act on one customer's connection.
customer_option = click.option(
    "--customer", "customer_id", type=CustomerId(), required=True,
    help="The customer id, e.g. cust-001.",
)  # fmt: skip


class PrintableText(click.ParamType):
    """Non-blank text without control characters or undecodable bytes, e.g. an event id."""

    def __init__(self, name: str, example: str) -> None:
        self.name = name
        self.example = example

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> str:
        text = str(value)
        if not text.strip() or any(unicodedata.category(c) in UNPRINTABLE_CATEGORIES for c in text):
            self.fail(
                f"{text!r} is not a printable {self.name}; give one like {self.example}", param, ctx
            )
        return text


class FiniteFloatRange(click.FloatRange):
    """click.FloatRange without NaN and infinity: NaN passes every range comparison, and an
    infinite wait or rate is never what an operator means."""

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        number: float = super().convert(value, param, ctx)
        if not math.isfinite(number):
            low = "" if self.min is None else f" from {self.min:g}"
            high = "" if self.max is None else f" up to {self.max:g}"
            self.fail(f"{value!r} is not a finite number; give a number{low}{high}", param, ctx)
        return number


def not_blank(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Callback for credential options: a value of only spaces is refused (and not echoed, as
    it may be a secret); None (not given) passes through. click's message names the option and,
    with show_envvar, its variable."""
    if value is not None and not value.strip():
        raise click.BadParameter("it is blank; give the real value", ctx, param)
    return value


def check_home_variable() -> None:
    """Refuse a SHELFOPS_HOME holding a control character (a pasted newline, say): every message
    that shows a path under it would break across lines. Run before any subcommand."""
    home = os.environ.get(HOME_ENV, "")
    if any(unicodedata.category(c) in LINE_BREAKING_CATEGORIES for c in home):
        raise click.ClickException(
            f"{HOME_ENV}={home!r} holds a control character; set it to a plain directory path"
        )
