"""Kasm workspaces end to end against the loopback simulator, with an injected clock."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import redis
from sqlmodel import col, select

from ezscale import clock as clock_module
from ezscale.errors import DomainError
from ezscale.models.billing import PaymentMethod, UsageCharge
from ezscale.models.kasm import KasmNotice, KasmUsageSession, KasmWorkspace, NoticeKind, WorkspaceStatus
from ezscale.models.tenant import CreditEntry, CreditKind, Plan, Service, ServiceStatus
from ezscale.services.billing import views as billing_views
from ezscale.services.billing.profiles import ensure_profile
from ezscale.services.catalogue.retail_prices import set_retail_price
from ezscale.services.kasm import signal as kasm_signal
from ezscale.services.kasm import workspaces as kasm
from ezscale.services.kasm.catalogue import seed_catalogue, templates
from ezscale.services.kasm.client import KasmClient
from ezscale.services.kasm.signal import CHANNEL, Change
from ezscale.services.kasm.sync import (
    active_notices,
    add_notice,
    credit_guard,
    keepalive_due,
    reconcile,
    stop_suspended,
)
from ezscale.services.tenancy.tenants import TenantInfo, tenant_session
from ezscale.settings import get_settings
from ezscale.simulators.discord import DiscordSink, serve_discord
from ezscale.simulators.kasm import KasmSimulator, serve
from tests.factories import customer_with_credit

START = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass
class Kasm:
    sim: KasmSimulator
    client: KasmClient
    tenant: TenantInfo
    user_id: int
    discord: DiscordSink

    def db(self):
        return tenant_session(self.tenant)

    def order(self, code: str = "kasm-dev-basic", template: str = "Ubuntu + VS Code") -> int:
        with self.db() as db:
            plan = db.exec(select(Plan).where(Plan.code == code)).one()
            tpl = next(t for t in templates(db) if t.name == template)
            return kasm.order_workspace(db, user_id=self.user_id, plan_id=plan.id, template_id=tpl.id).id

    def step(self, workspace_id: int, failures: int = 0) -> kasm.Step:
        with self.db() as db:
            return kasm.converge_step(
                db, tenant=self.tenant, workspace_id=workspace_id, client=self.client, failures=failures
            )

    def provision(self, workspace_id: int, clock) -> None:
        """Drive the worker's loop: poll while Kasm starts the session (clock moves, no sleeping)."""
        step = self.step(workspace_id)
        while step.next is not kasm.Next.DONE:
            clock.advance(timedelta(seconds=step.delay))
            step = self.step(workspace_id, step.failures)

    def workspace(self, workspace_id: int) -> KasmWorkspace:
        with self.db() as db:
            return db.get(KasmWorkspace, workspace_id)

    def sessions(self, workspace_id: int) -> list[KasmUsageSession]:
        with self.db() as db:
            query = select(KasmUsageSession).where(KasmUsageSession.workspace_id == workspace_id)
            return list(db.exec(query.order_by(KasmUsageSession.id)))


@pytest.fixture
def env(make_tenant, clock, monkeypatch) -> Kasm:
    sink = DiscordSink()
    discord = serve_discord(sink)
    monkeypatch.setenv("ALERT_DISCORD_WEBHOOK_URL", f"{discord.url}/api/webhooks/1/token")
    monkeypatch.setenv("KASM_PROVISION_ATTEMPTS", "3")
    get_settings.cache_clear()
    sim = KasmSimulator(provision_seconds=4, clock=clock_module.now, hang_seconds=1.0)
    server = serve(sim)
    tenant = TenantInfo.of(make_tenant("acme"))
    with tenant_session(tenant) as db:
        seed_catalogue(db)
        user_id = customer_with_credit(db, "casey@example.test", 2000, name="Casey").id
    client = KasmClient(
        base_url=server.url, api_key=sim.api_key, api_secret=sim.api_secret, timeout=0.3, retries=1, backoff=0
    )
    yield Kasm(sim, client, tenant, user_id, sink)
    client.close()
    server.stop()
    discord.stop()


