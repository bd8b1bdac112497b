"""Property tests: proration and tax rounding stay exact, non-negative and float-free."""

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ezscale.models.tenant import InvoiceStatus
from ezscale.services.billing import invoices
from ezscale.services.billing.proration import add_months, next_anchor, prorate, split_period
from ezscale.services.billing.tax import set_tax_rate, tax_minor
from tests.factories import add_customer, tenant_db

amounts = st.integers(min_value=0, max_value=10**9)
currencies = st.sampled_from(["USD", "EUR", "JPY", "KWD"])
starts = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC))
rates = st.decimals(min_value=0, max_value=100, places=4, allow_nan=False, allow_infinity=False)


@given(
    amount=amounts,
    currency=currencies,
    start=starts,
    months=st.sampled_from([1, 3, 12]),
    fraction=st.floats(0, 1),
)
def test_used_plus_unused_is_the_price(amount, currency, start, months, fraction):
    end = add_months(start, months)
    at = start + timedelta(seconds=int((end - start).total_seconds() * fraction))
    used, unused = split_period(amount, currency, start=start, end=end, at=at)
    assert isinstance(used, int) and isinstance(unused, int)
    assert used + unused == amount
    assert 0 <= used <= amount and 0 <= unused <= amount


@given(amount=amounts, currency=currencies, whole=st.integers(1, 10**8), data=st.data())
def test_prorate_is_bounded_and_monotonic(amount, currency, whole, data):
    a = data.draw(st.integers(0, whole))
    b = data.draw(st.integers(a, whole))
    low = prorate(amount, currency, part_seconds=a, whole_seconds=whole)
    high = prorate(amount, currency, part_seconds=b, whole_seconds=whole)
    assert 0 <= low <= high <= amount
    assert prorate(amount, currency, part_seconds=whole, whole_seconds=whole) == amount


@given(lines=st.lists(st.integers(-(10**6), 10**7), min_size=1, max_size=20), rate=rates, currency=currencies)
@settings(max_examples=300)
def test_invoice_totals_equal_lines_plus_tax(lines, rate, currency):
    subtotal = sum(lines)
    tax = tax_minor(subtotal, rate, currency)
    assert isinstance(tax, int) and tax >= 0
    if subtotal > 0:
        exact = Decimal(subtotal) * rate / 100
        assert abs(Decimal(tax) - exact) <= Decimal("0.5")  # one half-up rounding, in minor units
    else:
        assert tax == 0


@given(at=starts, day=st.integers(1, 28))
def test_next_anchor_is_within_a_month(at, day):
    anchor = next_anchor(at, day)
    assert anchor > at and anchor.day == day and anchor - at <= timedelta(days=31)


_emails = itertools.count()


@pytest.fixture
def prop_tenant(make_tenant):
    """One tenant shared by all examples of a property (hypothesis runs them in one test)."""
    return make_tenant("prop")


line_specs = st.lists(
    st.tuples(st.decimals(min_value=Decimal("0.0001"), max_value=1000, places=4), st.integers(0, 10**6)),
    min_size=1,
    max_size=8,
)


@given(specs=line_specs, rate=rates)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_issued_invoices_add_up(prop_tenant, clock, specs, rate):
    """Through the real service: total = sum of stored lines + tax, all integers, never negative."""
    with tenant_db(prop_tenant) as session:
        set_tax_rate(session, country="NL", rate_percent=rate)
        user = add_customer(session, f"p{next(_emails)}@example.test", country="NL")
        invoice = invoices.create_draft(session, user_id=user.id, currency="EUR")
        for quantity, unit in specs:
            invoices.add_line(session, invoice, description="x", quantity=quantity, unit_minor=unit)
        invoices.issue(session, invoice)
        session.commit()
        stored = invoices.lines(session, invoice)
        assert all(isinstance(i.amount_minor, int) and i.amount_minor >= 0 for i in stored)
        assert invoice.subtotal_minor == sum(i.amount_minor for i in stored)
        assert invoice.total_minor == invoice.subtotal_minor + invoice.tax_minor >= 0
        assert invoice.tax_minor == tax_minor(invoice.subtotal_minor, rate, "EUR")
        assert invoice.status in (InvoiceStatus.OPEN, InvoiceStatus.PAID)
