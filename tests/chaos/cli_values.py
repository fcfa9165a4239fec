"""Values for the command line and the environment, good and bad, each built knowing whether
it is valid: the rule is decided here from how the value was made, never by running `shelfops`.

Every strategy draws a `Given(text, valid)`; `text` is what goes on the command line or into a
variable. Environment values never hold NUL (the OS cannot carry it); arguments may hold lone
surrogates, which is how Python hands over bytes that are not UTF-8.
"""

import string
from base64 import urlsafe_b64encode
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from hypothesis import strategies as st

ASCII_ID = string.ascii_letters + string.digits
# Python's int() and float() read any script's decimal digits, so click does too.
DIGIT_ZEROS = ("0", "\u0660", "\u0966", "\uff10")
# The bytes Python turns a non-UTF-8 argument into (the surrogateescape range).
UNDECODABLE = st.characters(min_codepoint=0xDC80, max_codepoint=0xDCFF)
ANY_TEXT = st.text(st.characters(exclude_characters="\x00", exclude_categories=["Cs"]), max_size=40)
ODD_TEXT = st.one_of(
    ANY_TEXT,
    st.sampled_from(["", " ", "\t", "\n", "\u3000", "\u200b", "\u202e", "\ufeff", "é", "😀"]),
    st.text(st.characters(categories=["Zs", "Cc", "Cf"], exclude_characters="\x00"), max_size=5),
)


@dataclass(frozen=True)
class Given:
    text: str
    valid: bool


def _digits_in(number: int, zero: str) -> str:
    sign = "-" if number < 0 else ""
    return sign + "".join(chr(ord(zero) + int(d)) for d in str(abs(number)))


def _not_a_number(text: str) -> bool:
    return not any(c.isdigit() or c.isnumeric() for c in text) and text.strip().lower() not in {
        "nan", "inf", "infinity", "-inf", "+inf", "-infinity", "+infinity", "-nan", "+nan",
    }  # fmt: skip


def integers(low: int | None, high: int | None) -> st.SearchStrategy[Given]:
    """An integer option's text: valid iff an integer within [low, high] (None: unbounded)."""

    def within(n: int) -> bool:
        return (low is None or n >= low) and (high is None or n <= high)

    spread = st.one_of(
        st.integers(),
        st.integers(min_value=-(10**40), max_value=10**40),
        st.integers(min_value=(low or 0) - 3, max_value=(high if high is not None else 10) + 3),
    )
    plain = spread.map(lambda n: Given(str(n), within(n)))
    padded = spread.map(lambda n: Given(f"  {n}\t", within(n)))
    scripts = st.builds(
        lambda n, zero: Given(_digits_in(n, zero), within(n)), spread, st.sampled_from(DIGIT_ZEROS)
    )
    fractions = st.builds(lambda n: Given(f"{n}.5", False), spread)
    exponents = st.builds(lambda n: Given(f"{n}e3", False), st.integers(0, 99))
    hexadecimal = st.builds(lambda n: Given(hex(n), False), st.integers(1, 2**40))
    words = ODD_TEXT.filter(_not_a_number).map(lambda t: Given(t, False))
    return st.one_of(plain, padded, scripts, fractions, exponents, hexadecimal, words)


def floats(low: float, high: float | None) -> st.SearchStrategy[Given]:
    """A number option's text: valid iff finite and within [low, high] (None: no upper end)."""

    def within(x: float) -> bool:
        return low <= x and (high is None or x <= high)

    finite = st.floats(allow_nan=False, allow_infinity=False)
    near = st.floats(min_value=low - 2, max_value=(high if high is not None else low + 100) + 2)
    numbers = st.one_of(finite, near).map(lambda x: Given(repr(x), within(x)))
    special = st.sampled_from(["nan", "NaN", "-nan", "inf", "-inf", "Infinity", "+INF", "1e999"])
    specials = special.map(lambda t: Given(t, False))
    words = ODD_TEXT.filter(_not_a_number).map(lambda t: Given(t, False))
    return st.one_of(numbers, specials, words)


