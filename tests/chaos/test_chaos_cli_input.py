"""Bad input, command line and environment: hypothesis draws values for `shelfops` options,
arguments and the variables it reads, each knowing by construction whether it is valid
(`cli_values`). A valid value must be accepted: the command goes on to a later check, or serves,
or answers. A bad one must be refused in one line that names the option or variable and says
what to give instead, with no traceback and no secret echoed (`cli_checks`).

Commands run in-process with click's CliRunner and stop before long work: servers hand their app
to a stub of `uvicorn.run`, and the commands that would connect or sync meet a later refusal
(no encryption key, no connection) that shows the value under test got through.
"""

import json
import stat
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import cli_values as values
import duckdb
import pyarrow as pa
import pytest
from chaos_scale import scaled
from cli_checks import (
    assert_moved_on,
    assert_no_traceback,
    assert_not_echoed,
    assert_refused,
    shelfops,
)
from cli_values import Given
from cryptography.fernet import Fernet
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from shelfops_pipeline.credentials.keys import KEYS_ENV
from shelfops_pipeline.credentials.paths import HOME_ENV, key_file_path
from shelfops_pipeline.sandbox.cli import EARLIEST_NOW, LATEST_NOW
from shelfops_pipeline.sandbox.webhook_options import NOTIFICATION_URL_ENV, SIGNATURE_KEY_ENV
from shelfops_pipeline.sources.shopify import oauth as shopify
from shelfops_pipeline.sources.square import oauth as square
from shelfops_pipeline.warehouse.cli import FIRST_DAY
from shelfops_pipeline.webhooks.connection_cli import WEBHOOKS_URL_ENV
from shelfops_pipeline.webhooks.queue import connect as open_queue
from shelfops_pipeline.webhooks.queue import queue_path
from shelfops_pipeline.webhooks.settings import SHOPIFY_SECRET_ENV, SQUARE_KEY_ENV, SQUARE_URL_ENV

pytestmark = pytest.mark.chaos

QUICK = settings(max_examples=scaled(40, 600), deadline=None)
FEW = settings(QUICK, max_examples=scaled(12, 150))
KEY = Fernet.generate_key().decode("ascii")
SQUARE_APP = ["--customer=cust-001", "--client-id=app-id", "--client-secret=s3cr3t-app"]
SHOPIFY_APP = [*SQUARE_APP, "--shop=harbor-pantry"]
NO_KEY = "no encryption key"
TARGET = "http://127.0.0.1:9/hooks"
LIVE = ["sandbox", "serve", "--scale=small", "--live", f"--webhook-target={TARGET}"]


@pytest.fixture(scope="module", autouse=True)
def working_directory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A scratch working directory: an empty SHELFOPS_HOME means ./data."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path_factory.mktemp("cwd"))
        yield


@pytest.fixture(scope="module")
def new_home(tmp_path_factory: pytest.TempPathFactory) -> Callable[[], Path]:
    base = tmp_path_factory.mktemp("homes")
    return lambda: Path(tempfile.mkdtemp(dir=base))


