"""Property: whatever happens to a customer's credit in several currencies (top-ups, staff
adjustments, invoices paid from credit, voids giving it back), the ledger nets to zero per
currency and never crosses currencies."""

import itertools
from collections import defaultdict

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from ezscale.errors import DomainError
from ezscale.models.tenant import CreditEntry, CreditKind, Invoice, InvoiceStatus
from ezscale.services.billing import credits, invoices
from ezscale.services.fx import currencies
from ezscale.services.tenancy.tenants import TenantInfo
from tests.actors import admin
from tests.factories import add_customer, tenant_db

CURRENCIES = ("USD", "EUR", "JPY")
amounts = st.integers(min_value=1, max_value=50_000)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("top_up"), st.sampled_from(CURRENCIES), amounts),
        st.tuples(st.just("adjust"), st.sampled_from(CURRENCIES), st.integers(-50_000, 50_000).filter(bool)),
        st.tuples(st.just("invoice"), st.sampled_from(CURRENCIES), amounts),
        st.tuples(st.just("void"), st.integers(0, 20), st.just(0)),
    ),
    min_size=1,
    max_size=12,
)
_emails = (f"p{n}@example.test" for n in itertools.count())


def _apply(db, user_id: int, op: tuple, made: list[int]) -> None:
    kind, arg, amount = op
    if kind == "top_up":
        credits.add_entry(
            db, user_id=user_id, kind=CreditKind.TOP_UP, amount_minor=amount, currency=arg, memo="t"
        )
        db.commit()
    elif kind == "adjust":
        try:
            credits.adjust(db, user_id=user_id, amount_minor=amount, currency=arg, memo="staff")
        except DomainError:
            db.rollback()  # would go below zero: refused, nothing written
    elif kind == "invoice":
        invoice = invoices.create_draft(db, user_id=user_id, currency=arg)
        invoices.add_line(db, invoice, description="Service", unit_minor=amount)
        invoices.issue(db, invoice)
        invoices.apply_credit(db, invoice)
        db.commit()
        made.append(invoice.id)
    elif made:
        invoice = db.get(Invoice, made[arg % len(made)])
        if invoice.status is InvoiceStatus.OPEN:
            invoices.void(db, invoice, reason="changed mind")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations)
def test_the_credit_ledger_nets_to_zero_per_currency(make_tenant, rates_stored, ops):
    with tenant_db(_tenant(make_tenant)) as db:
        user = add_customer(db, next(_emails))
        made: list[int] = []
        for op in ops:
            _apply(db, user.id, op, made)
        db.expire_all()
        entries = db.exec(select(CreditEntry).where(CreditEntry.user_id == user.id)).all()
        issued = {i.id: i for i in db.exec(select(Invoice).where(Invoice.user_id == user.id))}
        money_in: dict[str, int] = defaultdict(int)
        for entry in entries:
            if entry.kind in (CreditKind.TOP_UP, CreditKind.ADJUSTMENT):
                money_in[entry.currency] += entry.amount_minor
            if entry.kind in (CreditKind.CHARGE, CreditKind.REFUND):
                # Credit applied to (or given back from) an invoice is in that invoice's currency.
                invoice_id = int(entry.reference.split(":")[1])
                assert issued[invoice_id].currency == entry.currency
        for currency in CURRENCIES:
            balance = credits.balance_minor(db, user_id=user.id, currency=currency)
            assert balance >= 0
            applied = sum(
                i.credit_applied_minor
                for i in issued.values()
                if i.currency == currency and i.status is not InvoiceStatus.VOID
            )
            assert money_in[currency] - applied - balance == 0


_tenants: dict[int, TenantInfo] = {}


def _tenant(make_tenant) -> TenantInfo:
    """One shop per test run (the fixtures live for the whole hypothesis test), selling in the
    three currencies."""
    key = id(make_tenant)
    if key not in _tenants:
        tenant = TenantInfo.of(make_tenant("ledger"))
        with tenant_db(tenant) as db:
            currencies.update_currencies(
                db, actor=admin(), tenant=tenant, enabled=" ".join(CURRENCIES), rounding="minor"
            )
        _tenants[key] = tenant
    return _tenants[key]
