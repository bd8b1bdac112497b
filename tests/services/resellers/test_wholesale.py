"""Wholesale billing over two months against hand-computed amounts.

Acme is a "pro" reseller: platform fee $99.00, plans at 30 % off retail:
VPS 2 $15.00 → $10.50, Web Hosting Starter $4.00 → $2.80, Developer Basic $0.15/h → $0.105/h,
and a test annual plan at $84.00 wholesale a year ($7.00 a month).
"""

import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from pypdf import PdfReader
from sqlmodel import select

from ezscale.db import database_exists, tenant_database_url
from ezscale.errors import NotFound
from ezscale.models.central import WholesaleInvoice
from ezscale.models.tenant import (
    BillingInterval,
    Plan,
    Role,
    Service,
    ServiceStatus,
    Subscription,
    SubscriptionStatus,
    User,
)
from ezscale.services.billing.usage_charges import record_usage_charge
from ezscale.services.resellers.wholesale import (
    invoice_items,
    period_ending_by,
    run_wholesale_billing,
    wholesale_pdf,
)
from ezscale.services.tenancy.tenants import TenantInfo, tenant_session
from tests.factories import LONG_AGO, backdate, purge


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def _customer(db, email: str) -> User:
    user = User(email=email, password_hash="x", role=Role.CUSTOMER, created_at=at(2026, 1, 1))
    db.add(user)
    db.flush()
    return user


def _subscribe(db, email: str, plan_code: str, started: datetime, cancelled: datetime | None = None):
    user = _customer(db, email)
    plan = db.exec(select(Plan).where(Plan.code == plan_code)).one()
    service = Service(user_id=user.id, plan_id=plan.id, status=ServiceStatus.ACTIVE, created_at=started)
    db.add(service)
    db.flush()
    db.add(
        Subscription(
            user_id=user.id,
            plan_id=plan.id,
            service_id=service.id,
            status=SubscriptionStatus.CANCELLED if cancelled else SubscriptionStatus.ACTIVE,
            current_period_start=started,
            current_period_end=started,
            cancelled_at=cancelled,
            created_at=started,
        )
    )
    db.commit()
    return user, service


def _usage(db, user, service, hours: str, ends: datetime, key: str) -> None:
    record_usage_charge(
        db,
        user_id=user.id,
        service_id=service.id,
        description="Developer Basic",
        quantity=Decimal(hours),
        unit_rate=Decimal("0.15"),
        amount_minor=0,
        currency="USD",
        period_start=ends,
        period_end=ends,
        source_key=key,
    )


@pytest.fixture
def acme(make_tenant, central):
    tenant = backdate(central, make_tenant("acme", tier="pro"), LONG_AGO)
    with tenant_session(TenantInfo.of(tenant)) as db:
        db.add(
            Plan(
                code="vps-annual",
                name="VPS Annual",
                billing_interval=BillingInterval.ANNUAL,
                price_minor=12000,
                wholesale_price_minor=8400,
            )
        )
        db.commit()
        _subscribe(db, "alice@x.test", "vps-2", at(2026, 10, 5))
        _subscribe(db, "bob@x.test", "vps-2", at(2026, 11, 16, 10))
        _subscribe(db, "carol@x.test", "web-starter", at(2026, 9, 1), cancelled=at(2026, 11, 10, 15))
        _subscribe(db, "dave@x.test", "vps-2", at(2026, 12, 20))
        _subscribe(db, "frank@x.test", "vps-annual", at(2026, 10, 1))
        erin, workspace = _subscribe(db, "erin@x.test", "kasm-dev-basic", at(2026, 11, 2))
        _usage(db, erin, workspace, "10", at(2026, 11, 20), "k1")
        _usage(db, erin, workspace, "2.5", at(2026, 12, 1), "k2")  # ends on the boundary: November
        _usage(db, erin, workspace, "4", at(2026, 12, 15), "k3")
    return tenant


def _amounts(central, tenant_id: int, start: date) -> tuple[int, list[tuple[str, int]]]:
    invoice = central.exec(
        select(WholesaleInvoice).where(
            WholesaleInvoice.tenant_id == tenant_id, WholesaleInvoice.period_start == start
        )
    ).one()
    items = invoice_items(central, invoice_id=invoice.id)
    return invoice.total_minor, [(i.customer_email, i.amount_minor) for i in items]