def iso_dates(earliest: date, latest: date) -> st.SearchStrategy[tuple[Given, date | None]]:
    """`YYYY-MM-DD` texts (the options' only format) and the date each names, None when it
    names none; valid iff a real calendar date within [earliest, latest]."""

    def build(year: int, month: int, day: int) -> tuple[Given, date | None]:
        try:
            named: date | None = date(year, month, day)
        except ValueError:
            named = None
        valid = named is not None and earliest <= named <= latest
        return Given(f"{year:04d}-{month:02d}-{day:02d}", valid), named

    parts = st.builds(build, st.integers(1, 9999), st.integers(0, 13), st.integers(0, 32))
    inside = st.dates(earliest, latest).map(lambda d: build(d.year, d.month, d.day))
    margin = timedelta(days=400)
    low = earliest - margin if earliest - date.min > margin else date.min
    high = latest + margin if date.max - latest > margin else date.max
    near = st.dates(low, high).map(lambda d: build(d.year, d.month, d.day))
    separators = st.builds(
        lambda d, sep: (Given(d.isoformat().replace("-", sep), False), None),
        st.dates(),
        st.sampled_from(["/", ".", "", " ", "_"]),
    )
    words = ODD_TEXT.filter(lambda t: not any(c.isdigit() for c in t))
    junk = words.map(lambda t: (Given(t, False), None))
    return st.one_of(inside, parts, near, separators, junk)


def _utc(local: datetime, offset: timedelta) -> datetime | None:
    try:
        return (local - offset).replace(tzinfo=UTC)
    except OverflowError:
        return None


def _offset_text(offset: timedelta, zulu: bool) -> str:
    if not offset and zulu:
        return "Z"
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def instants(earliest: datetime, latest: datetime) -> st.SearchStrategy[Given]:
    """RFC 3339 timestamps: valid iff they carry an offset and fall in [earliest, latest) UTC."""
    offsets = st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(lambda m: timedelta(minutes=m))
    local = st.one_of(
        st.datetimes(),
        st.datetimes(min_value=datetime(1960, 1, 1), max_value=datetime(2100, 1, 1)),
        st.sampled_from([datetime.min, datetime.max, datetime(1970, 1, 1), datetime(9999, 1, 1)]),
    )

    def build(moment: datetime, offset: timedelta, zulu: bool) -> Given:
        at = _utc(moment, offset)
        text = moment.isoformat() + _offset_text(offset, zulu)
        return Given(text, at is not None and earliest <= at < latest)

    aware = st.builds(build, local, offsets, st.booleans())
    naive = local.map(lambda m: Given(m.isoformat(), False))
    junk = ODD_TEXT.filter(lambda t: not any(c.isdigit() for c in t)).map(lambda t: Given(t, False))
    return st.one_of(aware, naive, junk)


def customer_ids() -> st.SearchStrategy[Given]:
    """Valid iff 1 to 64 ASCII letters, digits, '-' or '_', the first a letter or digit."""

    def valid(text: str) -> bool:
        allowed = set(ASCII_ID + "-_")
        return 1 <= len(text) <= 64 and text[0] in ASCII_ID and set(text) <= allowed

    good = st.builds(
        lambda head, tail: head + tail,
        st.sampled_from(ASCII_ID),
        st.text(st.sampled_from(ASCII_ID + "-_"), max_size=63),
    )
    marks = st.sampled_from(["|", ",", "\n", " ", "/", ".", "*", "é", "\u200b"])
    spoiled = st.builds(lambda t, mark, at: t[:at] + mark + t[at:], good, marks, st.integers(0, 64))
    undecodable = st.builds(lambda t, c: t + c, good, UNDECODABLE)
    lead = st.builds(lambda t: "-" + t, good)
    too_long = st.integers(65, 300).map(lambda n: "c" * n)
    texts = st.one_of(good, spoiled, undecodable, lead, too_long, ODD_TEXT)
    return texts.map(lambda t: Given(t, valid(t)))


