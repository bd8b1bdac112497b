from datetime import timedelta
from decimal import Decimal

import pytest

from ezscale.errors import DomainError
from ezscale.services.billing.usage_charges import record_usage_charge, uninvoiced_charges
from tests.factories import add_customer, tenant_db


def _record(session, user_id, clock, key="kasm:1", amount=125):
    return record_usage_charge(
        session,
        user_id=user_id,
        service_id=None,
        description="Developer Basic · 8h 15m",
        quantity=Decimal("8.25"),
        unit_rate=Decimal("0.150000"),
        amount_minor=amount,
        currency="usd",
        period_start=clock.now() - timedelta(hours=9),
        period_end=clock.now(),
        source_key=key,
    )


def test_recording_is_idempotent_on_source_key(make_tenant, clock):
    with tenant_db(make_tenant("usage")) as session:
        user = add_customer(session)
        first = _record(session, user.id, clock)
        again = _record(session, user.id, clock, amount=999)
        assert again.id == first.id and again.amount_minor == 125
        assert first.currency == "USD" and first.invoice_id is None
        assert first.quantity == Decimal("8.25")
        assert [c.id for c in uninvoiced_charges(session, user_id=user.id)] == [first.id]


def test_bad_usage_input_is_refused(make_tenant, clock):
    with tenant_db(make_tenant("usage")) as session:
        user = add_customer(session)
        with pytest.raises(DomainError):
            _record(session, user.id, clock, amount=-1)
        with pytest.raises(DomainError):
            _record(session, user.id + 99, clock)
        assert uninvoiced_charges(session, user_id=user.id) == []