def test_order_needs_five_dollars_or_a_card(env, clock):
    with env.db() as db:
        db.add(
            CreditEntry(
                user_id=env.user_id,
                kind=CreditKind.CHARGE,
                amount_minor=-1600,
                currency="USD",
                created_at=clock.now(),
            )
        )
        db.commit()
    with pytest.raises(DomainError, match=r"at least \$5.00"):
        env.order()
    with env.db() as db:
        assert db.exec(select(Service)).all() == []


def test_a_saved_card_is_enough_and_is_never_auto_stopped(env, clock):
    with env.db() as db:
        db.add(
            CreditEntry(
                user_id=env.user_id,
                kind=CreditKind.CHARGE,
                amount_minor=-2000,
                currency="USD",
                created_at=clock.now(),
            )
        )
        db.add(
            PaymentMethod(
                user_id=env.user_id, stripe_payment_method_id="pm_card_visa", created_at=clock.now()
            )
        )
        db.commit()
    workspace_id = env.order()
    env.provision(workspace_id, clock)
    clock.advance(timedelta(hours=3))
    with env.db() as db:
        [check] = credit_guard(db, tenant=env.tenant)
    assert check.available_minor < 0 and check.stopped == []
    assert env.workspace(workspace_id).status is WorkspaceStatus.RUNNING
    # The card pays: no low-credit warning, and no mail about one.
    assert not check.warned
    with env.db() as db:
        assert db.exec(select(KasmNotice)).all() == []


def test_a_low_credit_warning_clears_when_nothing_runs_or_a_card_is_saved(env, clock):
    workspace_id = env.order(code="kasm-biz-enterprise")  # $0.80 / h against $20.00 credit
    env.provision(workspace_id, clock)
    clock.advance(timedelta(hours=2))
    with env.db() as db:
        assert credit_guard(db, tenant=env.tenant)[0].warned
        assert [n.kind for n in active_notices(db, user_id=env.user_id, since=START)] == [
            NoticeKind.LOW_BALANCE
        ]
        db.add(PaymentMethod(user_id=env.user_id, stripe_payment_method_id="pm_visa", created_at=clock.now()))
        db.commit()
        assert active_notices(db, user_id=env.user_id, since=START) == []  # the card will pay
        card = db.exec(select(PaymentMethod)).one()
        card.removed_at = clock.now()
        db.commit()
        assert len(active_notices(db, user_id=env.user_id, since=START)) == 1
        kasm.stop_workspace(db, user_id=env.user_id, workspace_id=workspace_id)
        assert active_notices(db, user_id=env.user_id, since=START) == []  # nothing is running


def test_billing_upcoming_shows_workspace_usage_so_far_and_when_it_is_invoiced(env, clock):
    clock.set(datetime(2026, 11, 10, 9, 0, tzinfo=UTC))
    with env.db() as db:
        ensure_profile(db, user_id=env.user_id, anchor_day=1)
        db.commit()
        assert billing_views.usage_rows(db, user_id=env.user_id, currency="USD") == []
    workspace_id = env.order(code="kasm-biz-enterprise")  # $0.80 / h, per started 15 minutes
    env.provision(workspace_id, clock)
    clock.advance(timedelta(minutes=20))
    with env.db() as db:
        [row] = billing_views.usage_rows(db, user_id=env.user_id, currency="USD")
        assert row.plan.startswith("Workspace usage so far (running, as of") and row.running
        assert (row.next_date, row.amount) == ("2026-12-01", "$0.40")
        kasm.stop_workspace(db, user_id=env.user_id, workspace_id=workspace_id)
    clock.advance(timedelta(hours=5))  # stopped: the amount stays, and no longer grows
    with env.db() as db:
        view = billing_views.overview(db, tenant=env.tenant, user_id=env.user_id)
    assert [(r.plan, r.next_date, r.amount, r.running) for r in view.upcoming] == [
        ("Workspace usage so far", "2026-12-01", "$0.40", False)
    ]