def printable_ids() -> st.SearchStrategy[Given]:
    """Event ids: valid iff not blank and free of control, format and undecodable characters."""
    unprintable = st.characters(categories=["Cc", "Cf", "Zl", "Zp"], exclude_characters="\x00")
    good = st.text(st.characters(categories=["L", "N", "P", "S"]), min_size=1, max_size=40)
    spoiled = st.builds(lambda t, c: t + c, good, st.one_of(unprintable, UNDECODABLE))
    blank = st.text(st.sampled_from(" \u3000\u2003"), max_size=4).map(lambda t: Given(t, False))
    return st.one_of(
        good.map(lambda t: Given(t, True)), spoiled.map(lambda t: Given(t, False)), blank
    )


@dataclass(frozen=True)
class UrlParts:
    """A URL assembled from parts whose effect on validity is known."""

    scheme: str
    user: str
    host: str
    port: str
    path: str
    tail: str

    @property
    def text(self) -> str:
        user = f"{self.user}@" if self.user else ""
        port = f":{self.port}" if self.port else ""
        return f"{self.scheme}://{user}{self.host}{port}{self.path}{self.tail}"

    @property
    def reachable(self) -> bool:
        """An http(s) URL a client can reach: a valid host name and port."""
        return (
            self.scheme.lower() in ("http", "https")
            and self.host in GOOD_HOSTS + LOOPBACK_HOSTS
            and (not self.port or 1 <= int(self.port) <= 65535)
        )

    @property
    def secure(self) -> bool:
        """Where secrets may go: https anywhere, http only on loopback; no user info, no query
        or fragment, even an empty one."""
        on_loopback = self.host in LOOPBACK_HOSTS
        return (
            self.reachable
            and not self.user
            and not self.tail
            and (self.scheme.lower() == "https" or on_loopback)
        )


PASSWORD = "pw-Zq8x7Kp2"  # user info's password: it must never be echoed
LOOPBACK_HOSTS = ("127.0.0.1", "127.8.9.10", "localhost", "[::1]")
GOOD_HOSTS = ("example.com", "a-b.example", "EXAMPLE.COM", "é.example", "x.io", "10.0.0.7")
BAD_HOSTS = ("", "exa mple.com", "a_b.com", "-a.com", "a..b", "a.com-", "x" * 64 + ".com")
PORTS = ("", "1", "443", "8750", "65535", "0", "65536", "99999")


def secure_parts() -> st.SearchStrategy[UrlParts]:
    """Parts of URLs that are all secure: https to any good host, http to loopback."""
    https = st.builds(
        UrlParts,
        scheme=st.sampled_from(["https", "HTTPS"]),
        user=st.just(""),
        host=st.sampled_from(GOOD_HOSTS + LOOPBACK_HOSTS),
        port=st.sampled_from(PORTS[:5]),
        path=st.sampled_from(["", "/", "/square", "/a/b/"]),
        tail=st.just(""),
    )
    http = https.map(lambda u: replace(u, scheme="http", host=LOOPBACK_HOSTS[len(u.path) % 4]))
    return st.one_of(https, http)


def url_parts(
    hosts: tuple[str, ...] = GOOD_HOSTS + LOOPBACK_HOSTS + BAD_HOSTS,
) -> st.SearchStrategy[UrlParts]:
    return st.builds(
        UrlParts,
        scheme=st.sampled_from(["https", "http", "HTTPS", "ftp", "ws"]),
        user=st.sampled_from(["", f"user:{PASSWORD}"]),
        host=st.sampled_from(hosts),
        port=st.sampled_from(PORTS),
        path=st.sampled_from(["", "/", "/square", "/a/b/", "/hooks/é"]),
        tail=st.sampled_from(["", "", "", "?", "?x=1", "#", "#top"]),
    )


