"""Resellers' own Stripe accounts (Stripe Connect, direct charges, no application fee).

A reseller owner connects its Stripe account: an account is created for it, Stripe's onboarding
link is followed, and the return URL (built from the tenant's configured domain, never from a
request's headers) lands on `/reseller/gateways`, where the account's status is read back from
Stripe. `account.updated` webhooks flip the status too. Until the account can take charges the
reseller's customers cannot pay (`PaymentsUnavailable`): nothing of a reseller is ever charged to
the platform's account. The house tenant uses the platform account (`account_for` is None).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import stripe
from sqlmodel import Session, col, select

from ezscale import clock, routes
from ezscale.db import central_session
from ezscale.errors import DomainError
from ezscale.models.payments import ConnectedAccount
from ezscale.services.accounts.sessions import AuthUser
from ezscale.services.billing.stripe_gateway import StripeGateway, gateway
from ezscale.services.core.audit import record_audit
from ezscale.services.core.mail import tenant_base_url
from ezscale.services.tenancy.tenants import TenantInfo, tenant_info

NOT_AVAILABLE = "Payments are not available yet."


class PaymentsUnavailable(DomainError):
    """A reseller without a connected Stripe account that can take charges: nobody pays it yet."""


class ConnectState(StrEnum):
    """Where a tenant's Stripe account stands."""

    NOT_CONNECTED = "not_connected"
    PENDING = "pending"  # created, onboarding not finished
    CONNECTED = "connected"
    PLATFORM = "platform"  # the house tenant: the platform's own account


@dataclass(frozen=True, slots=True)
class ConnectStatus:
    """What the gateways page shows of the tenant's Stripe account."""

    state: ConnectState
    account_id: str = ""

    @property
    def can_charge(self) -> bool:
        """Whether the tenant's customers can pay by card now."""
        return self.state in (ConnectState.CONNECTED, ConnectState.PLATFORM)


def _row(session: Session, tenant_id: int) -> ConnectedAccount | None:
    return session.exec(select(ConnectedAccount).where(ConnectedAccount.tenant_id == tenant_id)).first()


def status(session: Session, *, tenant: TenantInfo) -> ConnectStatus:
    """The tenant's Stripe account as last read from Stripe."""
    if tenant.is_house:
        return ConnectStatus(ConnectState.PLATFORM)
    row = _row(session, tenant.id)
    if row is None:
        return ConnectStatus(ConnectState.NOT_CONNECTED)
    state = ConnectState.CONNECTED if row.charges_enabled else ConnectState.PENDING
    return ConnectStatus(state, row.account_id)


def account_for(tenant: TenantInfo) -> str | None:
    """The Stripe account the tenant's customers pay into: None (the platform's) for the house
    tenant, the connected account for a reseller; PaymentsUnavailable while it cannot charge."""
    if tenant.is_house:
        return None
    with central_session() as session:
        current = status(session, tenant=tenant)
    if not current.can_charge:
        raise PaymentsUnavailable(NOT_AVAILABLE)
    return current.account_id


def can_take_payments(tenant: TenantInfo) -> bool:
    """Whether the tenant's customers can pay by card now."""
    with central_session() as session:
        return status(session, tenant=tenant).can_charge


def tenant_for_account(account_id: str) -> TenantInfo | None:
    """The reseller a connected account belongs to (webhook routing), or None."""
    with central_session() as session:
        row = session.exec(
            select(ConnectedAccount).where(col(ConnectedAccount.account_id) == account_id)
        ).first()
    return tenant_info(row.tenant_id) if row is not None else None


def has_connected_account(tenant_id: int) -> bool:
    """Whether the tenant has a connected account (then platform events never touch it)."""
    with central_session() as session:
        return _row(session, tenant_id) is not None


def return_url(tenant: TenantInfo) -> str:
    """Where Stripe's onboarding sends the owner back: the tenant's configured domain."""
    return f"{tenant_base_url(tenant)}{routes.RESELLER_GATEWAYS}"


class _StripeRefused(DomainError):
    """Stripe refused a Connect request (shown to the owner as it is)."""


@contextmanager
def _stripe_refusals() -> Iterator[None]:
    """Stripe's refusals become a message for the owner (not a server error)."""
    try:
        yield
    except stripe.StripeError as error:
        raise _StripeRefused(f"Stripe refused: {error.user_message or 'try again later.'}") from error


def start_onboarding(
    session: Session, *, tenant: TenantInfo, actor: AuthUser, ip: str = "", gw: StripeGateway | None = None
) -> str:
    """The onboarding link of the tenant's connected account (created on first use)."""
    if tenant.is_house:
        raise DomainError("The platform's own tenant uses the platform's Stripe account.")
    with _stripe_refusals():
        return _onboarding_link(
            session, tenant=tenant, actor=actor, ip=ip, gw=(gw or gateway()).on_account(None)
        )


def _onboarding_link(
    session: Session, *, tenant: TenantInfo, actor: AuthUser, ip: str, gw: StripeGateway
) -> str:
    back = return_url(tenant)
    row = _row(session, tenant.id)
    if row is None:
        account = gw._call(
            lambda: gw.client.v1.accounts.create(
                {"type": "standard", "metadata": {"tenant_id": str(tenant.id)}},
                {"idempotency_key": f"connect:{tenant.database_name}"},
            )
        )
        now = clock.now()
        row = ConnectedAccount(tenant_id=tenant.id, account_id=account.id, created_at=now, updated_at=now)
        session.add(row)
        record_audit(
            actor=actor,
            action="payments.stripe_connect_started",
            target=f"tenant:{tenant.id}",
            after={"account": account.id},
            ip=ip,
            session=session,
        )
        session.commit()
    account_id = row.account_id
    link = gw._call(
        lambda: gw.client.v1.account_links.create(
            {
                "account": account_id,
                "type": "account_onboarding",
                "return_url": back + "?connected=1",
                "refresh_url": back,
            }
        )
    )
    return link.url


def _apply(session: Session, row: ConnectedAccount, account: dict[str, Any]) -> bool:
    """Copy the account's charge/onboarding flags; whether anything changed."""
    charges, submitted = bool(account.get("charges_enabled")), bool(account.get("details_submitted"))
    if (row.charges_enabled, row.details_submitted) == (charges, submitted):
        return False
    row.charges_enabled, row.details_submitted, row.updated_at = charges, submitted, clock.now()
    session.add(row)
    return True


def refresh(session: Session, *, tenant: TenantInfo, gw: StripeGateway | None = None) -> ConnectStatus:
    """Read the connected account back from Stripe (after onboarding) and store its status."""
    row = _row(session, tenant.id)
    if row is not None:
        platform = (gw or gateway()).on_account(None)
        account_id = row.account_id
        with _stripe_refusals():
            account = platform._call(lambda: platform.client.v1.accounts.retrieve(account_id))
        if _apply(session, row, account.to_dict()):
            session.commit()
    return status(session, tenant=tenant)


def account_updated(account_id: str, obj: dict[str, Any]) -> bool:
    """Apply a verified `account.updated` event: only about the account that sent it."""
    if obj.get("id") != account_id:
        return False
    with central_session() as session:
        row = session.exec(
            select(ConnectedAccount).where(col(ConnectedAccount.account_id) == account_id)
        ).first()
        if row is None or not _apply(session, row, obj):
            return False
        session.commit()
    return True
