"""A separate process for the billing race tests: its own interpreter and database engine.

    python -m tests.services.billing.race_worker MODE TENANT_ID CLOCK [INVOICE_ID ...]

It prints "ready", waits for a line on stdin (so that every racer starts at once), does its
part and prints one JSON line. Modes: `daily` (the Celery task's body, with its lease),
`run` (renewals, collection and dunning without the lease, as two runs would once it expired),
`collect` (the run's collection step), `pay` (Pay now on each invoice id given, as the billing
page does).
"""

import json
import sys
from datetime import datetime

from ezscale import clock


def _pay(session, tenant, invoice_ids: list[int]) -> dict[int, str]:
    from ezscale.errors import DomainError
    from ezscale.models.tenant import InvoiceStatus
    from ezscale.services.billing import invoices, payments

    outcome = {}
    for invoice_id in invoice_ids:
        invoice = invoices.get_invoice(session, invoice_id=invoice_id)
        try:
            if not invoices.amount_due(invoice):
                raise DomainError("Nothing is due on this invoice.")
            payments.charge_invoice(session, tenant=tenant, invoice=invoice)
            outcome[invoice_id] = "paid" if invoice.status is InvoiceStatus.PAID else "unpaid"
        except payments.PaymentInProgress:
            outcome[invoice_id] = "in_progress"
        except DomainError:
            outcome[invoice_id] = "nothing_due"
    return outcome


def main(mode: str, tenant_id: int, at: str, invoice_ids: list[int]) -> dict:
    from ezscale.services.billing import runs
    from ezscale.services.tenancy.tenants import tenant_info, tenant_session
    from ezscale.tasks.billing import daily_billing

    clock.set_clock(clock.FrozenClock(datetime.fromisoformat(at)))
    tenant = tenant_info(tenant_id)
    with tenant_session(tenant) as session:
        session.connection()  # connected before the start signal
        print("ready", flush=True)
        sys.stdin.readline()
        if mode == "daily":
            return daily_billing(tenant_id)
        if mode == "run":
            issued = runs.invoice_renewals(session)
            charged, failed = runs.collect(session, tenant=tenant)
            runs.run_dunning(session, tenant=tenant)
            return {"invoices": len(issued), "paid": charged, "unpaid": failed}
        if mode == "collect":
            charged, failed = runs.collect(session, tenant=tenant)
            return {"paid": charged, "unpaid": failed}
        if mode == "pay":
            return _pay(session, tenant, invoice_ids)
    raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    result = main(sys.argv[1], int(sys.argv[2]), sys.argv[3], [int(i) for i in sys.argv[4:]])
    print(json.dumps(result), flush=True)
