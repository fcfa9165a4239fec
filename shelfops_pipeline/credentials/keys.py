"""The Fernet keys that encrypt stored secrets: from `SHELFOPS_ENCRYPTION_KEYS`, else a key file.

Keys are listed newest first. The newest encrypts; every listed key may decrypt, so a rotation
is: put a new key first, run `shelfops keys rotate`, then drop the old key.
"""

import logging
import os
import stat
from pathlib import Path

from cryptography.fernet import Fernet, MultiFernet

from shelfops_pipeline.credentials.errors import CredentialKeyError
from shelfops_pipeline.credentials.paths import key_file_path

logger = logging.getLogger(__name__)

KEYS_ENV = "SHELFOPS_ENCRYPTION_KEYS"
GENERATE_HINT = "create one with `shelfops keys generate`"


def generate_key() -> str:
    return Fernet.generate_key().decode("ascii")


def _fernet(key: str, where: str) -> Fernet:
    try:
        return Fernet(key.encode("ascii"))
    except (ValueError, UnicodeEncodeError) as error:
        raise CredentialKeyError(
            f"{where} is not a Fernet key (32 url-safe base64-encoded bytes); {GENERATE_HINT}"
        ) from error


def _from_env(value: str) -> MultiFernet:
    entries = [entry.strip() for entry in value.split(",")]
    count = len(entries)
    return MultiFernet(
        [_fernet(entry, f"{KEYS_ENV} entry {n} of {count}") for n, entry in enumerate(entries, 1)]
    )


def _from_file(path: Path) -> MultiFernet:
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        logger.warning("key file %s is readable by other users; run chmod 600 on it", path)
    lines = [
        (number, line.strip())
        for number, line in enumerate(path.read_text(encoding="ascii").splitlines(), 1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not lines:
        raise CredentialKeyError(f"the key file {path} holds no key; {GENERATE_HINT}")
    return MultiFernet([_fernet(line, f"line {number} of {path}") for number, line in lines])


def load_keys(home: Path | None = None) -> MultiFernet:
    """The configured keys, newest first; CredentialKeyError when none is set or one is malformed."""
    from_env = os.environ.get(KEYS_ENV, "").strip()
    if from_env:
        return _from_env(from_env)
    path = key_file_path(home)
    try:
        return _from_file(path)
    except FileNotFoundError:
        pass
    except (OSError, UnicodeDecodeError) as error:
        raise CredentialKeyError(
            f"the key file {path} cannot be read ({type(error).__name__}); fix its permissions "
            f"or set {KEYS_ENV}"
        ) from error
    raise CredentialKeyError(
        f"no encryption key: set {KEYS_ENV} (comma-separated Fernet keys, newest first; "
        f"{GENERATE_HINT}) or run `shelfops keys init` to create the local key file {path}"
    )


def ensure_local_key_file(home: Path | None = None) -> Path | None:
    """Create the key file (0600, in a 0700 directory) when no key is configured.

    Returns the path of the file it created, or None when a key was already configured.
    """
    if os.environ.get(KEYS_ENV, "").strip():
        return None
    path = key_file_path(home)
    if path.exists():
        return None
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return None
    with os.fdopen(descriptor, "w", encoding="ascii") as key_file:
        key_file.write(generate_key() + "\n")
    logger.info("created the local encryption key file %s", path)
    return path