@pytest.fixture(scope="module")
def served() -> Iterator[list[dict[str, Any]]]:
    """What `uvicorn.run` was asked to serve, in place of serving it."""
    calls: list[dict[str, Any]] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("uvicorn.run", lambda app, **options: calls.append(options))
        yield calls


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home whose warehouse holds a `shelfops.stores` table of awkward values."""
    home = tmp_path_factory.mktemp("warehouse")
    with duckdb.connect(str(home / "warehouse.duckdb")) as db:
        db.execute("CREATE SCHEMA shelfops")
        db.execute(
            "CREATE TABLE shelfops.stores AS SELECT * FROM (VALUES "
            "('s-1', 'Caf\u00e9 \u2603', 12.50::DECIMAL(18, 2), DATE '2026-11-05'), "
            "('s-2', '', NULL, DATE '1970-01-01')) AS t(store_id, name, net, opened)"
        )
    return home


@pytest.fixture(scope="module")
def queue_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("queue")
    open_queue(queue_path(home)).close()
    return home


def as_option(name: str, text: str) -> str:
    """`--name=text`, so a value starting with '-' is not taken for an option."""
    return f"{name}={text}"


# Numbers: every integer and float option of the commands that stop before long work.
SERVE = ["sandbox", "serve", "--scale=small"]
SEND = ["sandbox", "send-webhooks", f"--target={TARGET}"]
NUMBER_CASES = [
    (["webhooks", "serve"], "--port", values.integers(0, 65535), "served"),
    (["webhooks", "serve"], "--max-body-bytes", values.integers(1, None), "served"),
    (SERVE, "--port", values.integers(0, 65535), "served"),
    (SERVE, "--seed", values.integers(None, None), "served"),
    (SERVE, "--days", values.integers(1, 3650), "served"),
    (SERVE, "--webhook-interval", values.floats(0.1, None), "served"),
    (["connect", "square", *SQUARE_APP], "--port", values.integers(0, 65535), NO_KEY),
    (["connect", "square", *SQUARE_APP], "--timeout", values.floats(1, None), NO_KEY),
    (["connect", "shopify", *SHOPIFY_APP], "--timeout", values.floats(1, None), NO_KEY),
    (SEND, "--count", values.integers(1, 100_000), "no webhook signature key"),
    (SEND, "--duplicate-rate", values.floats(0, 1), "no webhook signature key"),
    (SEND, "--retry-unit-seconds", values.floats(0.001, None), "no webhook signature key"),
    (SEND, "--retry-horizon-minutes", values.floats(0, None), "no webhook signature key"),
    (SEND, "--timeout", values.floats(0.001, None), "no webhook signature key"),
    (SEND, "--max-wait", values.floats(0, None), "no webhook signature key"),
]
NUMBER_FIXES = ("range", "integer", "float", "finite number")


@pytest.mark.parametrize(
    ("command", "option", "numbers", "after"),
    NUMBER_CASES,
    ids=[f"{' '.join(c[0][:2])} {c[1]}" for c in NUMBER_CASES],
)
@QUICK
@given(data=st.data())
def test_number_options_take_numbers_in_range_and_refuse_the_rest_naming_the_option(
    command: list[str],
    option: str,
    numbers: st.SearchStrategy[Given],
    after: str,
    data: st.DataObject,
    new_home: Callable[[], Path],
    served: list[dict[str, Any]],
) -> None:
    value = data.draw(numbers)
    before = len(served)
    result = shelfops([*command, as_option(option, value.text)], new_home())
    if not value.valid:
        assert_refused(result, [option], NUMBER_FIXES)
    elif after == "served":
        assert_no_traceback(result)
        assert result.exit_code == 0, result.output
        assert len(served) == before + 1
        if option == "--port":
            assert served[-1]["port"] == int(value.text)
        if option == "--seed":
            assert f"seed {int(value.text)}," in result.stdout
    else:
        assert_moved_on(result, after, [option])


TODAY = datetime.now(UTC).date()


@QUICK
@given(dates=values.date_ranges(FIRST_DAY, TODAY))
def test_sync_takes_business_days_from_the_first_partition_to_today_in_order(
    dates: tuple[tuple[Given, date | None], ...], new_home: Callable[[], Path]
) -> None:
    start, end = dates
    days = [named for _, named in (start, end) if named is not None]
    assume(all(abs((day - TODAY).days) > 1 for day in days))  # no race with midnight
    (start_given, start_day), (end_given, end_day) = start, end
    result = shelfops(
        ["sync", as_option("--start", start_given.text), as_option("--end", end_given.text)],
        new_home(),
    )
    in_order = start_day is not None and end_day is not None and start_day <= end_day
    if start_given.valid and end_given.valid and in_order:
        assert_moved_on(result, "no customer is connected", ["--start", "--end"])
        return
    bad = [o for o, g in (("--start", start_given), ("--end", end_given)) if not g.valid]
    assert_refused(result, bad or ["--start"], ["give", "format"])


@FEW
@given(day=values.iso_dates(EARLIEST_NOW.date(), LATEST_NOW.date() - timedelta(days=1)))
def test_sandbox_truth_takes_any_real_date_the_world_can_hold(
    day: tuple[Given, date | None], new_home: Callable[[], Path]
) -> None:
    result = shelfops(
        ["sandbox", "truth", "--scale=small", as_option("--date", day[0].text)], new_home()
    )
    if day[0].valid:
        assert_no_traceback(result)
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith("transaction_id,customer_id,")
    else:
        assert_refused(result, ["--date"], ["give a date", "format"])


@QUICK
@given(instant=values.instants(EARLIEST_NOW, LATEST_NOW))
def test_sandbox_now_takes_rfc3339_instants_the_world_can_be_frozen_at(
    instant: Given, new_home: Callable[[], Path]
) -> None:
    result = shelfops(
        ["sandbox", "tokens", "--scale=small", as_option("--now", instant.text)], new_home()
    )
    if instant.valid:
        assert_no_traceback(result)
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["merchants"]
    else:
        assert_refused(result, ["--now"], ["e.g. 2026-11-05T12:00:00Z"])


# --customer everywhere: what each command refuses next once the id is accepted.
CUSTOMER_CASES = [
    (["sync", f"--start={FIRST_DAY}", f"--end={FIRST_DAY}"], {}, "has no active connection"),
    (["connect", "square"], {}, "the Square app credentials are missing"),
    (["connect", "shopify", "--shop=harbor-pantry"], {}, "the Shopify app credentials are missing"),
    (["connections", "remove", "--source=square"], {KEYS_ENV: KEY}, "has no square connection"),
    (
        ["webhooks", "subscribe", "--source=shopify", "--webhooks-url=https://hooks.example.com"],
        {KEYS_ENV: KEY},
        "has no shopify connection",
    ),
]


@pytest.mark.parametrize(
    ("command", "env", "after"), CUSTOMER_CASES, ids=[" ".join(c[0][:2]) for c in CUSTOMER_CASES]
)
@QUICK
@given(customer=values.customer_ids())
def test_customer_ids_are_partition_key_safe_or_refused_naming_the_form(
    command: list[str],
    env: dict[str, str],
    after: str,
    customer: Given,
    new_home: Callable[[], Path],
) -> None:
    result = shelfops([*command, as_option("--customer", customer.text)], new_home(), env)
    if customer.valid:
        # The later refusals may suggest `--customer ID`; they do not refuse the one given.
        assert_moved_on(result, after, ["Invalid value for '--customer'"])
    else:
        assert_refused(result, ["--customer"], ["e.g. cust-001"])


SQL_PIECES = [
    "SELECT * FROM shelfops.stores", "SELECT name, net FROM shelfops.stores WHERE net > 1",
    "SELECT count(*) AS n FROM shelfops.stores", "SELECT 1 AS a, 2 AS a", "SELECT NULL AS x",
    "SELECT 1::UNION(a INT, b VARCHAR) AS u", "SELECT 'infinity'::DATE AS d",
    "SELECT '5877642-06-25 (BC)'::DATE AS d", "SELECT 1/0 AS q", "SELECT 'x'::INTEGER",
    "SELECT INTERVAL 1 DAY AS i", "SELECT [1, 2] AS l", "SELECT {'a': 1} AS s",
    "SELECT 1e400 AS big", "SELECT 170141183460469231731687303715884105727::HUGEINT AS h",
    "SELECT * FROM shelfops.nope", "CREATE TABLE t (a INT)", "DROP VIEW shelfops.stores",
    "SELECT 1 WHERE false", "SELECT 1; SELECT 2 AS two", "SELECT '\u2603' AS snow",
    "SELECT * FROM range(3)", "SELEC 1", "SELECT (", "SELECT 'unterminated", "-- only a comment",
]  # fmt: skip


@st.composite
def statements(draw: st.DrawFn) -> str:
    """Whole statements, statements cut or spliced with odd text, and text that is no SQL."""
    piece = draw(st.sampled_from(SQL_PIECES))
    at = draw(st.integers(0, len(piece)))
    odd = draw(values.ANY_TEXT)
    return draw(st.sampled_from([piece, piece[:at], piece[:at] + odd + piece[at:], odd]))


def direct_outcome(home: Path, sql: str) -> str | list[str]:
    """What DuckDB itself makes of the statement, read-only: 'error', 'unshowable' (pandas has
    no column for a result type), or the result's column names."""
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as db:
        try:
            relation = db.sql(sql)
            if relation is None:
                return []
            table = relation.to_arrow_table()
        except duckdb.Error:
            return "error"
        try:
            table.to_pandas()
        except (pa.ArrowException, ValueError, OverflowError):
            return "unshowable"
        return list(table.column_names)


