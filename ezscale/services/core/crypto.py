"""Encryption of secrets at rest (workspace passwords, API keys, TOTP secrets).

Keys come from EZSCALE_ENCRYPTION_KEYS (comma-separated Fernet keys, newest first, so keys can
be rotated); without it a key is generated once into the data directory (demo and tests).
"""

from functools import cache

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy.engine import Dialect

from ezscale.settings import get_settings


@cache
def _fernet_for(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(k.encode()) for k in keys])


def _keys() -> tuple[str, ...]:
    settings = get_settings()
    if settings.encryption_keys:
        return tuple(k.strip() for k in settings.encryption_keys.split(",") if k.strip())
    path = settings.data_dir / "encryption.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(Fernet.generate_key())
        path.chmod(0o600)
    return (path.read_text().strip(),)


def encrypt(plaintext: str) -> str:
    """Encrypt with the newest configured key."""
    return _fernet_for(_keys()).encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    """Decrypt with any configured key (so old secrets stay readable after a key rotation)."""
    try:
        return _fernet_for(_keys()).decrypt(token.encode()).decode()
    except InvalidToken as error:
        raise ValueError("secret cannot be decrypted with the configured keys") from error


class EncryptedString(sa.types.TypeDecorator):
    """A text column whose value is stored Fernet-encrypted and read back in plain text."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        """Encrypt on the way into the database."""
        return None if value is None else encrypt(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        """Decrypt on the way out of the database."""
        return None if value is None else decrypt(value)