def test_provisioning_success_opens_a_session_and_emails_credentials(env, clock):
    workspace_id = env.order()
    ws = env.workspace(workspace_id)
    assert ws.status is WorkspaceStatus.PROVISIONING
    assert env.step(workspace_id).next is kasm.Next.POLL  # Kasm is still starting it
    assert env.workspace(workspace_id).status is WorkspaceStatus.PROVISIONING
    clock.advance(timedelta(seconds=5))
    assert env.step(workspace_id).next is kasm.Next.DONE
    ws = env.workspace(workspace_id)
    assert ws.status is WorkspaceStatus.RUNNING
    assert ws.kasm_id in env.sim.kasms and ws.login_password
    with env.db() as db:
        assert db.get(Service, ws.service_id).status is ServiceStatus.ACTIVE
        raw = db.connection().exec_driver_sql("SELECT login_password FROM kasm_workspaces").scalar()
        assert raw != ws.login_password  # encrypted at rest
    [usage] = env.sessions(workspace_id)
    assert usage.started_at == clock.now() and usage.stopped_at is None and usage.rate == Decimal("0.15")
    assert usage.kasm_start_date == ws.kasm_start_date
    from ezscale.services.core.mail import list_outbox

    [mail] = list_outbox(tenant=env.tenant, to="casey@example.test")
    assert "ready" in mail.subject


def test_transient_failure_then_success(env, clock):
    env.sim.inject("request_kasm", "500")
    env.sim.inject("get_kasm_status", "malformed", "timeout")
    workspace_id = env.order()
    step = env.step(workspace_id)
    assert step.next is kasm.Next.RETRY and step.failures == 1
    env.provision(workspace_id, clock)
    assert env.workspace(workspace_id).status is WorkspaceStatus.RUNNING
    assert len(env.sim.kasms) == 1  # retries never left a second session behind
    assert env.discord.messages == []


def test_lost_reply_is_adopted_not_duplicated(env, clock):
    workspace_id = env.order()
    env.step(workspace_id)  # request_kasm succeeded...
    with env.db() as db:  # ...but pretend its reply never arrived
        ws = db.get(KasmWorkspace, workspace_id)
        ws.kasm_id = None
        db.add(ws)
        db.commit()
    clock.advance(timedelta(seconds=5))
    env.provision(workspace_id, clock)
    assert list(env.sim.kasms) == [env.workspace(workspace_id).kasm_id]


def test_permanent_failure_alerts_marks_failed_and_leaves_no_orphan(env, clock):
    env.sim.inject("get_kasm_status", *["500"] * 10)
    workspace_id = env.order()
    env.provision(workspace_id, clock)
    ws = env.workspace(workspace_id)
    assert ws.status is WorkspaceStatus.FAILED
    assert "could not start" in ws.status_reason
    with env.db() as db:
        assert db.get(Service, ws.service_id).status is ServiceStatus.FAILED
    assert env.sim.kasms == {}  # the half-made session was destroyed
    [alert] = env.discord.messages
    assert "Kasm provisioning failed" in alert["content"]
    assert "HTTP 500" in alert["embeds"][0]["description"]
    assert env.sessions(workspace_id) == []


def test_terminated_while_provisioning_is_cleaned_up_not_started(env, clock):
    workspace_id = env.order()
    assert env.step(workspace_id).next is kasm.Next.POLL
    with env.db() as db:
        kasm.terminate_workspace(db, user_id=env.user_id, workspace_id=workspace_id)
    clock.advance(timedelta(seconds=5))
    assert env.step(workspace_id).next is kasm.Next.DONE
    ws = env.workspace(workspace_id)
    assert ws.status is WorkspaceStatus.TERMINATED and ws.kasm_id is None
    assert env.sim.kasms == {} and env.sessions(workspace_id) == []


def test_refused_request_fails_at_once(env, clock):
    env.sim.inject("request_kasm", "error")
    workspace_id = env.order()
    assert env.step(workspace_id).next is kasm.Next.DONE
    assert env.workspace(workspace_id).status is WorkspaceStatus.FAILED
    assert len(env.discord.messages) == 1


def _running(env, clock) -> int:
    workspace_id = env.order()
    env.provision(workspace_id, clock)
    return workspace_id


