"""The credential store: tokens encrypted at rest, masked in memory, rotatable, and a key that
cannot decrypt is a clear error naming the connection, never a plaintext fallback."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from credential_helpers import isolate, store_bytes
from cryptography.fernet import Fernet, MultiFernet

from shelfops_pipeline.cli import cli
from shelfops_pipeline.credentials.errors import ConnectionNotFound, CredentialKeyError
from shelfops_pipeline.credentials.keys import generate_key
from shelfops_pipeline.credentials.models import TokenSet
from shelfops_pipeline.credentials.secret import Secret
from shelfops_pipeline.credentials.store import CredentialStore

EXPIRES = datetime(2027, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.fixture(autouse=True)
def home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    isolate(monkeypatch, tmp_path / "home")
    return tmp_path / "home"


def keys(*raw: str) -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in raw])


def tokens(tag: str) -> TokenSet:
    return TokenSet(
        access_token=Secret(f"EAAA-access-{tag}-plaintext-marker"),
        expires_at=EXPIRES,
        refresh_token=Secret(f"EQAA-refresh-{tag}-plaintext-marker"),
    )


def fill(store: CredentialStore) -> list[str]:
    ids = []
    for n, customer in enumerate(("cust-001", "cust-002")):
        connection = store.upsert_connection(
            customer_id=customer,
            source="square",
            account=f"MERCHANT{n}",
            scopes=["ITEMS_READ", "ORDERS_READ"],
            tokens=tokens(customer),
        )
        ids.append(connection.id)
    return ids


def test_round_trip_masks_secrets_in_repr_and_str() -> None:
    store = CredentialStore(keys=keys(generate_key()))
    [first, _] = fill(store)
    connection = store.get(first)
    assert connection.access_token.reveal() == "EAAA-access-cust-001-plaintext-marker"
    assert connection.refresh_token is not None
    assert connection.refresh_token.reveal() == "EQAA-refresh-cust-001-plaintext-marker"
    assert connection.expires_at == EXPIRES
    assert connection.scopes == ("ITEMS_READ", "ORDERS_READ")
    assert connection.status == "active"
    for text in (repr(connection), str(connection), f"{connection.access_token}"):
        assert "plaintext-marker" not in text
    assert str(connection.access_token) == repr(connection.access_token) == "***"
    assert store.find("cust-001", "square") == connection
    assert store.find("cust-001", "shopify") is None
    assert [c.id for c in store.list()] == [first, _]


def test_file_holds_no_plaintext_secret(home: Path) -> None:
    store = CredentialStore(keys=keys(generate_key()))
    fill(store)
    raw = store_bytes(store.path)
    assert b"MERCHANT0" in raw, "the check reads the right file"
    assert b"plaintext-marker" not in raw
    assert b"EAAA" not in raw and b"EQAA" not in raw


def test_reconnecting_keeps_the_id_and_reactivates() -> None:
    store = CredentialStore(keys=keys(generate_key()))
    [first, _] = fill(store)
    store.mark(first, "needs_reauth", "refresh token rejected")
    again = store.upsert_connection(
        customer_id="cust-001",
        source="square",
        account="MERCHANT9",
        scopes=["ITEMS_READ"],
        tokens=tokens("again"),
    )
    assert again.id == first
    assert (again.status, again.last_error, again.account) == ("active", None, "MERCHANT9")
    assert again.access_token.reveal() == "EAAA-access-again-plaintext-marker"


def test_update_tokens_keeps_the_refresh_token_when_none_is_sent() -> None:
    store = CredentialStore(keys=keys(generate_key()))
    [first, _] = fill(store)
    store.mark(first, "active", "Square was down")
    later = EXPIRES + timedelta(days=30)
    updated = store.update_tokens(first, TokenSet(Secret("EAAA-new-plaintext-marker"), later))
    assert updated.access_token.reveal() == "EAAA-new-plaintext-marker"
    assert updated.refresh_token == Secret("EQAA-refresh-cust-001-plaintext-marker")
    assert (updated.expires_at, updated.last_error) == (later, None)


def test_rotation_keeps_every_connection_usable_and_retires_the_old_key() -> None:
    old, new = generate_key(), generate_key()
    ids = fill(CredentialStore(keys=keys(old)))
    before = {i: CredentialStore(keys=keys(old)).get(i) for i in ids}
    assert CredentialStore(keys=keys(new, old)).rotate_keys() == 4
    for connection_id in ids:
        after = CredentialStore(keys=keys(new)).get(connection_id)
        assert after.access_token == before[connection_id].access_token
        assert after.refresh_token == before[connection_id].refresh_token
    with pytest.raises(CredentialKeyError) as raised:
        CredentialStore(keys=keys(old)).get(ids[0])
    message = str(raised.value)
    assert ids[0] in message and "cust-001" in message
    assert "SHELFOPS_ENCRYPTION_KEYS" in message and "old key after the new one" in message
    assert "plaintext-marker" not in message


def test_rotation_with_a_wrong_key_changes_nothing() -> None:
    right = generate_key()
    ids = fill(CredentialStore(keys=keys(right)))
    with pytest.raises(CredentialKeyError, match="cannot be decrypted"):
        CredentialStore(keys=keys(generate_key())).rotate_keys()
    assert CredentialStore(keys=keys(right)).get(ids[1]).customer_id == "cust-002"


def test_overview_needs_no_key_and_unknown_ids_are_clear() -> None:
    fill(CredentialStore(keys=keys(generate_key())))
    keyless = CredentialStore()
    assert [c.customer_id for c in keyless.overview()] == ["cust-001", "cust-002"]
    with pytest.raises(CredentialKeyError, match="no encryption key"):
        keyless.list()
    with pytest.raises(ConnectionNotFound, match="square-missing"):
        keyless.get("square-missing")


def test_cli_rotate_then_old_key_alone_fails_cleanly(monkeypatch: pytest.MonkeyPatch) -> None:
    old, new = generate_key(), generate_key()
    ids = fill(CredentialStore(keys=keys(old)))
    monkeypatch.setenv("SHELFOPS_ENCRYPTION_KEYS", f"{new},{old}")
    rotated = CliRunner().invoke(cli, ["keys", "rotate"])
    assert rotated.exit_code == 0, rotated.output
    assert "re-encrypted 4 stored secrets" in rotated.output
    monkeypatch.setenv("SHELFOPS_ENCRYPTION_KEYS", old)
    failed = CliRunner().invoke(cli, ["keys", "rotate"])
    assert failed.exit_code == 1
    [line] = failed.output.strip().splitlines()
    assert line.startswith("Error: the access token of the square connection")
    assert ids[0] in line or ids[1] in line
    monkeypatch.setenv("SHELFOPS_ENCRYPTION_KEYS", new)
    assert CliRunner().invoke(cli, ["keys", "rotate"]).exit_code == 0


def test_cli_list_shows_health_never_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    store = CredentialStore(keys=keys(generate_key()))
    [first, second] = fill(store)
    store.mark(second, "needs_reauth", "Square refused the refresh token")
    result = CliRunner().invoke(cli, ["connections", "list"])
    assert result.exit_code == 0, result.output
    header, *rows = result.output.strip().splitlines()
    assert header.split()[:4] == ["ID", "CUSTOMER", "SOURCE", "ACCOUNT"]
    assert rows[0].split()[:4] == [first, "cust-001", "square", "MERCHANT0"]
    assert "needs_reauth" in rows[1] and "Square refused the refresh token" in rows[1]
    assert "plaintext-marker" not in result.output


def test_cli_list_with_no_connections_says_how_to_add_one() -> None:
    result = CliRunner().invoke(cli, ["connections", "list"])
    assert result.exit_code == 0
    assert "shelfops connect square --customer" in result.output