@QUICK
@given(sql=statements())
@example(sql="SELECT 1e400 AS \x1ebig")
def test_query_answers_what_duckdb_answers_and_refuses_the_rest_in_one_line(
    sql: str, warehouse: Path
) -> None:
    expected = "error" if not sql.strip() else direct_outcome(warehouse, sql)
    result = shelfops(["query", "--", sql], warehouse)
    if expected == "error":
        # "Error: Parser Error: ...": DuckDB's kind of error names what is wrong with the SQL.
        assert_refused(result, ["no SQL given", " Error: "], ["SELECT * FROM shelfops.stores"])
    elif expected == "unshowable":
        assert_refused(result, ["cannot be shown"], ["CAST("])
    else:
        assert_no_traceback(result)
        assert result.exit_code == 0, result.output
        # Column names head the table, or are listed under an empty one ("Columns: [...]").
        # Split at newlines only: splitlines() also splits inside a name holding \x1e or \u2028.
        lines = result.stdout.split("\n")
        header = lines[1] if lines[0] == "Empty DataFrame" else lines[0]
        assert all(name in header for name in expected), (expected, result.stdout)


@QUICK
@given(entries=values.fernet_lists())
def test_encryption_keys_variable_takes_fernet_keys_and_never_echoes_one(
    entries: list[Given], new_home: Callable[[], Path]
) -> None:
    text = ",".join(entry.text for entry in entries)
    result = shelfops(["keys", "rotate"], new_home(), {KEYS_ENV: text})
    if all(entry.valid for entry in entries):
        assert_no_traceback(result)
        assert result.exit_code == 0, result.output
        assert "re-encrypted 0 stored secrets" in result.stdout
    else:
        assert_refused(result, [KEYS_ENV], ["shelfops keys generate", "shelfops keys init"])
    assert_not_echoed(result, [e.text for e in entries if len(e.text.strip()) >= 20])