def test_stop_closes_the_session_at_the_moment_and_bills_it(env, clock):
    workspace_id = _running(env, clock)
    clock.advance(timedelta(minutes=22))
    with env.db() as db:
        kasm.stop_workspace(db, user_id=env.user_id, workspace_id=workspace_id)
    [usage] = env.sessions(workspace_id)
    assert usage.stopped_at == clock.now() and usage.billable_seconds == 30 * 60
    assert usage.cost_minor == 8  # 0.5 h × $0.15 = $0.075 → 8 cents
    clock.advance(timedelta(minutes=5))  # the worker stops it in Kasm later: not billed
    assert env.step(workspace_id).next is kasm.Next.DONE
    assert env.workspace(workspace_id).status is WorkspaceStatus.STOPPED
    assert env.sim.kasms == {}
    with env.db() as db:
        [charge] = db.exec(select(UsageCharge)).all()
        assert charge.amount_minor == 8 and charge.quantity == Decimal("0.5")
        assert charge.source_key.startswith(f"kasm:{usage.kasm_id}:")


def test_a_new_rate_applies_to_new_sessions_only(env, clock):
    workspace_id = _running(env, clock)
    with env.db() as db:
        plan = db.exec(select(Plan).where(Plan.code == "kasm-dev-basic")).one()
        set_retail_price(db, plan_id=plan.id, price="0.40")  # the tenant's own rate (reseller pricing)
    clock.advance(timedelta(minutes=50))
    with env.db() as db:
        kasm.stop_workspace(db, user_id=env.user_id, workspace_id=workspace_id)
    env.step(workspace_id)
    with env.db() as db:
        kasm.start_workspace(db, user_id=env.user_id, workspace_id=workspace_id)
    env.provision(workspace_id, clock)
    old, new = env.sessions(workspace_id)
    assert (old.rate, old.cost_minor) == (Decimal("0.15"), 15)  # locked at start: 1 h × $0.15
    assert new.rate == Decimal("0.40")


def test_start_again_opens_a_new_session(env, clock):
    workspace_id = _running(env, clock)
    with env.db() as db:
        kasm.stop_workspace(db, user_id=env.user_id, workspace_id=workspace_id)
    env.step(workspace_id)
    with env.db() as db:
        kasm.start_workspace(db, user_id=env.user_id, workspace_id=workspace_id)
    env.provision(workspace_id, clock)
    assert env.workspace(workspace_id).status is WorkspaceStatus.RUNNING
    assert [s.stopped_at is None for s in env.sessions(workspace_id)] == [False, True]


def test_persistent_template_is_stopped_and_resumed(env, clock):
    workspace_id = env.order(template="Ubuntu Desktop")
    env.provision(workspace_id, clock)
    kasm_id = env.workspace(workspace_id).kasm_id
    with env.db() as db:
        kasm.stop_workspace(db, user_id=env.user_id, workspace_id=workspace_id)
    env.step(workspace_id)
    assert env.sim.kasms[kasm_id].status == "stopped"
    with env.db() as db:
        kasm.start_workspace(db, user_id=env.user_id, workspace_id=workspace_id)
    env.provision(workspace_id, clock)
    first, second = env.sessions(workspace_id)
    assert (first.kasm_id, first.segment, second.kasm_id, second.segment) == (kasm_id, 0, kasm_id, 1)


def test_out_of_band_stop_is_reconciled_once(env, clock):
    workspace_id = _running(env, clock)
    kasm_id = env.workspace(workspace_id).kasm_id
    clock.advance(timedelta(minutes=40))
    env.sim.stop_outside(kasm_id)
    clock.advance(timedelta(minutes=1))
    for _ in range(2):  # re-polling never double-counts
        with env.db() as db:
            reconcile(db, tenant=env.tenant, listing=env.client.get_kasms(), client=env.client)
    ws = env.workspace(workspace_id)
    assert ws.status is WorkspaceStatus.STOPPED and "outside" in ws.status_reason
    [usage] = env.sessions(workspace_id)
    assert usage.stopped_at == clock.now() and usage.billable_seconds == 45 * 60
    with env.db() as db:
        assert len(db.exec(select(UsageCharge)).all()) == 1


