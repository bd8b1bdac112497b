"""A paid order delivered on its panel, or refunded: the job's state machine, logs, retries,
adoption after a lost reply, stock before money, and the payment returned exactly once."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import func, select

from ezscale.models.auth import TenantMail
from ezscale.models.provisioning import JobStatus, ProvisioningJob, ServiceHandle
from ezscale.models.tenant import (
    CreditEntry,
    Invoice,
    Service,
    ServiceStatus,
    Subscription,
    SubscriptionStatus,
)
from ezscale.services.billing import credits, orders
from ezscale.services.provisioning import jobs, logs, panels, stock
from ezscale.services.provisioning.handles import panel_key
from ezscale.services.provisioning.module import OutOfStock
from ezscale.services.provisioning.polling import BUILD_TIMES, DOWN_SHARE, LAG_SECONDS, UP_WEIGHT
from ezscale.services.tenancy.tenants import TenantInfo
from tests.factories import customer_with_credit, tenant_db
from tests.services.provisioning.support import ADMIN, drive, job_ids, virtfusion


@pytest.fixture(autouse=True)
def _now(clock):
    clock.set(datetime(2026, 11, 16, tzinfo=UTC))


def _order(tenant: TenantInfo, email: str = "pat@example.test", plan_code: str = "vps-1") -> int:
    """A customer with enough credit orders a VPS; the order is paid at once. The service id."""
    with tenant_db(tenant) as db:
        user = customer_with_credit(db, email, 10_000)
        placed = orders.place_order(db, tenant=tenant, user_id=user.id, plan_code=plan_code)
        assert placed.paid
        return placed.service.id


def _service(tenant: TenantInfo, service_id: int) -> Service:
    with tenant_db(tenant) as db:
        return db.get(Service, service_id)


def _balance(tenant: TenantInfo, email: str = "pat@example.test") -> int:
    with tenant_db(tenant) as db:
        user_id = db.exec(select(Service.user_id)).first()
        return credits.balance_minor(db, user_id=user_id, currency="USD")


def test_paid_order_is_delivered(make_tenant, central, clock):
    tenant = TenantInfo.of(make_tenant("shop"))
    with virtfusion(central) as (sim, _):
        service_id = _order(tenant)
        assert _service(tenant, service_id).status is ServiceStatus.PENDING
        (job_id,) = job_ids(tenant)
        with tenant_db(tenant) as db:
            first = jobs.run_job(db, tenant=tenant, job_id=job_id)
        assert first.again_in and _service(tenant, service_id).status is ServiceStatus.PROVISIONING
        with tenant_db(tenant) as db:  # a second delivery while it waits: nothing to do yet
            assert jobs.run_job(db, tenant=tenant, job_id=job_id).status == "skipped"
        clock.advance(timedelta(seconds=first.again_in))
        assert drive(tenant, job_id, clock) == "done"
        assert len(sim.live_servers()) == 1 and sim.count("POST /servers") == 1
    service = _service(tenant, service_id)
    assert service.status is ServiceStatus.ACTIVE
    with tenant_db(tenant) as db:
        handle = db.exec(select(ServiceHandle)).one()
        assert handle.external_id == str(sim.live_servers()[0].id) and handle.ips.startswith("203.0.1.")
        steps = [row.step for row in logs.service_log(db, service_id=service_id)]
        assert steps[0] == "ready" and "create" in steps
        assert db.exec(select(TenantMail).where(TenantMail.kind == "provisioning_ready")).one()


def test_a_build_is_polled_on_its_own_panel_after_the_plan_moves(make_tenant, central, clock):
    """Staff move the plan to another panel while a server builds: the build is still followed on
    the panel it was created on (the new panel never heard of it)."""
    tenant = TenantInfo.of(make_tenant("shop"))
    with virtfusion(central) as (sim, _):
        service_id = _order(tenant)
        (job_id,) = job_ids(tenant)
        with tenant_db(tenant) as db:
            first = jobs.run_job(db, tenant=tenant, job_id=job_id)
        assert first.again_in and _service(tenant, service_id).status is ServiceStatus.PROVISIONING
        with virtfusion(central, label="VF 2") as (other, other_id):  # vps-1 now sold on VF 2
            clock.advance(timedelta(seconds=first.again_in))
            assert drive(tenant, job_id, clock) == "done"
            assert other.count("GET /servers/{id}") == 0 and not other.live_servers()
        assert sim.count("GET /servers/{id}") >= 1 and len(sim.live_servers()) == 1
    assert _service(tenant, service_id).status is ServiceStatus.ACTIVE
    with tenant_db(tenant) as db:
        assert db.exec(select(ServiceHandle)).one().panel_id != other_id


def test_a_first_attempt_makes_few_panel_calls(make_tenant, central, clock):
    """Nothing to adopt on a first attempt, and the order's stock check of a moment ago is reused."""
    tenant = TenantInfo.of(make_tenant("shop"))
    with virtfusion(central, build_seconds=0) as (sim, _):
        _order(tenant)
        assert sim.count("GET /compute/hypervisors/groups/{id}/resources") == 1  # the order's check
        assert drive(tenant, job_ids(tenant)[0], clock) == "done"
        assert sim.count("GET /compute/hypervisors/groups/{id}/resources") == 1
        assert sim.count("GET /servers/user/{id}") == 0
        assert sim.count("POST /servers") == 1 and len(sim.live_servers()) == 1