def secure_urls() -> st.SearchStrategy[Given]:
    """Base URLs secrets are sent to; valid iff `UrlParts.secure`. Junk has no `://`."""
    built = st.one_of(url_parts(), secure_parts()).map(lambda u: Given(u.text, u.secure))
    junk = ODD_TEXT.filter(lambda t: "://" not in t and t.strip() != "").map(
        lambda t: Given(t, False)
    )
    return st.one_of(built, junk)


def shopify_templates() -> st.SearchStrategy[Given]:
    """Shopify base URL templates: valid iff they name the shop ({shop} as the host, or
    {handle} in the path) and the URL they give for a shop is secure. A shop's domain is a
    valid host name, so `example.com` stands in for it when judging."""

    def build(parts: UrlParts, placement: str) -> Given:
        if placement == "host":
            template = replace(parts, host="{shop}")
            return Given(template.text, replace(parts, host="example.com").secure)
        if placement == "path":
            template = replace(parts, path="/shopify/{handle}")
            return Given(template.text, parts.secure)
        return Given(parts.text, False)

    parts = st.one_of(url_parts(), secure_parts())
    return st.builds(build, parts, st.sampled_from(["host", "path", "path", "none"]))


def fernet_keys() -> st.SearchStrategy[Given]:
    """Fernet keys (32 bytes, url-safe base64), some with spaces around: entries are stripped."""
    keys = st.binary(min_size=32, max_size=32).map(lambda b: urlsafe_b64encode(b).decode("ascii"))
    return st.one_of(
        keys.map(lambda k: Given(k, True)), keys.map(lambda k: Given(f"  {k}\t", True))
    )


def fernet_entries() -> st.SearchStrategy[Given]:
    """One entry of a key list: valid iff a Fernet key. Text shorter than 43 characters, or with
    non-ASCII in it, can never be one."""
    keys = fernet_keys().map(lambda g: g.text.strip())
    cut = st.builds(lambda k, n: Given(k[:n], False), keys, st.integers(0, 42))
    foreign = st.builds(
        lambda k, c: Given(k[:-2] + c + "=", False),
        keys,
        st.characters(min_codepoint=0x80, exclude_categories=["Cs"]),
    )
    letters = st.characters(exclude_characters="\x00,", exclude_categories=["Cs"])
    short = st.text(letters, max_size=42).map(lambda t: Given(t, False))
    return st.one_of(fernet_keys(), cut, foreign, short)


def fernet_lists() -> st.SearchStrategy[list[Given]]:
    """Key lists, often all valid (a rotation's list), often with a bad entry among them."""
    return st.one_of(
        st.lists(fernet_keys(), min_size=1, max_size=4),
        st.lists(fernet_entries(), min_size=1, max_size=4),
    )


def date_ranges(
    earliest: date, latest: date
) -> st.SearchStrategy[tuple[tuple[Given, date | None], ...]]:
    """(start, end) pairs of `iso_dates`, often both valid and in order."""
    ordered = st.lists(st.dates(earliest, latest), min_size=2, max_size=2).map(sorted)
    valid = ordered.map(lambda pair: tuple((Given(d.isoformat(), True), d) for d in pair))
    return st.one_of(valid, st.tuples(iso_dates(earliest, latest), iso_dates(earliest, latest)))


def secrets() -> st.SearchStrategy[Given]:
    """A client secret or signature key: valid iff not blank. The non-blank ones carry a marker
    no message could hold by chance, so finding them in the output means they were echoed."""
    blank = st.text(st.sampled_from(" \t\u3000\u2003"), min_size=1, max_size=4).map(
        lambda t: Given(t, False)
    )
    marked = ANY_TEXT.map(lambda t: Given(f"s3cr3t-{t}", True))
    return st.one_of(blank, marked)
