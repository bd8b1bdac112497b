"""Password hashing: argon2 for new hashes; bcrypt (imported WHMCS users) still verifies."""

from passlib.context import CryptContext

_context = CryptContext(schemes=["argon2", "bcrypt"], deprecated=["bcrypt"])


def hash_password(password: str) -> str:
    """Hash a password with the current scheme, for storing."""
    return _context.hash(password)


def verify_password(password: str, hashed: str) -> tuple[bool, str | None]:
    """Check a password; the second value is a new hash to store when the old one is outdated."""
    return _context.verify_and_update(password, hashed)