def test_a_new_customers_panel_user_is_made_without_a_look_up(make_tenant, central, clock):
    """No service of the customer was on the panel: the user is created straight away. Their
    second service there looks the user up and makes no second one."""
    tenant = TenantInfo.of(make_tenant("shop"))
    with virtfusion(central, build_seconds=0) as (sim, _):
        first = _order(tenant)
        assert drive(tenant, job_ids(tenant)[0], clock) == "done"
        assert sim.count("GET /users/{id}/byExtRelation") == 0 and sim.count("POST /users") == 1
        with tenant_db(tenant) as db:
            user_id = db.get(Service, first).user_id
            assert orders.place_order(db, tenant=tenant, user_id=user_id, plan_code="vps-1").paid
        assert drive(tenant, job_ids(tenant)[-1], clock) == "done"
        assert sim.count("GET /users/{id}/byExtRelation") == 1 and sim.count("POST /users") == 1
        assert len({server.owner_id for server in sim.live_servers()}) == 1
        assert len(sim.live_servers()) == 2


def test_a_panel_user_made_before_the_first_delivery_is_found_when_the_create_is_refused(
    make_tenant, central, clock
):
    """Staff (or a delivery of another order at once) made the customer's panel user: the
    panel refuses the duplicate, and the delivery uses the one it finds."""
    tenant = TenantInfo.of(make_tenant("shop"))
    with virtfusion(central, build_seconds=0) as (sim, _):
        with tenant_db(tenant) as db:
            user = customer_with_credit(db, "pat@example.test", 10_000)
            key = panel_key(db, user.id)
        status, made = sim.handle(
            "POST",
            "/users",
            {},
            {"name": "Pat", "email": "pat@example.test", "extRelationId": key},
            f"Bearer {sim.token}",
        )
        assert status == 201
        with tenant_db(tenant) as db:
            assert orders.place_order(db, tenant=tenant, user_id=user.id, plan_code="vps-1").paid
        assert drive(tenant, job_ids(tenant)[0], clock) == "done"
        assert sim.count("POST /users") == 2 and sim.count("GET /users/{id}/byExtRelation") == 1
        assert [server.owner_id for server in sim.live_servers()] == [made["data"]["id"]]