def test_expired_session_closes_at_kasm_expiration(env, clock):
    env.sim.keepalive_seconds = 600
    workspace_id = _running(env, clock)
    with env.db() as db:
        reconcile(db, tenant=env.tenant, listing=env.client.get_kasms(), client=env.client)
    expires = env.workspace(workspace_id).kasm_expires_at
    clock.advance(timedelta(hours=1))
    with env.db() as db:
        reconcile(db, tenant=env.tenant, listing=env.client.get_kasms(), client=env.client)
    [usage] = env.sessions(workspace_id)
    assert usage.stopped_at == expires


def test_keepalive_keeps_it_running(env, clock):
    env.sim.keepalive_seconds = 600
    workspace_id = _running(env, clock)
    for _ in range(6):
        clock.advance(timedelta(minutes=5))
        with env.db() as db:
            keepalive_due(db, tenant=env.tenant, client=env.client)
    assert env.workspace(workspace_id).kasm_id in env.sim.kasms


def test_kasm_usage_limit_stops_billing_and_tells_the_customer(env, clock):
    workspace_id = _running(env, clock)
    env.sim.limit_reached.add(env.workspace(workspace_id).kasm_id)
    clock.advance(timedelta(minutes=10))
    with env.db() as db:
        keepalive_due(db, tenant=env.tenant, client=env.client)
    ws = env.workspace(workspace_id)
    assert ws.status is WorkspaceStatus.STOPPING and ws.status_reason == "Kasm usage limit reached"
    [usage] = env.sessions(workspace_id)
    assert usage.stopped_at == clock.now() and usage.cost_minor == 4
    with env.db() as db:
        assert db.exec(select(KasmNotice).where(KasmNotice.kind == NoticeKind.USAGE_LIMIT)).one()


def test_live_tracker_reports_each_change_once(env, clock):
    from ezscale.state.kasm_live import _Tracker

    tracker = _Tracker()
    watched = {env.tenant.id: {env.user_id}}
    me = {(env.tenant.id, env.user_id)}
    workspace_id = _running(env, clock)
    assert tracker.changed_users(watched) == me
    assert tracker.changed_users(watched) == set()
    assert tracker.changed_users({env.tenant.id: {env.user_id + 1}}) == set()  # not watched
    clock.advance(timedelta(seconds=1))
    with env.db() as db:
        kasm.stop_workspace(db, user_id=env.user_id, workspace_id=workspace_id)
    assert tracker.changed_users(watched) == me
    with env.db() as db:
        add_notice(
            db, tenant=env.tenant, user_id=env.user_id, kind=NoticeKind.LOW_BALANCE, key="k", message="m"
        )
    assert tracker.changed_users(watched) == me
    assert tracker.changed_users(watched) == set()


def _received(pubsub, database: str, *, until: datetime | None = None) -> list[Change]:
    """This database's signals delivered (publishing happens inside the commit, before this runs):
    up to the one stamped `until` (waiting up to 10 s for it on a busy machine), then any within
    0.5 s. Other test runs on the same Redis may publish too; their databases differ."""
    changes: list[Change] = []
    while (
        message := pubsub.get_message(
            ignore_subscribe_messages=True,
            timeout=10 if until is not None and until not in {c.at for c in changes} else 0.5,
        )
    ) is not None:
        change = Change.decode(message["data"].decode())
        if change.database == database:
            changes.append(change)
    return changes


def test_committed_workspace_changes_are_signalled_once_and_the_poll_does_not_repeat_them(
    env, clock, redis_url
):
    from ezscale.state.kasm_live import _Tracker

    kasm_signal.install()  # as the app and the worker do at start
    pubsub = redis.Redis.from_url(redis_url).pubsub()
    pubsub.subscribe(CHANNEL)
    assert pubsub.get_message(timeout=10)["type"] == "subscribe"
    workspace_id = _running(env, clock)
    database = env.tenant.database_name
    signalled = _received(pubsub, database, until=env.workspace(workspace_id).changed_at)
    assert {(c.key, c.user_id) for c in signalled} == {(f"w{workspace_id}", env.user_id)}
    assert signalled[-1].at == env.workspace(workspace_id).changed_at

    with env.db() as db:  # a write that does not move changed_at is not a dashboard change
        ws = db.get(KasmWorkspace, workspace_id)
        ws.kasm_expires_at = clock.now() + timedelta(hours=1)
        db.commit()
    with env.db() as db:  # nor is a change rolled back
        ws = db.get(KasmWorkspace, workspace_id)
        ws.changed_at = clock.now() + timedelta(seconds=1)
        db.flush()
        db.rollback()
    assert _received(pubsub, database) == []

    clock.advance(timedelta(seconds=1))
    with env.db() as db:
        kasm.stop_workspace(db, user_id=env.user_id, workspace_id=workspace_id)
    [stop] = _received(pubsub, database, until=env.workspace(workspace_id).changed_at)
    tracker = _Tracker()
    watched = {env.tenant.id: {env.user_id}}
    assert tracker.is_new(env.tenant.id, stop.key, stop.at)  # the listener pushes this one …
    assert tracker.changed_users(watched) == set()  # … so the poll does not push it again
    assert not tracker.is_new(env.tenant.id, stop.key, stop.at)