def test_two_months_of_wholesale_billing_match_hand_computed_amounts(acme, central):
    report = run_wholesale_billing(on=date(2026, 12, 1))
    assert report.created == ["acme"] and report.failed == {}
    total, lines = _amounts(central, acme.id, date(2026, 11, 1))
    assert lines == [
        ("", 9900),  # platform fee
        ("alice@x.test", 1050),  # whole month
        ("bob@x.test", 525),  # 16–30 Nov: 15 of 30 days
        ("carol@x.test", 84),  # 1–9 Nov: 9 of 30 days of $2.80
        ("frank@x.test", 700),  # annual $84.00 / 12
        ("erin@x.test", 131),  # 12.5 h × $0.105 = $1.3125
    ]
    assert total == 9900 + 1050 + 525 + 84 + 700 + 131 == 12390

    run_wholesale_billing(on=date(2027, 1, 1))
    total, lines = _amounts(central, acme.id, date(2026, 12, 1))
    assert lines == [
        ("", 9900),
        ("alice@x.test", 1050),
        ("bob@x.test", 1050),
        ("dave@x.test", 406),  # 20–31 Dec: 12 of 31 days = $4.0645…
        ("frank@x.test", 700),
        ("erin@x.test", 42),  # 4 h × $0.105
    ]
    assert total == 13148


def test_rerunning_a_period_creates_nothing_new(acme, central):
    first = run_wholesale_billing(on=date(2026, 12, 15))
    again = run_wholesale_billing(on=date(2026, 12, 20))
    assert first.created == ["acme"] and again.created == [] and again.existing == ["acme"]
    invoices = central.exec(select(WholesaleInvoice)).all()
    assert [(i.number, i.total_minor) for i in invoices] == [(f"W202611-{acme.id:05d}", 12390)]


def test_many_resellers_billed_concurrently_and_the_house_is_not(make_tenant, central):
    make_tenant("house", primary_domain="house.test", is_house=True)
    slugs = [f"r{n}" for n in range(6)]
    for slug in slugs:
        backdate(central, make_tenant(slug), LONG_AGO)
    report = run_wholesale_billing(on=date(2026, 12, 1), max_workers=3)
    assert sorted(report.created) == slugs and report.failed == {}
    totals = central.exec(select(WholesaleInvoice.total_minor)).all()
    assert totals == [4900] * 6  # basic tier platform fee only


@pytest.mark.parametrize(
    ("day", "on", "expected"),
    [
        (1, date(2026, 12, 1), (date(2026, 11, 1), date(2026, 12, 1))),
        (1, date(2026, 12, 31), (date(2026, 11, 1), date(2026, 12, 1))),
        (15, date(2026, 12, 14), (date(2026, 10, 15), date(2026, 11, 15))),
        (28, date(2027, 3, 1), (date(2027, 1, 28), date(2027, 2, 28))),
    ],
)
def test_period_ending_by(day, on, expected):
    assert period_ending_by(day, on) == expected


def test_wholesale_invoice_pdf_is_for_its_reseller_only(acme, make_tenant, central):
    run_wholesale_billing(on=date(2026, 12, 1))
    invoice = central.exec(select(WholesaleInvoice)).one()
    name, pdf = wholesale_pdf(central, tenant_id=acme.id, invoice_id=invoice.id)
    assert name == f"{invoice.number}.pdf" and pdf.startswith(b"%PDF")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Wholesale invoice" in text and "$123.90" in text and "bob@x.test" in text
    other = make_tenant("other")
    with pytest.raises(NotFound):
        wholesale_pdf(central, tenant_id=other.id, invoice_id=invoice.id)


def test_a_purged_reseller_is_neither_billed_nor_visited(make_tenant, central):
    backdate(central, make_tenant("live"), LONG_AGO)
    gone = backdate(central, make_tenant("gone"), LONG_AGO)
    purge(central, "gone")
    report = run_wholesale_billing(on=date(2026, 12, 1))
    assert report.created == ["live"] and report.failed == {}
    assert not database_exists(tenant_database_url(gone.database_name))