def test_a_stock_check_the_panel_cannot_answer_leaves_it_to_the_create(make_tenant, central, clock):
    """The order's check said yes; the delivery's own check meets a panel that does not answer:
    the create goes ahead (the panel refuses what does not fit), not a retry of the whole step."""
    tenant = TenantInfo.of(make_tenant("shop"))
    with virtfusion(central, build_seconds=0) as (sim, _):
        _order(tenant)
        stock.forget()  # the order's answer is forgotten: the delivery asks again
        sim.inject("GET /compute/hypervisors/groups/{id}/resources", "500", "500", "500")
        assert drive(tenant, job_ids(tenant)[0], clock) == "done"
        assert sim.count("GET /compute/hypervisors/groups/{id}/resources") == 4  # the order's + 3
        assert sim.count("POST /servers") == 1 and len(sim.live_servers()) == 1


def test_out_of_stock_refuses_the_order_before_any_invoice(make_tenant, central, clock):
    tenant = TenantInfo.of(make_tenant("shop"))
    with virtfusion(central) as (sim, _):
        sim.exhaust(1)
        with tenant_db(tenant) as db:
            user = customer_with_credit(db, "pat@example.test", 10_000)
            with pytest.raises(OutOfStock, match="out of stock right now; nothing was charged"):
                orders.quote(db, user_id=user.id, plan_code="vps-1")
            with pytest.raises(OutOfStock):
                orders.place_order(db, tenant=tenant, user_id=user.id, plan_code="vps-1")
            counts = [
                db.exec(select(func.count()).select_from(t)).one() for t in (Invoice, Service, Subscription)
            ]
            assert counts == [0, 0, 0]
            assert credits.balance_minor(db, user_id=user.id, currency="USD") == 10_000
            # A plan with no panel is not limited.
            assert orders.quote(db, user_id=user.id, plan_code="game-minecraft").total_minor > 0


def test_lost_create_reply_is_adopted_and_5xx_retried(make_tenant, central, clock):
    tenant = TenantInfo.of(make_tenant("shop"))
    with virtfusion(central) as (sim, _):
        service_id = _order(tenant)
        sim.inject("POST /servers", "timeout_after_success")
        sim.inject("POST /servers/{id}/build", "500")
        assert drive(tenant, job_ids(tenant)[0], clock) == "done"
        assert sim.count("POST /servers") == 1 and len(sim.live_servers()) == 1
        # The build's 500 made nothing (the server is not named ours): sent again at once.
        assert sim.count("POST /servers/{id}/build") == 2
    with tenant_db(tenant) as db:
        rows = logs.service_log(db, service_id=service_id)
        assert [r.outcome for r in rows].count("retry") == 1  # the create's lost reply
        assert "adopt" in [r.step for r in rows]
    assert _service(tenant, service_id).status is ServiceStatus.ACTIVE


def _assert_failed_and_refunded_once(tenant: TenantInfo, service_id: int) -> None:
    service = _service(tenant, service_id)
    assert service.status is ServiceStatus.FAILED
    with tenant_db(tenant) as db:
        refunds = db.exec(
            select(CreditEntry).where(CreditEntry.reference == jobs.refund_reference(service_id))
        ).all()
        assert len(refunds) == 1 and refunds[0].amount_minor > 0
        assert credits.balance_minor(db, user_id=service.user_id, currency="USD") == 10_000
        sub = db.exec(select(Subscription).where(Subscription.service_id == service_id)).one()
        assert sub.status is SubscriptionStatus.CANCELLED
        assert len(db.exec(select(TenantMail).where(TenantMail.kind == "provisioning_failed")).all()) == 1
        assert db.exec(select(ProvisioningJob.status)).all() == [JobStatus.FAILED]


def test_capacity_gone_between_check_and_create_refunds_once(make_tenant, central, clock):
    tenant = TenantInfo.of(make_tenant("shop"))
    with virtfusion(central) as (sim, _):
        service_id = _order(tenant)
        sim.inject("POST /servers", "exhaust")
        (job_id,) = job_ids(tenant)
        assert drive(tenant, job_id, clock) == "failed"
        assert drive(tenant, job_id, clock) == "skipped"  # run again: nothing more happens
        assert sim.live_servers() == []
    _assert_failed_and_refunded_once(tenant, service_id)