def test_orphans_of_our_users_are_destroyed(env, clock):
    workspace_id = _running(env, clock)
    ws = env.workspace(workspace_id)
    stray = env.sim.add_running(user_id=ws.kasm_user_id, image_id=env.sim.image_id("kasmweb/chrome:1.16.0"))
    clock.advance(timedelta(minutes=11))
    with env.db() as db:
        result = reconcile(db, tenant=env.tenant, listing=env.client.get_kasms(), client=env.client)
    assert result.destroyed == [stray]
    assert ws.kasm_id in env.sim.kasms


def test_period_boundary_split(env, clock):
    clock.set(datetime(2026, 11, 30, 23, 50, tzinfo=UTC))
    workspace_id = _running(env, clock)
    started = clock.now()
    clock.set(datetime(2026, 12, 1, 0, 0, 30, tzinfo=UTC))
    with env.db() as db:
        reconcile(db, tenant=env.tenant, listing=env.client.get_kasms(), client=env.client)
    clock.set(datetime(2026, 12, 1, 0, 20, tzinfo=UTC))
    with env.db() as db:
        kasm.stop_workspace(db, user_id=env.user_id, workspace_id=workspace_id)
    november, december = env.sessions(workspace_id)
    assert (november.started_at, november.stopped_at) == (started, datetime(2026, 12, 1, tzinfo=UTC))
    assert december.started_at == datetime(2026, 12, 1, tzinfo=UTC) and december.segment == 1
    # 29m56s in all → 30 billable minutes, split exactly at midnight.
    assert november.billable_seconds + december.billable_seconds == 30 * 60
    assert november.cost_minor + december.cost_minor == 8
    with env.db() as db:
        charges = db.exec(select(UsageCharge).order_by(UsageCharge.period_start)).all()
    assert next(c.period_end for c in charges) == datetime(2026, 12, 1, tzinfo=UTC)
    assert sum(c.amount_minor for c in charges) == 8


def test_credit_guard_warns_then_stops_a_prepaid_customer(env, clock):
    workspace_id = env.order(code="kasm-biz-enterprise")  # $0.80 / h against $20.00 credit
    env.provision(workspace_id, clock)
    with env.db() as db:
        assert not credit_guard(db, tenant=env.tenant)[0].warned  # 25 h of credit left: fine
    clock.advance(timedelta(hours=2))
    for _ in range(2):  # 23 h left < 24 h: warned once a day, however often the guard runs
        with env.db() as db:
            credit_guard(db, tenant=env.tenant)
    with env.db() as db:
        [warning] = db.exec(select(KasmNotice).where(KasmNotice.kind == NoticeKind.LOW_BALANCE)).all()
    assert "will run out within 24 hours" in warning.message
    clock.advance(timedelta(hours=22, minutes=40))
    with env.db() as db:
        check = credit_guard(db, tenant=env.tenant)[0]
    assert check.stopped == [] and check.available_minor == 20  # 24 h 45 min billed: $19.80
    clock.advance(timedelta(minutes=10))
    with env.db() as db:
        check = credit_guard(db, tenant=env.tenant)[0]
    assert check.stopped == [workspace_id] and check.available_minor <= 0
    ws = env.workspace(workspace_id)
    assert ws.status is WorkspaceStatus.STOPPING and "credit" in ws.status_reason
    [usage] = env.sessions(workspace_id)
    assert usage.stopped_at == clock.now()
    with env.db() as db:
        notice = db.exec(select(KasmNotice).where(KasmNotice.kind == NoticeKind.AUTO_STOPPED)).one()
    assert "stopped" in notice.message
    env.step(workspace_id)
    assert env.sim.kasms == {}


