"""Set-ups many tests share: customers (with credit, with a card), plans, tenant sessions, and
tenants whose database is broken or purged."""

import hashlib
import hmac
import json
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlmodel import Session, select

from ezscale import clock
from ezscale.db import drop_database, tenant_database_url
from ezscale.models.central import PlatformAdmin
from ezscale.models.tenant import CreditEntry, CreditKind, Plan, Service, Subscription, User
from ezscale.services.accounts.sessions import create_admin_session
from ezscale.services.billing import credits, payments
from ezscale.services.billing.profiles import ensure_profile
from ezscale.services.billing.stripe_gateway import gateway
from ezscale.services.resellers.lifecycle import purge_deleted, request_deletion
from ezscale.services.tenancy.tenants import TenantInfo, tenant_session
from ezscale.settings import get_settings


def add_customer(session: Session, email: str = "customer@example.test", **fields) -> User:
    user = User(
        email=email, password_hash="-", name=fields.pop("name", "Pat Customer"), created_at=clock.now()
    )
    for key, value in fields.items():
        setattr(user, key, value)
    session.add(user)
    session.commit()
    return user


def customer_with_credit(session: Session, email: str, amount_minor: int, **fields) -> User:
    """A customer whose prepaid balance (a top-up, in USD) is `amount_minor`."""
    user = add_customer(session, email, **fields)
    session.add(
        CreditEntry(
            user_id=user.id,
            kind=CreditKind.TOP_UP,
            amount_minor=amount_minor,
            currency="USD",
            created_at=clock.now(),
        )
    )
    session.commit()
    return user


def plan(session: Session, code: str) -> Plan:
    return session.exec(select(Plan).where(Plan.code == code)).one()


@contextmanager
def tenant_db(tenant) -> Iterator[Session]:
    with tenant_session(TenantInfo.of(tenant)) as session:
        yield session


def add_card(session: Session, tenant: TenantInfo, user_id: int, number: str = "4242424242424242"):
    """Save a card the way the card page does: SetupIntent, confirm (Stripe.js's part), save."""
    gw = gateway()
    secret = payments.start_card_setup(session, tenant=tenant, user_id=user_id)
    intent_id = secret.split("_secret_")[0]
    gw.client.v1.setup_intents.confirm(
        intent_id,
        {
            "payment_method_data": {
                "type": "card",
                "card": {"number": number, "exp_month": 12, "exp_year": 2030, "cvc": "123"},
            }
        },
        on_account(tenant),
    )
    return payments.save_card(session, tenant=tenant, user_id=user_id, setup_intent_id=intent_id)


def renewing_card_customer(
    session: Session, tenant: TenantInfo, *, email: str, plan: Plan, renews_at: datetime, credit_minor: int
) -> User:
    """A customer billed on the 1st with a saved card, `credit_minor` of prepaid credit, and one
    service on `plan` whose period (and invoicing) runs to `renews_at` (flushed, not committed)."""
    user = add_customer(session, email)
    ensure_profile(session, user_id=user.id, anchor_day=1)
    add_card(session, tenant, user.id)
    if credit_minor:
        credits.add_entry(
            session,
            user_id=user.id,
            kind=CreditKind.TOP_UP,
            amount_minor=credit_minor,
            currency="USD",
            memo="prepaid",
        )
    service = Service(user_id=user.id, plan_id=plan.id, created_at=clock.now())
    session.add(service)
    session.flush()
    session.add(
        Subscription(
            user_id=user.id,
            plan_id=plan.id,
            service_id=service.id,
            current_period_start=clock.now(),
            current_period_end=renews_at,
            invoiced_through=renews_at,
            created_at=clock.now(),
        )
    )
    return user


def break_database(database_name: str) -> None:
    """Leave a tenant's database unusable: gone on PostgreSQL, not a database file on SQLite."""
    drop_database(database_name)
    url = make_url(tenant_database_url(database_name))
    if url.get_backend_name() == "sqlite":
        Path(url.database).write_bytes(b"not a database " * 512)


