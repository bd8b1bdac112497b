"""Invoice numbers under concurrent issuance: no gaps, no duplicates (PostgreSQL row lock)."""

import threading

import pytest
from sqlmodel import select

from ezscale.models.tenant import Invoice
from ezscale.services.billing import invoices
from ezscale.services.tenancy.tenants import TenantInfo
from ezscale.settings import get_settings
from tests.factories import add_customer, tenant_db

THREADS, PER_THREAD = 8, 12


@pytest.fixture
def postgres_only(platform):
    if not get_settings().is_postgres:
        pytest.skip("concurrent issuance is checked on PostgreSQL (SQLite has a single writer)")


def test_concurrent_issuance_is_gapless(postgres_only, make_tenant, clock):
    tenant = TenantInfo.of(make_tenant("num"))
    with tenant_db(tenant) as session:
        user_id = add_customer(session).id
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            start.wait()
            with tenant_db(tenant) as session:
                for i in range(PER_THREAD):
                    invoice = invoices.create_draft(session, user_id=user_id, currency="USD")
                    invoices.add_line(session, invoice, description=f"t{n}-{i}", unit_minor=100)
                    invoices.issue(session, invoice)
                    if i % 4 == 3:
                        session.rollback()  # a failed issue gives its number back
                    else:
                        session.commit()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with tenant_db(tenant) as session:
        numbers = sorted(session.exec(select(Invoice.number).where(Invoice.number.is_not(None))).all())
    kept = THREADS * PER_THREAD * 3 // 4
    assert numbers == [f"INV-{n:06d}" for n in range(1, kept + 1)]