@QUICK
@given(
    lines=st.lists(
        st.one_of(
            values.fernet_entries(), st.just(Given("# a comment", True)), st.just(Given("", True))
        ),
        max_size=5,
    ),
    odd_bytes=st.booleans(),
)
def test_key_file_lines_must_be_fernet_keys_and_none_is_echoed(
    lines: list[Given], odd_bytes: bool, new_home: Callable[[], Path]
) -> None:
    home = new_home()
    path = key_file_path(home)
    path.parent.mkdir(mode=0o700)
    content = "\n".join(line.text for line in lines).encode("utf-8")
    content += b"\xff" if odd_bytes else b""
    path.write_bytes(content)
    path.chmod(stat.S_IRUSR | stat.S_IWUSR)
    keys = [line for line in lines if line.text.strip() and not line.text.startswith("#")]
    readable = content.isascii()
    result = shelfops(["keys", "rotate"], home)
    if readable and keys and all(line.valid for line in keys):
        assert_no_traceback(result)
        assert result.exit_code == 0, result.output
    else:
        assert_refused(result, [str(path)], ["shelfops keys generate", KEYS_ENV])
    assert_not_echoed(result, [line.text for line in lines if len(line.text.strip()) >= 20])


@st.composite
def homes(draw: st.DrawFn, base: Path) -> Given:
    """A SHELFOPS_HOME value: a directory that is there or can be made is valid; a file, a path
    under a file, a name too long for the file system, or one with a line-breaking character
    (it would split every message showing the path) is not. (Names stay decodable: the runner's
    streams are strict UTF-8 where a terminal's replace what they cannot show.)"""
    name = draw(
        st.text(
            st.characters(exclude_characters="/\x00", exclude_categories=["Cs", "Cc", "Zl", "Zp"]),
            min_size=1,
            max_size=30,
        ).filter(lambda n: len(n.encode()) <= 255 and n not in (".", ".."))
    )
    folder = Path(tempfile.mkdtemp(dir=base))
    plain_file = folder / "file"
    plain_file.write_text("not a directory")
    kinds = ["new", "existing", "relative", "default", "file", "under file", "long", "broken"]
    kind = draw(st.sampled_from(kinds))
    breaking = draw(st.sampled_from(["\n", "\r", "\t", "\x1b", "\x85", "\u2028"]))
    return {
        "new": Given(str(folder / name / "home"), True),
        "existing": Given(str(folder), True),
        "relative": Given(name, True),
        "default": Given("", True),
        "file": Given(str(plain_file), False),
        "under file": Given(str(plain_file / name), False),
        "long": Given(str(folder / ("x" * 256)), False),
        "broken": Given(str(folder / f"{name}{breaking}home"), False),
    }[kind]


