"""An amount a customer types (a top-up) is read in their own currency: whole yen for a yen
customer, cents for a dollar one; nonsense is a clear message."""

from decimal import Decimal

import pytest

from ezscale.errors import DomainError
from ezscale.services.fx import currencies
from ezscale.services.tenancy.tenants import TenantInfo
from tests.actors import admin
from tests.factories import add_customer, tenant_db


def test_typed_amounts_are_in_the_customers_currency(make_tenant, clock):
    shop = TenantInfo.of(make_tenant("shop"))
    with tenant_db(shop) as db:
        currencies.update_currencies(db, actor=admin(), tenant=shop, enabled="USD JPY", rounding="minor")
        yen = add_customer(db, "yen@example.test")
        currencies.choose_currency(db, user_id=yen.id, currency="JPY")
        db.commit()
        dollar = add_customer(db, "usd@example.test")
        assert currencies.customer_minor(db, user_id=yen.id, amount=Decimal("1000")) == 1000
        assert currencies.customer_minor(db, user_id=dollar.id, amount=Decimal("20.005")) == 2001
        for bad in ("NaN", "Infinity"):
            with pytest.raises(DomainError, match=r"such as 20\.00"):
                currencies.customer_minor(db, user_id=yen.id, amount=Decimal(bad))
