"""Encryption keys: SHELFOPS_ENCRYPTION_KEYS (newest first) or the local key file, and clear
errors when a key is missing or malformed, never showing the key."""

import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from credential_helpers import isolate
from cryptography.fernet import Fernet

from shelfops_pipeline.cli import cli
from shelfops_pipeline.credentials.errors import CredentialKeyError
from shelfops_pipeline.credentials.keys import ensure_local_key_file, generate_key, load_keys
from shelfops_pipeline.credentials.paths import key_file_path, store_path


@pytest.fixture(autouse=True)
def home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    isolate(monkeypatch, tmp_path / "home")
    return tmp_path / "home"


def test_env_keys_are_newest_first_and_all_decrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    old, new = generate_key(), generate_key()
    monkeypatch.setenv("SHELFOPS_ENCRYPTION_KEYS", f" {new} , {old} ")
    keys = load_keys()
    assert keys.decrypt(Fernet(old.encode()).encrypt(b"from the old key")) == b"from the old key"
    assert Fernet(new.encode()).decrypt(keys.encrypt(b"x")) == b"x"


def test_missing_key_names_the_variable_and_the_commands(home: Path) -> None:
    with pytest.raises(CredentialKeyError) as raised:
        load_keys()
    message = str(raised.value)
    assert "SHELFOPS_ENCRYPTION_KEYS" in message
    assert "shelfops keys generate" in message
    assert "shelfops keys init" in message
    assert str(key_file_path(home)) in message


def test_malformed_env_key_is_named_by_position_not_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHELFOPS_ENCRYPTION_KEYS", f"{generate_key()},not-a-key-abc")
    with pytest.raises(CredentialKeyError) as raised:
        load_keys()
    assert "entry 2 of 2" in str(raised.value)
    assert "not-a-key-abc" not in str(raised.value)


def test_empty_entry_in_env_is_malformed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHELFOPS_ENCRYPTION_KEYS", f"{generate_key()},,")
    with pytest.raises(CredentialKeyError, match="entry 2 of 3"):
        load_keys()


def test_key_file_is_created_private_once_and_then_used(home: Path) -> None:
    created = ensure_local_key_file()
    assert created == key_file_path(home)
    assert stat.S_IMODE(created.stat().st_mode) == 0o600
    assert stat.S_IMODE(created.parent.stat().st_mode) == 0o700
    assert ensure_local_key_file() is None
    key = created.read_text().strip()
    assert Fernet(key.encode()).decrypt(load_keys().encrypt(b"x")) == b"x"


def test_env_wins_over_the_key_file_and_stops_its_creation(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_key = generate_key()
    monkeypatch.setenv("SHELFOPS_ENCRYPTION_KEYS", env_key)
    assert ensure_local_key_file() is None
    assert not key_file_path(home).exists()
    key_file_path(home).parent.mkdir(parents=True)
    key_file_path(home).write_text(generate_key() + "\n")
    assert Fernet(env_key.encode()).decrypt(load_keys().encrypt(b"x")) == b"x"


def test_malformed_key_file_names_the_line(home: Path) -> None:
    path = key_file_path(home)
    path.parent.mkdir(parents=True)
    path.write_text(f"# newest first\n{generate_key()}\nsecret-garbage\n")
    with pytest.raises(CredentialKeyError) as raised:
        load_keys()
    assert f"line 3 of {path}" in str(raised.value)
    assert "secret-garbage" not in str(raised.value)


def test_home_defaults_to_data_in_the_working_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("SHELFOPS_HOME")
    monkeypatch.chdir(tmp_path)
    assert store_path() == Path("data/credentials.sqlite")
    assert ensure_local_key_file() == Path("data/secrets/encryption.keys")
    assert (tmp_path / "data/secrets/encryption.keys").exists()


def test_cli_generate_prints_one_usable_key_on_stdout() -> None:
    result = CliRunner().invoke(cli, ["keys", "generate"])
    assert result.exit_code == 0
    [key] = result.stdout.split()
    Fernet(key.encode())
    assert "SHELFOPS_ENCRYPTION_KEYS" in result.stderr


def test_cli_init_creates_the_key_file_then_reports_it_exists(home: Path) -> None:
    first = CliRunner().invoke(cli, ["keys", "init"])
    assert first.exit_code == 0 and str(key_file_path(home)) in first.output
    second = CliRunner().invoke(cli, ["keys", "init"])
    assert second.exit_code == 0 and "already configured" in second.output


def test_cli_without_key_is_one_line_error_not_traceback() -> None:
    result = CliRunner().invoke(cli, ["keys", "rotate"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    [line] = result.output.strip().splitlines()
    assert line.startswith("Error: no encryption key: set SHELFOPS_ENCRYPTION_KEYS")