def test_a_suspended_service_stops_its_workspace_and_cannot_start_until_unsuspended(env, clock):
    workspace_id = _running(env, clock)
    clock.advance(timedelta(minutes=8))
    with env.db() as db:
        service = db.get(Service, env.workspace(workspace_id).service_id)
        service.status = ServiceStatus.SUSPENDED  # as dunning does when the invoice is overdue
        db.commit()
        assert stop_suspended(db) == [workspace_id]
        assert stop_suspended(db) == []
    ws = env.workspace(workspace_id)
    assert ws.status is WorkspaceStatus.STOPPING and ws.status_reason == "Suspended: invoice overdue"
    [usage] = env.sessions(workspace_id)
    assert usage.stopped_at == clock.now() and usage.billable_seconds == 15 * 60
    env.step(workspace_id)
    with env.db() as db, pytest.raises(DomainError, match="suspended until its overdue invoice is paid"):
        kasm.start_workspace(db, user_id=env.user_id, workspace_id=workspace_id)
    assert env.workspace(workspace_id).status is WorkspaceStatus.STOPPED
    with env.db() as db:
        service = db.get(Service, ws.service_id)
        service.status = ServiceStatus.ACTIVE  # paid: dunning unsuspends
        db.commit()
        assert kasm.start_workspace(db, user_id=env.user_id, workspace_id=workspace_id).status is (
            WorkspaceStatus.STARTING
        )


def test_a_signalled_change_re_reads_only_that_workspace_and_matches_the_dashboard(env, clock):
    from ezscale.services.kasm.view import dashboard, patch, patched_rows

    first = _running(env, clock)
    second = _running(env, clock)

    def now_view():
        with env.db() as db:
            return dashboard(db, user_id=env.user_id, now=clock.now(), currency="USD")

    def now_patch(key: str, user_id: int | None = None):
        with env.db() as db:
            return patch(db, user_id=user_id or env.user_id, key=key, now=clock.now(), currency="USD")

    shown = now_view()
    clock.advance(timedelta(minutes=5))
    running = now_patch(f"w{second}")  # still running: the row alone
    assert running.row == next(r for r in now_view().workspaces if r.id == second)
    assert (running.history, running.month, running.balance, running.notices) == (None, None, None, None)

    with env.db() as db:
        kasm.stop_workspace(db, user_id=env.user_id, workspace_id=first)
    stopped = now_patch(f"w{first}")  # its session closed: history, month and balance too
    after = now_view()
    assert stopped.row == next(r for r in after.workspaces if r.id == first)
    assert [r.id for r in patched_rows(shown.workspaces, stopped)] == [r.id for r in after.workspaces]
    assert (stopped.history, stopped.month, stopped.balance) == (after.history, after.month, after.balance)
    assert stopped.row.status == "stopping" and len(stopped.history) == 1

    with env.db() as db:
        kasm.terminate_workspace(db, user_id=env.user_id, workspace_id=first)
    gone = now_patch(f"w{first}")
    assert gone.row is None and [r.id for r in patched_rows(after.workspaces, gone)] == [second]

    # A forged key (another customer's workspace) reads nothing of theirs and removes nothing of ours.
    stranger = now_patch(f"w{second}", user_id=env.user_id + 1000)
    assert stranger.row is None and stranger.history == []
    assert patched_rows([], stranger) == []  # the stranger's own (empty) dashboard stays empty

    with env.db() as db:
        add_notice(
            db, tenant=env.tenant, user_id=env.user_id, kind=NoticeKind.LOW_BALANCE, key="k", message="m"
        )
    with env.db() as db:
        notice_id = db.exec(select(KasmNotice.id).order_by(col(KasmNotice.id).desc())).first()
    notice = now_patch(f"n{notice_id}")
    assert notice.notices == now_view().notices == ["m"] and notice.workspace_id == 0
