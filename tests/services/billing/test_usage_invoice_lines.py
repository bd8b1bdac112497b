"""Usage invoices from Kasm sessions: no numbered 0.00 invoice for a 1-second month-end
segment, and every line's quantity × unit price is exactly its amount."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlmodel import select

from ezscale.models.billing import UsageCharge
from ezscale.models.tenant import Invoice, InvoiceItem
from ezscale.money import minor_digits
from ezscale.services.billing import runs
from ezscale.services.billing.profiles import ensure_profile
from ezscale.services.kasm import workspaces as kasm
from ezscale.services.kasm.sync import reconcile
from tests.services.kasm.test_workspaces import env  # noqa: F401  (the simulator fixture)


def _run_from(env, clock, start: datetime) -> int:  # noqa: F811
    """A workspace that starts running at `start` (provisioning takes no clock time here)."""
    with env.db() as db:
        ensure_profile(db, user_id=env.user_id, anchor_day=1)
        db.commit()
    env.sim.provision_seconds = 0
    clock.set(start)
    workspace_id = env.order()
    env.provision(workspace_id, clock)
    assert env.sessions(workspace_id)[0].started_at == start
    return workspace_id


def test_a_one_second_month_end_segment_issues_no_zero_invoice(env, clock):  # noqa: F811
    workspace_id = _run_from(env, clock, datetime(2026, 11, 30, 23, 59, 59, tzinfo=UTC))
    clock.set(datetime(2026, 12, 1, 0, 10, tzinfo=UTC))
    with env.db() as db:
        reconcile(db, tenant=env.tenant, listing=env.client.get_kasms(), client=env.client)
    november = env.sessions(workspace_id)[0]
    assert (november.billable_seconds, november.cost_minor) == (1, 0)
    with env.db() as db:
        assert runs.invoice_usage(db) == []
        assert db.exec(select(Invoice).where(Invoice.billing_key.like("usage:%"))).all() == []
        assert db.exec(select(UsageCharge).where(UsageCharge.amount_minor == 0)).all() == []
    # The whole session is still billed once, on the next usage invoice: 15 min at 0.15/h → 0.04.
    with env.db() as db:
        kasm.stop_workspace(db, user_id=env.user_id, workspace_id=workspace_id)
    assert sum(s.cost_minor for s in env.sessions(workspace_id)) == 4
    clock.set(datetime(2027, 1, 1, 1, tzinfo=UTC))
    with env.db() as db:
        [invoice_id] = runs.invoice_usage(db)
        assert db.get(Invoice, invoice_id).subtotal_minor == 4


def test_usage_lines_multiply_exactly(env, clock):  # noqa: F811
    workspace_id = _run_from(env, clock, datetime(2026, 11, 3, 9, tzinfo=UTC))
    clock.advance(timedelta(minutes=7, seconds=30))  # billed 15 min: 0.25 h × 0.15 = 0.0375 → 0.04
    with env.db() as db:
        kasm.stop_workspace(db, user_id=env.user_id, workspace_id=workspace_id)
    clock.set(datetime(2026, 12, 1, 1, tzinfo=UTC))
    with env.db() as db:
        [invoice_id] = runs.invoice_usage(db)
        invoice = db.get(Invoice, invoice_id)
        [line] = db.exec(select(InvoiceItem).where(InvoiceItem.invoice_id == invoice_id)).all()
    assert line.amount_minor == 4
    unit = Decimal(line.unit_minor).scaleb(-minor_digits(invoice.currency))
    assert line.quantity * unit == Decimal(line.amount_minor).scaleb(-minor_digits(invoice.currency))
    assert "0.25 h × 0.15 USD/h" in line.description  # the exact rate and hours stay visible