HOME_CASES = [
    (["connections", "list"], "no connections yet"),
    (["keys", "init"], "encryption key"),
    (["webhooks", "serve"], "webhooks: receiving at"),
]


@pytest.mark.parametrize(
    ("command", "answer"), HOME_CASES, ids=[" ".join(c[0]) for c in HOME_CASES]
)
@QUICK
@given(data=st.data())
def test_home_must_be_a_directory_that_is_or_can_be_made(
    command: list[str],
    answer: str,
    data: st.DataObject,
    tmp_path_factory: pytest.TempPathFactory,
    served: list[dict[str, Any]],
) -> None:
    home = data.draw(homes(tmp_path_factory.getbasetemp()))
    result = shelfops(command, home.text)
    if home.valid:
        assert_no_traceback(result)
        assert result.exit_code == 0, result.output
        assert answer in result.output
    else:
        assert_refused(result, [HOME_ENV], ["writable directory", "elsewhere", "plain directory"])


APP_VARIABLES = [
    ("square", square.CLIENT_ID_ENV, "--client-id"),
    ("square", square.CLIENT_SECRET_ENV, "--client-secret"),
    ("shopify", shopify.CLIENT_ID_ENV, "--client-id"),
    ("shopify", shopify.CLIENT_SECRET_ENV, "--client-secret"),
]


@pytest.mark.parametrize(
    ("provider", "variable", "option"), APP_VARIABLES, ids=[v[1] for v in APP_VARIABLES]
)
@QUICK
@given(value=values.secrets())
def test_app_credentials_from_the_environment_are_not_blank_and_never_echoed(
    provider: str, variable: str, option: str, value: Given, new_home: Callable[[], Path]
) -> None:
    other = "--client-secret=s3cr3t-app" if option == "--client-id" else "--client-id=app-id"
    shop = ["--shop=harbor-pantry"] if provider == "shopify" else []
    result = shelfops(
        ["connect", provider, "--customer=cust-001", other, *shop],
        new_home(),
        {variable: value.text},
    )
    if value.valid:
        assert_moved_on(result, NO_KEY, [variable])
    else:
        assert_refused(result, [variable], ["give the real value"])
    assert_not_echoed(result, [value.text] if value.valid else [])


