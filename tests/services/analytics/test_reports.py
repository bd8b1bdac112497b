"""CSV reports on the hand-made dataset, and the admin-only download route."""

import csv
import io
from datetime import date

from sqlmodel import select
from starlette.testclient import TestClient

from ezscale.http.app import api
from ezscale.models.tenant import Invoice, User
from ezscale.services.accounts.sessions import create_user_session
from ezscale.services.analytics.reports import build_report
from ezscale.services.analytics.snapshots import snapshot_days
from ezscale.services.billing.invoices import create_credit_note
from ezscale.services.tenancy.tenants import tenant_session
from tests.factories import admin_token
from tests.services.analytics.dataset import build

OCT1, OCT31 = date(2026, 10, 1), date(2026, 10, 31)


def _csv(central, name, scope="platform", start=OCT1, end=OCT31):
    return list(
        csv.reader(io.StringIO(build_report(central, name=name, scope_key=scope, start=start, end=end)))
    )


def test_reports(central, make_tenant, clock):
    house, _ = build(central, make_tenant)
    snapshot_days(central, start=OCT1, end=OCT31)
    assert _csv(central, "revenue-by-month")[1:] == [["2026-10", "USD", "170.99", "3.00", "4", "3.60"]]
    assert _csv(central, "revenue-by-year")[1:] == [["2026", "USD", "170.99", "3.00", "4", "3.60"]]
    days = {row[0]: row[2] for row in _csv(central, "revenue-by-day")[1:]}
    assert len(days) == 31
    assert (days["2026-10-01"], days["2026-10-03"], days["2026-10-06"], days["2026-10-25"]) == (
        "6.00", "120.00", "15.00", "29.99",
    )  # fmt: skip
    assert _csv(central, "revenue-by-plan")[1:] == [
        # Alice's 1500 was for the service she has since moved to the dedicated plan.
        ["house", "dedi-e3", "Dedicated E-2388G", "dedicated", "USD", "15.00", "1"],
        ["house", "vps-annual", "VPS Annual", "vps", "USD", "120.00", "1"],
        ["house", "vps-quarterly", "VPS Quarterly", "vps", "USD", "29.99", "1"],
        ["acme", "vps-1", "VPS 1", "vps", "USD", "6.00", "1"],
    ]
    assert _csv(central, "revenue-by-service", scope=f"tenant:{house.id}")[1:] == [
        ["house", "dedicated", "USD", "15.00", "1"],
        ["house", "vps", "USD", "149.99", "2"],
    ]
    tax = _csv(central, "tax")
    assert tax[1:] == [
        ["house", "DE", "VAT", "20.0000", "False", "USD", "1", "15.00", "3.00"],
        ["house", "US", "", "0.0000", "False", "USD", "2", "149.99", "0.00"],
        ["acme", "US", "", "0.0000", "False", "USD", "1", "6.00", "0.00"],
    ]
    # Now is 1 Nov 09:00: Dan 109 days past due, Alice 78, Carol 46, Frank not due yet.
    assert [row[1:] for row in _csv(central, "aging")[1:]] == [
        ["INV-6", "dan@example.test", "2026-07-01", "2026-07-15", "109", "90+", "USD", "15.00"],
        ["INV-5", "alice@example.test", "2026-08-01", "2026-08-15", "78", "61–90", "USD", "15.00"],
        ["INV-4", "carol@example.test", "2026-09-02", "2026-09-16", "46", "31–60", "USD", "129.00"],
        ["INV-7", "frank@example.test", "2026-10-31", "2026-11-14", "0", "0–30", "USD", "3.60"],
    ]
    subs = _csv(central, "subscriptions")
    assert subs[1][:9] == ["2026-10", "USD", "18859.666667", "226316.000004", "3799.666667", "11460.000000",
                           "11400.000000", "3000.000000", "859.666667"]  # fmt: skip
    assert subs[1][9:] == ["7", "2", "0.4000", "0.8000", "5", "4", "0.8000"]

    with tenant_session(house) as db:
        invoice = db.exec(select(Invoice).where(Invoice.number == "INV-1")).one()
        create_credit_note(db, invoice=invoice, amount_minor=2500, reason="Goodwill")
    refunds = _csv(central, "refunds", start=OCT1, end=date(2026, 11, 1))
    assert [r[:2] + r[3:] for r in refunds[1:]] == [
        ["house", "credit_note", "bob@example.test", "2026-11-01", "USD", "25.00"]
    ]


def test_csv_route_is_for_platform_admins_only(central, make_tenant, clock):
    house, _ = build(central, make_tenant)
    admin_session = admin_token(central)
    with tenant_session(house) as db:
        customer = db.exec(select(User).where(User.email == "bob@example.test")).one()
        customer_token = create_user_session(db, user=customer, method="password")
    client = TestClient(api, base_url="http://localhost")
    url = "/admin/reports/revenue-by-month.csv?scope=platform&start=2026-10-01&end=2026-10-31"

    client.cookies.set("ezscale_session", customer_token)
    assert client.get(url).status_code == 403
    client.cookies.set("ezscale_session", admin_session)
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "revenue-by-month-20261001-20261031.csv" in response.headers["content-disposition"]
    assert response.text.splitlines()[0] == "month,currency,revenue_net,tax,invoices_paid,kasm_usage_revenue"
    assert client.get("/admin/reports/nope.csv").status_code == 404
    base = "/admin/reports/revenue-by-month.csv"
    for query in (
        "?start=yesterday",
        "?start=2026-13-01",
        "?start=2026-10-31&end=2026-10-01",
        "?scope=tenant:abc",
        "?start=" + "9" * 5000,
    ):
        response = client.get(base + query)
        assert response.status_code == 400, (query, response.status_code)
