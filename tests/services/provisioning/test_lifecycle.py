"""Suspension, unsuspension and termination reach the panel: from dunning (and back on payment),
from staff actions and from cancellation; a panel that stays down is retried, then alerted."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from ezscale.models.provisioning import JobAction, JobStatus, ProvisioningJob
from ezscale.models.tenant import (
    CreditKind,
    Invoice,
    InvoiceStatus,
    Plan,
    Service,
    ServiceStatus,
    Subscription,
)
from ezscale.services.accounts.sessions import AuthRole, AuthUser
from ezscale.services.billing import credits, invoices, orders, runs, subscriptions
from ezscale.services.customers import actions
from ezscale.services.provisioning import jobs, lifecycle, logs, plan_changes, view
from ezscale.services.provisioning.module import BuildState
from ezscale.services.tenancy.tenants import TenantInfo
from tests.actors import admin
from tests.factories import add_customer, tenant_db
from tests.services.provisioning.support import drive, virtfusion


@pytest.fixture(autouse=True)
def _now(clock):
    clock.set(datetime(2026, 11, 16, tzinfo=UTC))


def _delivered(tenant: TenantInfo, clock) -> tuple[int, int]:
    """A VPS ordered with exactly enough credit for its first invoice, delivered: (user, service)."""
    with tenant_db(tenant) as db:
        user = add_customer(db, "pat@example.test")
        due = orders.quote(db, user_id=user.id, plan_code="vps-1").total_minor
        credits.add_entry(
            db, user_id=user.id, kind=CreditKind.TOP_UP, amount_minor=due, currency="USD", memo="t"
        )
        db.commit()
        service_id = orders.place_order(db, tenant=tenant, user_id=user.id, plan_code="vps-1").service.id
    _run_queued(tenant, clock)
    return user.id, service_id


def _run_queued(tenant: TenantInfo, clock) -> list[str]:
    """Drive every unfinished job, oldest first; their final statuses."""
    with tenant_db(tenant) as db:
        ids = db.exec(
            select(ProvisioningJob.id)
            .where(ProvisioningJob.status.in_((JobStatus.QUEUED, JobStatus.RUNNING)))
            .order_by(ProvisioningJob.id)
        ).all()
    return [drive(tenant, job_id, clock) for job_id in ids]


def _server(sim):
    (server,) = sim.live_servers()
    return server


def test_dunning_suspends_on_the_panel_and_payment_unsuspends(make_tenant, central, clock):
    tenant = TenantInfo.of(make_tenant("shop"))
    with virtfusion(central) as (sim, _):
        user_id, service_id = _delivered(tenant, clock)
        clock.advance(timedelta(seconds=10))  # built
        assert _server(sim).suspended is False
        clock.set(datetime(2026, 12, 16, 1, tzinfo=UTC))  # the renewal's due date
        with tenant_db(tenant) as db:
            runs.daily_run(db, tenant=tenant)  # renewal issued; no credit, no card: unpaid
            clock.set(datetime(2026, 12, 24, 1, tzinfo=UTC))
            runs.daily_run(db, tenant=tenant)
            assert db.get(Service, service_id).status is ServiceStatus.SUSPENDED
        assert _run_queued(tenant, clock) == ["done"]
        assert _server(sim).suspended is True
        with tenant_db(tenant) as db:
            runs.daily_run(db, tenant=tenant)  # the dunning step is once: no second job
            assert (
                db.exec(select(ProvisioningJob).where(ProvisioningJob.status == JobStatus.QUEUED)).all() == []
            )
            renewal = db.exec(select(Invoice).where(Invoice.status == InvoiceStatus.OPEN)).one()
            credits.add_entry(
                db,
                user_id=user_id,
                kind=CreditKind.TOP_UP,
                amount_minor=renewal.total_minor,
                currency="USD",
                memo="pays",
            )
            invoices.apply_credit(db, renewal)
            db.commit()
            assert db.get(Service, service_id).status is ServiceStatus.ACTIVE
        assert _run_queued(tenant, clock) == ["done"]
        assert _server(sim).suspended is False
        with tenant_db(tenant) as db:
            steps = [r.step for r in logs.service_log(db, service_id=service_id)]
            assert steps[:2] == ["unsuspend", "suspend"]


def test_staff_actions_and_cancellation_reach_the_panel(make_tenant, central, clock):
    tenant = TenantInfo.of(make_tenant("shop"))
    with virtfusion(central) as (sim, _):
        user_id, service_id = _delivered(tenant, clock)
        clock.advance(timedelta(seconds=10))
        actions.change_service(
            actor=admin(), tenant=tenant, user_id=user_id, service_id=service_id, action="suspend"
        )
        actions.change_service(
            actor=admin(), tenant=tenant, user_id=user_id, service_id=service_id, action="unsuspend"
        )
        actions.change_service(
            actor=admin(), tenant=tenant, user_id=user_id, service_id=service_id, action="suspend"
        )
        # Queued suspend/unsuspend are superseded by the latest: the panel ends suspended.
        assert "done" in _run_queued(tenant, clock)
        assert _server(sim).suspended is True
        with tenant_db(tenant) as db:
            sub = db.exec(select(Subscription).where(Subscription.service_id == service_id)).one()
            subscriptions.cancel(db, subscription=sub, at_period_end=False)
        assert _run_queued(tenant, clock) == ["done"]
        assert sim.live_servers() == []


def test_panel_down_is_retried_then_alerted(make_tenant, central, clock, monkeypatch):
    alerts = []
    monkeypatch.setattr(lifecycle, "raise_alert", lambda *a, **k: alerts.append(k["title"]))
    tenant = TenantInfo.of(make_tenant("shop"))
    with virtfusion(central) as (sim, _):
        user_id, service_id = _delivered(tenant, clock)
        clock.advance(timedelta(seconds=10))
        sim.inject("POST /servers/{id}/suspend", *["500"] * 3 * lifecycle.LIFECYCLE_ATTEMPTS)
        actions.change_service(
            actor=admin(), tenant=tenant, user_id=user_id, service_id=service_id, action="suspend"
        )
        assert _run_queued(tenant, clock) == ["failed"]
        assert alerts == ["Panel action failed"]
        with tenant_db(tenant) as db:
            rows = logs.service_log(db, service_id=service_id)
            assert rows[0].outcome == "failed" and rows[0].step == "suspend"
            assert [r.outcome for r in rows].count("retry") == lifecycle.LIFECYCLE_ATTEMPTS - 1


@pytest.mark.parametrize("panel", ["answers", "stays down"])
def test_the_service_page_follows_a_cancelled_services_removal_from_the_panel(
    make_tenant, central, clock, monkeypatch, panel
):
    """Cancel now: the page's status read (what the live page polls) says the removal is under
    way, also while the panel does not answer and the job waits to retry; then removed, or, when
    the panel stays down, retried by staff who were alerted."""
    alerts = []
    monkeypatch.setattr(lifecycle, "raise_alert", lambda *a, **k: alerts.append(k["title"]))
    tenant = TenantInfo.of(make_tenant("shop"))
    with virtfusion(central) as (sim, _):
        user_id, service_id = _delivered(tenant, clock)
        clock.advance(timedelta(seconds=10))  # built

        def shown() -> tuple[str, str, str]:
            with tenant_db(tenant) as db:
                status = view.service_status(db, user_id=user_id, service_id=service_id)
                assert view.service_page(db, user_id=user_id, service_id=service_id).removal == status[2]
                return status

        assert shown() == ("active", "", "")
        if panel == "stays down":
            sim.inject("DELETE /servers/{id}", *["500"] * 3 * lifecycle.LIFECYCLE_ATTEMPTS)
        customer = AuthUser(
            id=user_id, tenant_id=tenant.id, email="pat@example.test", name="Pat", role=AuthRole.CUSTOMER
        )
        with tenant_db(tenant) as db:
            plan_changes.cancel(db, actor=customer, service_id=service_id, immediately=True)
            [job_id] = db.exec(
                select(ProvisioningJob.id).where(ProvisioningJob.status == JobStatus.QUEUED)
            ).all()
        assert shown() == ("terminated", "cancelled", "removing")
        with tenant_db(tenant) as db:
            first = jobs.run_job(db, tenant=tenant, job_id=job_id)
        if panel == "answers":
            assert first.status == "done" and shown() == ("terminated", "cancelled", "removed")
            assert sim.live_servers() == [] and alerts == []
            return
        assert first.again_in is not None and shown()[2] == "removing"  # waits to retry
        clock.advance(timedelta(seconds=first.again_in))
        assert drive(tenant, job_id, clock) == "failed"
        assert shown() == ("terminated", "cancelled", "failed") and alerts == ["Panel action failed"]
        assert len(sim.live_servers()) == 1


def test_terminate_of_a_server_already_gone_counts_as_done(make_tenant, central, clock):
    tenant = TenantInfo.of(make_tenant("shop"))
    with virtfusion(central) as (sim, _):
        user_id, service_id = _delivered(tenant, clock)
        sim.servers.clear()  # deleted on the panel by hand
        actions.change_service(
            actor=admin(), tenant=tenant, user_id=user_id, service_id=service_id, action="terminate"
        )
        assert _run_queued(tenant, clock) == ["done"]
        with tenant_db(tenant) as db:
            assert logs.service_log(db, service_id=service_id)[0].message == "Already gone from the panel."


def test_services_not_on_a_panel_get_no_job(make_tenant, clock):
    tenant = TenantInfo.of(make_tenant("shop"))
    with tenant_db(tenant) as db:
        user = add_customer(db, "pat@example.test")
        credits.add_entry(
            db, user_id=user.id, kind=CreditKind.TOP_UP, amount_minor=99_999, currency="USD", memo="t"
        )
        db.commit()
        service = orders.place_order(db, tenant=tenant, user_id=user.id, plan_code="vps-1").service
        assert db.get(Service, service.id).status is ServiceStatus.ACTIVE  # unmapped: active at once
        assert lifecycle.request(db, service_id=service.id, action=JobAction.SUSPEND) is None
        assert db.exec(select(ProvisioningJob)).all() == []
    assert BuildState.READY  # the contract's states are what the page shows


def test_plan_change_reaches_the_panel_once_paid(make_tenant, central, clock):
    tenant = TenantInfo.of(make_tenant("shop"))
    with virtfusion(central) as (sim, _):
        user_id, service_id = _delivered(tenant, clock)
        clock.advance(timedelta(days=1))
        with tenant_db(tenant) as db:
            sub = db.exec(select(Subscription).where(Subscription.service_id == service_id)).one()
            vps2 = db.exec(select(Plan).where(Plan.code == "vps-2")).one()
            upgrade = subscriptions.change_plan(db, subscription=sub, plan_id=vps2.id)
            assert upgrade is not None and upgrade.status is InvoiceStatus.OPEN
        assert _run_queued(tenant, clock) == []  # not before payment
        assert _server(sim).package_id == 1
        with tenant_db(tenant) as db:
            upgrade = db.get(Invoice, upgrade.id)
            credits.add_entry(
                db,
                user_id=user_id,
                kind=CreditKind.TOP_UP,
                amount_minor=upgrade.total_minor,
                currency="USD",
                memo="pays",
            )
            invoices.apply_credit(db, upgrade)
            db.commit()
        assert _run_queued(tenant, clock) == ["done"]
        assert _server(sim).package_id == 2 and _server(sim).memory == 4096
        with tenant_db(tenant) as db:  # a later paid invoice of the service changes nothing more
            assert lifecycle.follow_plan(db, service_id=service_id) is None
