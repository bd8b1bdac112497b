"""Passkeys (WebAuthn) with py_webauthn: the relying party is the tenant's own host.

Registration and sign-in are two steps each: options (with a random challenge the caller keeps
server-side) go to the browser, and the browser's answer is verified against that challenge,
the host (rp id) and the page origin. A passkey registered on one host never works on another.
"""

import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlmodel import Session, col, select
from webauthn import (
    base64url_to_bytes,
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import bytes_to_base64url
from webauthn.helpers.exceptions import InvalidAuthenticationResponse, InvalidRegistrationResponse
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from ezscale import clock
from ezscale.errors import DomainError
from ezscale.models.auth import Passkey
from ezscale.models.tenant import User
from ezscale.models.types import existing, row_id

MAX_PASSKEYS = 10


@dataclass(frozen=True, slots=True)
class Challenge:
    """Options JSON for the browser, and the challenge to keep (base64url) until it answers."""

    options_json: str
    challenge: str


@dataclass(frozen=True, slots=True)
class PasskeyInfo:
    """A saved passkey as the security page lists it."""

    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None


@dataclass(frozen=True, slots=True)
class PasskeyRow:
    """A saved passkey as the security page's table shows it."""

    id: int
    name: str
    added: str


def passkey_rows(session: Session, *, user_id: int) -> list[PasskeyRow]:
    """The customer's passkeys as the security page lists them, oldest first."""
    return [
        PasskeyRow(k.id, k.name, f"{k.created_at:%Y-%m-%d}") for k in list_passkeys(session, user_id=user_id)
    ]


def check_origin(origin: str, rp_id: str) -> str:
    """The page origin must be on the relying party's host (the tenant's host)."""
    host = (urlsplit(origin).hostname or "").lower()
    if not origin or host != rp_id:
        raise DomainError("Passkeys only work on this site's own address.")
    return origin


def registration_options(session: Session, *, user_id: int, rp_id: str, rp_name: str) -> Challenge:
    """WebAuthn options to register a new passkey, and the challenge to check the answer against."""
    user = existing(session, User, user_id)
    if user.webauthn_handle is None:
        user.webauthn_handle = bytes_to_base64url(secrets.token_bytes(32))
        session.add(user)
        session.commit()
    registered = session.exec(select(Passkey.credential_id).where(Passkey.user_id == user_id)).all()
    if len(registered) >= MAX_PASSKEYS:
        raise DomainError(f"You can register at most {MAX_PASSKEYS} passkeys.")
    options = generate_registration_options(
        rp_id=rp_id,
        rp_name=rp_name,
        user_id=base64url_to_bytes(user.webauthn_handle),
        user_name=user.email,
        user_display_name=user.name or user.email,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=base64url_to_bytes(c)) for c in registered],
    )
    return Challenge(options_to_json(options), bytes_to_base64url(options.challenge))


def finish_registration(
    session: Session,
    *,
    user_id: int,
    rp_id: str,
    origin: str,
    credential_json: str,
    challenge: str,
    name: str,
) -> PasskeyInfo:
    """Verify the browser's new credential against the challenge and save it as a named passkey."""
    if not challenge:
        raise DomainError("Start adding the passkey again.")
    try:
        verified = verify_registration_response(
            credential=credential_json,
            expected_challenge=base64url_to_bytes(challenge),
            expected_rp_id=rp_id,
            expected_origin=check_origin(origin, rp_id),
        )
    except (InvalidRegistrationResponse, DomainError, ValueError, KeyError, TypeError) as error:
        raise DomainError("The passkey could not be verified. Please try again.") from error
    credential_id = bytes_to_base64url(verified.credential_id)
    if session.exec(select(Passkey.id).where(Passkey.credential_id == credential_id)).first():
        raise DomainError("This passkey is already registered.")
    passkey = Passkey(
        user_id=user_id,
        credential_id=credential_id,
        public_key=bytes_to_base64url(verified.credential_public_key),
        sign_count=verified.sign_count,
        name=(name or "").strip()[:60] or "Passkey",
        rp_id=rp_id,
        created_at=clock.now(),
    )
    session.add(passkey)
    session.commit()
    return _info(passkey)


def authentication_options(*, rp_id: str) -> Challenge:
    """Options for a discoverable-credential sign-in (no email typed)."""
    options = generate_authentication_options(
        rp_id=rp_id, user_verification=UserVerificationRequirement.PREFERRED
    )
    return Challenge(options_to_json(options), bytes_to_base64url(options.challenge))


def finish_authentication(
    session: Session, *, rp_id: str, origin: str, credential_json: str, challenge: str
) -> User:
    """The active user whose passkey signed the challenge (sign count updated)."""
    failed = DomainError("That passkey is not registered here.")
    try:
        credential_id = json.loads(credential_json)["id"]
    except (ValueError, KeyError, TypeError) as error:
        raise failed from error
    passkey = session.exec(
        select(Passkey).where(Passkey.credential_id == credential_id, Passkey.rp_id == rp_id)
    ).first()
    if passkey is None or not challenge:
        raise failed
    try:
        verified = verify_authentication_response(
            credential=credential_json,
            expected_challenge=base64url_to_bytes(challenge),
            expected_rp_id=rp_id,
            expected_origin=check_origin(origin, rp_id),
            credential_public_key=base64url_to_bytes(passkey.public_key),
            credential_current_sign_count=passkey.sign_count,
        )
    except (InvalidAuthenticationResponse, DomainError, ValueError, KeyError, TypeError) as error:
        raise DomainError("The passkey could not be verified. Please try again.") from error
    user = session.get(User, passkey.user_id)
    if user is None or not user.is_active:
        raise failed
    passkey.sign_count, passkey.last_used_at = verified.new_sign_count, clock.now()
    session.add(passkey)
    session.commit()
    return user


def _info(p: Passkey) -> PasskeyInfo:
    return PasskeyInfo(row_id(p), p.name, p.created_at, p.last_used_at)


def list_passkeys(session: Session, *, user_id: int) -> list[PasskeyInfo]:
    """The customer's passkeys, oldest first."""
    rows = session.exec(select(Passkey).where(Passkey.user_id == user_id).order_by(col(Passkey.id)))
    return [_info(p) for p in rows]


def _own(session: Session, *, user_id: int, passkey_id: int) -> Passkey:
    passkey = session.get(Passkey, passkey_id)
    if passkey is None or passkey.user_id != user_id:
        raise DomainError("No such passkey.")
    return passkey


def rename_passkey(session: Session, *, user_id: int, passkey_id: int, name: str) -> None:
    """Rename one of the customer's passkeys; the name must not be empty."""
    passkey = _own(session, user_id=user_id, passkey_id=passkey_id)
    name = (name or "").strip()
    if not name:
        raise DomainError("Give the passkey a name.")
    passkey.name = name[:60]
    session.add(passkey)
    session.commit()


def remove_passkey(session: Session, *, user_id: int, passkey_id: int) -> None:
    """Delete one of the customer's passkeys."""
    session.delete(_own(session, user_id=user_id, passkey_id=passkey_id))
    session.commit()
