"""TOTP (RFC 6238) with replay protection, and single-use recovery codes stored hashed.

Time comes from the injected clock; a code is accepted for the current step ±1 and only when
its step is later than the last one accepted, so the same code never works twice.
"""

import hashlib
import hmac
import secrets
from datetime import datetime

import pyotp
import segno

STEP_SECONDS = 30
RECOVERY_CODES = 10
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def new_secret() -> str:
    """A new random TOTP secret (base32)."""
    return pyotp.random_base32()


def provisioning_uri(secret: str, *, account: str, issuer: str) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer)


def qr_data_uri(uri: str) -> str:
    """An SVG QR code of the provisioning URI, as a data: URI for an <img>."""
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=2)


def code_at(secret: str, at: datetime) -> str:
    """The code an authenticator shows at a given time."""
    return pyotp.TOTP(secret).at(at)


def time_step(at: datetime) -> int:
    """The 30-second TOTP time step a moment falls in (a used step is never accepted twice)."""
    return int(at.timestamp()) // STEP_SECONDS


def accepted_step(secret: str, code: str, *, at: datetime, last_step: int | None) -> int | None:
    """The time step a code matches (now ±1 step), or None if wrong or already used."""
    code = "".join(ch for ch in (code or "") if ch.isdigit())
    if len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    now_step = time_step(at)
    matched = None
    for step in (now_step - 1, now_step, now_step + 1):
        # Compare every candidate (constant time, no early exit that would leak which matched).
        if hmac.compare_digest(totp.generate_otp(step), code):
            matched = step
    if matched is None or (last_step is not None and matched <= last_step):
        return None
    return matched


def new_recovery_codes() -> list[str]:
    """Ten codes like `k7mq-2xv9-pa`: shown once, stored only as hashes."""
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:4]}-{raw[4:8]}-{raw[8:]}")
    return codes


def normalise_recovery_code(code: str) -> str:
    """A recovery code without case, spaces or dashes, as it is compared."""
    return "".join(ch for ch in (code or "").lower() if ch.isalnum())


def hash_recovery_code(code: str) -> str:
    """The stored digest of a recovery code."""
    return hashlib.sha256(normalise_recovery_code(code).encode()).hexdigest()


def looks_like_recovery_code(code: str) -> bool:
    """Whether the input has the shape of a recovery code rather than a six-digit TOTP code."""
    return len(normalise_recovery_code(code)) == 10