URL_CASES = [
    (["connect", "square", *SQUARE_APP], "--base-url", square.BASE_URL_ENV, values.secure_urls(), NO_KEY, {}),
    (["connect", "shopify", *SHOPIFY_APP], "--base-url", shopify.BASE_URL_ENV, values.shopify_templates(), NO_KEY, {}),
    (
        ["webhooks", "subscribe", "--customer=cust-001", "--source=square"],
        "--webhooks-url", WEBHOOKS_URL_ENV, values.secure_urls(), "has no square connection", {KEYS_ENV: KEY},
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("command", "option", "variable", "urls", "after", "env"),
    URL_CASES,
    ids=[c[2] for c in URL_CASES],
)
@QUICK
@given(data=st.data(), through_variable=st.booleans())
def test_urls_secrets_go_to_are_https_or_loopback_by_option_or_variable(
    command: list[str],
    option: str,
    variable: str,
    urls: st.SearchStrategy[Given],
    after: str,
    env: dict[str, str],
    data: st.DataObject,
    through_variable: bool,
    new_home: Callable[[], Path],
) -> None:
    url = data.draw(urls)
    given_as = {variable: url.text} if through_variable else {}
    args = [] if through_variable else [as_option(option, url.text)]
    result = shelfops([*command, *args], new_home(), {**env, **given_as})
    if url.valid:
        assert_moved_on(result, after, [option])
    else:
        line = assert_refused(result, [option], ["https", "e.g.", "give", "user info", "query"])
        assert variable in line
    assert_not_echoed(result, [values.PASSWORD])


@QUICK
@given(
    url=st.one_of(st.none(), values.url_parts().map(lambda u: Given(u.text, u.reachable))),
    square_key=st.one_of(st.none(), values.secrets()),
    shopify_secret=st.one_of(st.none(), values.secrets()),
)
def test_receiver_secrets_are_not_blank_and_its_square_url_is_reachable(
    url: Given | None,
    square_key: Given | None,
    shopify_secret: Given | None,
    new_home: Callable[[], Path],
    served: list[dict[str, Any]],
) -> None:
    env = {
        name: given_value.text
        for name, given_value in (
            (SQUARE_URL_ENV, url),
            (SQUARE_KEY_ENV, square_key),
            (SHOPIFY_SECRET_ENV, shopify_secret),
        )
        if given_value is not None
    }
    result = shelfops(["webhooks", "serve"], new_home(), env)
    bad = [
        name
        for name, given_value in (
            (SQUARE_URL_ENV, url),
            (SQUARE_KEY_ENV, square_key),
            (SHOPIFY_SECRET_ENV, shopify_secret),
        )
        if given_value is not None and not given_value.valid
    ]
    if bad:
        assert_refused(result, bad, ["set it to", "unset it"])
    else:
        assert_no_traceback(result)
        assert result.exit_code == 0, result.output
        assert ("Square deliveries are refused" in result.stderr) == (square_key is None)
        assert ("Shopify deliveries are refused" in result.stderr) == (shopify_secret is None)
    secrets = [g.text for g in (square_key, shopify_secret) if g is not None and g.valid]
    assert_not_echoed(result, [*secrets, values.PASSWORD])


@QUICK
@given(
    target=values.url_parts(values.GOOD_HOSTS + values.LOOPBACK_HOSTS).map(
        lambda u: Given(u.text, u.scheme.lower() in ("http", "https"))
    ),
    option=st.sampled_from(["--webhook-target", "--shopify-webhook-target", NOTIFICATION_URL_ENV]),
    key=values.secrets(),
)
def test_sandbox_live_webhooks_need_http_targets_and_a_key_that_is_not_blank(
    target: Given,
    option: str,
    key: Given,
    new_home: Callable[[], Path],
    served: list[dict[str, Any]],
) -> None:
    env = {SIGNATURE_KEY_ENV: key.text}
    if option == NOTIFICATION_URL_ENV:
        env[NOTIFICATION_URL_ENV] = target.text
        args = LIVE
    elif option == "--webhook-target":
        args = [*LIVE[:-1], as_option(option, target.text)]
    else:
        args = [*LIVE, as_option(option, target.text)]
    result = shelfops(args, new_home(), env)
    if not key.valid:
        assert_refused(result, [SIGNATURE_KEY_ENV], ["give the real value"])
    elif not target.valid:
        assert_refused(result, ["webhook target", "notification URL"], ["http(s) URL"])
    else:
        assert_no_traceback(result)
        assert result.exit_code == 0, result.output
        shown = target.text if option != NOTIFICATION_URL_ENV else TARGET
        assert (
            f"live {'Shopify' if option == '--shopify-webhook-target' else 'Square'} webhooks to {shown}"
            in result.stdout
        )
    assert_not_echoed(result, [key.text] if key.valid else [])


@QUICK
@given(event_id=values.printable_ids())
def test_replay_takes_printable_event_ids(event_id: Given, queue_home: Path) -> None:
    result = shelfops(["webhooks", "replay", as_option("--event-id", event_id.text)], queue_home)
    if event_id.valid:
        assert_no_traceback(result)
        assert result.exit_code == 0, result.output
        assert result.stdout == "replayed 0 of 1: the others are not dead letters\n"
    else:
        assert_refused(result, ["--event-id"], ["give one like"])