def purge(central: Session, slug: str) -> None:
    """Delete a reseller and drop its database at once (no grace period)."""
    request_deletion(central, slug=slug, grace=timedelta(0))
    purge_deleted(central)


def connect_reseller(central: Session, tenant) -> str:
    """Connect a reseller's own Stripe account the way its owner does: the onboarding link from
    the gateways page, the simulator's onboarding page agreed to, the status read back."""
    from ezscale.services.core.audit import operator
    from ezscale.services.payments import connect
    from ezscale.simulators.stripe_connect import complete_onboarding

    info = TenantInfo.of(tenant) if not isinstance(tenant, TenantInfo) else tenant
    link = connect.start_onboarding(central, tenant=info, actor=operator("tests"))
    complete_onboarding(link)
    status = connect.refresh(central, tenant=info)
    assert status.can_charge
    return status.account_id


def on_account(tenant) -> dict:
    """The Stripe request options that read a tenant's objects at the simulator: its connected
    account for a reseller (the platform sees none of them), nothing for the house tenant."""
    from ezscale.services.payments import connect

    info = TenantInfo.of(tenant) if not isinstance(tenant, TenantInfo) else tenant
    account = connect.account_for(info)
    return {"stripe_account": account} if account else {}


def charges_of(customer_id: str, tenant=None) -> list:
    """Every charge the simulator made on a customer (succeeded or not), through the Stripe API,
    on the tenant's Stripe account."""
    options = on_account(tenant) if tenant is not None else {}
    return list(gateway().client.v1.charges.list({"customer": customer_id, "limit": 100}, options).data)


def card_charges_by_invoice(customer_ids: list[str], tenant=None) -> Counter:
    """Succeeded charges at the simulator per invoice id (from their PaymentIntent's metadata)."""
    client = gateway().client
    options = on_account(tenant) if tenant is not None else {}
    counted: Counter = Counter()
    for customer_id in customer_ids:
        for charge in charges_of(customer_id, tenant):
            if charge.status == "succeeded":
                intent = client.v1.payment_intents.retrieve(charge.payment_intent, None, options)
                counted[int(intent.metadata["invoice_id"])] += 1
    return counted


# Before any period the tests bill: wholesale bills only the days a tenant existed.
LONG_AGO = datetime(2026, 1, 1, tzinfo=UTC)


def backdate(central: Session, tenant, created_at: datetime):
    """Make a tenant created at `created_at` (wholesale bills only the days a tenant existed)."""
    from ezscale.models.central import Tenant

    row = central.get(Tenant, tenant.id)
    row.created_at = created_at
    central.add(row)
    central.commit()
    central.refresh(row)
    return row


def admin_token(central: Session, email: str = "admin@example.test") -> str:
    """A signed-in platform admin (password and TOTP done): the session token."""
    admin = PlatformAdmin(email=email, password_hash="-", created_at=clock.now(), totp_enabled_at=clock.now())
    central.add(admin)
    central.commit()
    return create_admin_session(central, admin=admin, method="password+totp")


def stripe_headers(payload: bytes, secret: str | None = None, skew: int = 0) -> dict:
    """The headers Stripe sends with a webhook `payload`, signed now (+ `skew` seconds) with `secret`
    (by default the configured webhook secret)."""
    stamp = int(time.time()) + skew
    key = (secret or get_settings().stripe_webhook_secret).encode()
    signature = hmac.new(key, f"{stamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return {"Stripe-Signature": f"t={stamp},v1={signature}", "Content-Type": "application/json"}


def stripe_signed(event: dict, secret: str | None = None, skew: int = 0) -> tuple[bytes, dict]:
    """A webhook event as Stripe posts it: the JSON body and its signed headers."""
    payload = json.dumps(event).encode()
    return payload, stripe_headers(payload, secret, skew)
