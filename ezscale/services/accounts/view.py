"""What the account page shows, as typed display rows (no Reflex here): the signed-in user's own
profile (prefilling its form) and e-mail address."""

from dataclasses import dataclass

from sqlmodel import Session

from ezscale.services.accounts.auth import get_user


@dataclass(frozen=True, slots=True)
class AccountProfile:
    """The user's own profile as the account page shows it (all "" before it is loaded)."""

    email: str = ""
    name: str = ""
    company: str = ""
    address: str = ""
    country: str = ""
    tax_id: str = ""


def account_profile(session: Session, *, user_id: int) -> AccountProfile:
    """The account's profile ("" for what is not filled in)."""
    me = get_user(session, user_id=user_id)
    return AccountProfile(
        email=me.email,
        name=me.name or "",
        company=me.company or "",
        address=me.address or "",
        country=me.country or "",
        tax_id=me.tax_id or "",
    )