def test_failed_build_leaves_no_orphan(make_tenant, central, clock):
    tenant = TenantInfo.of(make_tenant("shop"))
    with virtfusion(central) as (sim, _):
        service_id = _order(tenant)
        sim.fail_builds.add(1)  # the first server's build fails on the panel
        assert drive(tenant, job_ids(tenant)[0], clock) == "failed"
        assert sim.live_servers() == []
    _assert_failed_and_refunded_once(tenant, service_id)


def test_panel_down_gives_up_after_retries_and_refunds(make_tenant, central, clock):
    tenant = TenantInfo.of(make_tenant("shop"))
    with virtfusion(central) as (sim, _):
        service_id = _order(tenant)
        # Each attempt sends twice: a 500 that made nothing is sent once more at once.
        sim.inject("POST /servers", *["500"] * (2 * jobs.CREATE_ATTEMPTS))
        assert drive(tenant, job_ids(tenant)[0], clock) == "failed"
        assert sim.count("POST /servers") == 2 * jobs.CREATE_ATTEMPTS
    _assert_failed_and_refunded_once(tenant, service_id)


def test_card_refund_setting_without_card_payment_returns_credit(make_tenant, central, clock):
    tenant = TenantInfo.of(make_tenant("shop"))
    panels.set_failure_refund(central, mode="card", actor=ADMIN)
    with virtfusion(central) as (sim, _):
        service_id = _order(tenant)
        sim.packages[1]["enabled"] = False  # the panel refuses the package: final at once
        assert drive(tenant, job_ids(tenant)[0], clock) == "failed"
    _assert_failed_and_refunded_once(tenant, service_id)


def test_card_refund_setting_refunds_the_card_once(make_tenant, central, clock, stripe_env):
    from ezscale.models.billing import Payment
    from tests.factories import add_card, add_customer

    tenant = TenantInfo.of(make_tenant("shop"))
    panels.set_failure_refund(central, mode="card", actor=ADMIN)
    with virtfusion(central) as (sim, _):
        with tenant_db(tenant) as db:
            user = add_customer(db, "card@example.test")
            add_card(db, tenant, user.id)
            placed = orders.place_order(db, tenant=tenant, user_id=user.id, plan_code="vps-1")
            assert placed.paid and placed.invoice.amount_paid_minor > 0
            service_id = placed.service.id
        sim.packages[1]["enabled"] = False
        (job_id,) = job_ids(tenant)
        assert drive(tenant, job_id, clock) == "failed"
        assert drive(tenant, job_id, clock) == "skipped"
    with tenant_db(tenant) as db:
        (payment,) = db.exec(select(Payment)).all()
        assert payment.refunded_minor == payment.amount_minor
        assert credits.balance_minor(db, user_id=user.id, currency="USD") == 0
        assert db.get(Service, service_id).status is ServiceStatus.FAILED
        assert "refunded to the card" in logs.service_log(db, service_id=service_id)[0].message


def test_a_broken_panel_configuration_is_retried_then_alerted(make_tenant, central, clock, monkeypatch):
    from ezscale.models.provisioning import ProvisioningPanel

    alerts = []
    monkeypatch.setattr(jobs, "raise_alert", lambda *a, **k: alerts.append(k["title"]))
    tenant = TenantInfo.of(make_tenant("shop"))
    with virtfusion(central) as (sim, panel_id):
        service_id = _order(tenant)
        panel = central.get(ProvisioningPanel, panel_id)
        panel.credentials = "{}"  # the token was removed: the module cannot be built
        central.add(panel)
        central.commit()
        assert drive(tenant, job_ids(tenant)[0], clock) == "failed"
        assert sim.live_servers() == []
    assert alerts == ["Provisioning job keeps failing"]
    with tenant_db(tenant) as db:
        rows = logs.service_log(db, service_id=service_id)
        assert rows[0].outcome == "failed" and "no API token" in rows[0].message
        assert [r.outcome for r in rows].count("retry") == jobs.CREATE_ATTEMPTS - 1


