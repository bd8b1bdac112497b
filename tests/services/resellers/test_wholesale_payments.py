"""Resellers pay wholesale invoices by card, against localstripe."""

from datetime import date, timedelta

import pytest
from sqlmodel import select

from ezscale.db import central_session
from ezscale.errors import DomainError
from ezscale.models.central import (
    Tenant,
    TenantBilling,
    TenantStatus,
    WholesaleInvoice,
    WholesaleInvoiceStatus,
)
from ezscale.services.billing.stripe_gateway import gateway
from ezscale.services.resellers.wholesale import bill_tenant
from ezscale.services.resellers.wholesale_dunning import collect
from ezscale.services.resellers.wholesale_payments import (
    charge_invoice,
    pay_invoice,
    save_card,
    start_card_setup,
)
from ezscale.services.tenancy.tenants import expire_trials, suspend_tenant
from tests.actors import audit_trail, owner
from tests.factories import LONG_AGO, backdate


def _add_card(central, tenant_id: int, number: str = "4242424242424242") -> str:
    """What the card page does: SetupIntent, Stripe.js confirms it, the app saves the card."""
    intent_id = start_card_setup(central, actor=owner(tenant_id), tenant_id=tenant_id).split("_secret_")[0]
    card = {"number": number, "exp_month": 12, "exp_year": 2030, "cvc": "123"}
    gateway().client.v1.setup_intents.confirm(
        intent_id, {"payment_method_data": {"type": "card", "card": card}}
    )
    return save_card(central, actor=owner(tenant_id), tenant_id=tenant_id, setup_intent_id=intent_id)


def _invoice(tenant_id: int) -> WholesaleInvoice:
    with central_session() as central:
        backdate(central, central.get(Tenant, tenant_id), LONG_AGO)
    invoice, _ = bill_tenant(tenant_id=tenant_id, start=date(2026, 10, 1), end=date(2026, 11, 1))
    return invoice


def test_open_invoice_is_charged_once_to_the_saved_card(make_tenant, central, stripe_env):
    acme = make_tenant("acme", tier="pro")
    invoice = _invoice(acme.id)
    with pytest.raises(DomainError, match="Add a card first"):
        charge_invoice(central, invoice_id=invoice.id, tenant_id=acme.id)
    assert _add_card(central, acme.id) == "Visa •••• 4242"

    assert collect(on=invoice.due_on).charged == {invoice.number: "paid"}
    paid = central.get(WholesaleInvoice, invoice.id)
    central.refresh(paid)
    assert paid.status is WholesaleInvoiceStatus.PAID and paid.stripe_payment_intent_id
    assert collect(on=invoice.due_on).charged == {}
    again = charge_invoice(central, invoice_id=invoice.id, tenant_id=acme.id)
    assert again.stripe_payment_intent_id == paid.stripe_payment_intent_id
    customer = central.exec(
        select(TenantBilling.stripe_customer_id).where(TenantBilling.tenant_id == acme.id)
    ).one()
    charges = gateway().client.v1.charges.list({"customer": customer})
    assert [c.amount for c in charges.data] == [9900]  # the pro platform fee, charged once


def test_a_declined_card_leaves_the_invoice_open_with_the_reason(make_tenant, central, stripe_env):
    acme = make_tenant("acme")
    invoice = _invoice(acme.id)
    _add_card(central, acme.id, number="4000000000000341")  # attaches, then declines charges
    outcome = charge_invoice(central, invoice_id=invoice.id, tenant_id=acme.id)
    assert outcome.status is WholesaleInvoiceStatus.OPEN
    assert outcome.failure_message


def test_another_resellers_invoice_cannot_be_paid_or_seen(make_tenant, central, stripe_env):
    acme, beta = make_tenant("acme"), make_tenant("beta")
    invoice = _invoice(acme.id)
    with pytest.raises(DomainError, match="No such invoice"):
        charge_invoice(central, invoice_id=invoice.id, tenant_id=beta.id)


def test_trial_end_needs_a_card_and_adding_one_reopens_the_store(make_tenant, central, clock, stripe_env):
    with_card = make_tenant("paying", trial_ends_at=clock.now() + timedelta(days=14))
    make_tenant("lapsed", trial_ends_at=clock.now() + timedelta(days=14))
    _add_card(central, with_card.id)
    clock.advance(timedelta(days=15))
    assert expire_trials(central) == ["lapsed"]
    statuses = dict(central.exec(select(Tenant.slug, Tenant.status)).all())
    assert statuses == {"paying": TenantStatus.ACTIVE, "lapsed": TenantStatus.SUSPENDED}

    lapsed = central.exec(select(Tenant).where(Tenant.slug == "lapsed")).one()
    _add_card(central, lapsed.id)
    central.refresh(lapsed)
    assert lapsed.status is TenantStatus.ACTIVE

    suspend_tenant(central, "lapsed")  # by an admin: a card does not lift it
    _add_card(central, lapsed.id, number="5555555555554444")
    central.refresh(lapsed)
    assert lapsed.status is TenantStatus.SUSPENDED


def test_saving_the_card_and_paying_are_audited_by_the_services(make_tenant, central, stripe_env):
    acme = make_tenant("acme", tier="pro")
    invoice = _invoice(acme.id)
    with pytest.raises(DomainError, match="Add a card first"):
        pay_invoice(central, actor=owner(acme), invoice_id=invoice.id, tenant_id=acme.id)
    assert audit_trail("wholesale.pay") == [] and audit_trail("reseller.card") == []
    label = _add_card(central, acme.id)
    paid = pay_invoice(central, actor=owner(acme), invoice_id=invoice.id, tenant_id=acme.id, ip="192.0.2.12")
    assert paid.status is WholesaleInvoiceStatus.PAID
    assert audit_trail("reseller.card") == [
        ("owner@reseller.test", "reseller.card", "tenant:acme", {"card": label}, "")
    ]
    assert audit_trail("wholesale.pay") == [
        (
            "owner@reseller.test",
            "wholesale.pay",
            f"invoice:{invoice.number}",
            {"status": "paid"},
            "192.0.2.12",
        )
    ]