def _run(tenant: TenantInfo, job_id: int, clock) -> jobs.RunResult:
    with tenant_db(tenant) as db:
        result = jobs.run_job(db, tenant=tenant, job_id=job_id)
    if result.again_in is not None:
        clock.advance(timedelta(seconds=result.again_in))
    return result


def test_polls_are_timed_to_the_learned_build_time(make_tenant, central, clock):
    tenant = TenantInfo.of(make_tenant("shop"))
    with virtfusion(central, build_seconds=3) as (_, panel_id):
        first_id = _order(tenant, "a@example.test")
        (first,) = job_ids(tenant)
        # Nothing learned yet: polls after 1 s, 1 s, 1.15 s; ready at the third (3.15 s).
        assert [_run(tenant, first, clock).again_in for _ in range(3)] == [1.0, 1.0, pytest.approx(1.15)]
        assert _run(tenant, first, clock).again_in is None
        assert _service(tenant, first_id).status is ServiceStatus.ACTIVE
        # The build ended between the last two polls: 3.15 s less half the 1.15 s between them.
        assert BUILD_TIMES.expected(panel_id) == pytest.approx(2.575)

        second_id = _order(tenant, "b@example.test")
        second = job_ids(tenant)[1]
        # The first poll just after the expected end (2.575 + 0.1 s), then every 0.2575 s.
        assert _run(tenant, second, clock).again_in == pytest.approx(2.675)
        assert _run(tenant, second, clock).again_in == pytest.approx(0.2575)  # still building
        assert _run(tenant, second, clock).again_in == pytest.approx(0.2575)  # due 2.9325 s: building
        assert _run(tenant, second, clock).again_in is None  # ready 0.19 s after the build ended
        assert _service(tenant, second_id).status is ServiceStatus.ACTIVE
        # Found by the third poll: most of the way to what it saw (due 3.19 s, less half 0.2575 s).
        learned = 2.575 + UP_WEIGHT * (3.19 - 0.2575 / 2 - 2.575)
        assert BUILD_TIMES.expected(panel_id) == pytest.approx(learned)

        # Each later delivery follows the same rule until a first poll, due late enough, finds
        # the build done: that lowers the expectation by a fifth of the near interval.
        expected = learned
        for n in range(1, 4):
            _order(tenant, f"c{n}@example.test")
            job = job_ids(tenant)[-1]
            near = expected / 10
            assert _run(tenant, job, clock).again_in == pytest.approx(expected + LAG_SECONDS)
            after_first = _run(tenant, job, clock).again_in
            if after_first is None:  # done at the first poll
                assert expected + LAG_SECONDS >= 3
                assert BUILD_TIMES.expected(panel_id) == pytest.approx(expected - DOWN_SHARE * near)
                break
            assert after_first == pytest.approx(near)  # still building; the next poll finds it done
            assert _run(tenant, job, clock).again_in is None
            expected += UP_WEIGHT * (expected + LAG_SECONDS + near / 2 - expected)
            assert BUILD_TIMES.expected(panel_id) == pytest.approx(expected)
        assert n == 1, "the first delivery after the second learned enough to poll once"


def test_a_failed_poll_is_tried_again_soon(make_tenant, central, clock):
    tenant = TenantInfo.of(make_tenant("shop"))
    with virtfusion(central, build_seconds=3) as (sim, _):
        service_id = _order(tenant)
        (job_id,) = job_ids(tenant)
        assert _run(tenant, job_id, clock).again_in == 1.0  # created; building
        sim.inject("GET /servers/{id}", "500", "500", "500")  # the poll and both its retries
        failed = _run(tenant, job_id, clock)
        assert failed.status == "queued" and failed.again_in == 1.0  # not the longest interval (30 s)
        assert drive(tenant, job_id, clock) == "done"
    with tenant_db(tenant) as db:
        rows = logs.service_log(db, service_id=service_id)
        assert [(r.step, r.outcome) for r in rows].count(("poll", "retry")) == 1
