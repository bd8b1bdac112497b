"""A hand-made analytics dataset (October 2026) whose figures the tests write out by hand.

House tenant (USD); MRR at the start of October 15900 (Alice 1500, Carol 12900, Dan 1500):
  Alice  vps-2 1500 since 5 Sep; upgraded to dedi-e3 12900 on 10 Oct     → expansion 11400
  Bob    signs up 2 Oct; annual 12000 (= 1000/month) on 3 Oct             → new 1000
  Carol  dedi-e3 12900 since 2 Sep; downgraded to vps-2 1500 on 20 Oct    → contraction 11400
  Dan    vps-2 1500 since 1 Aug; cancelled 15 Oct                          → churned 1500
  Erin   signs up 5 Oct; quarterly 2999 (= 999.666667/month) on 5 Oct     → new 999.666667
  Frank  signs up 1 Oct; Kasm workspace; usage 10 h = 300 (8 Oct), 2 h = 60 (22 Oct)
                                                                           → new 300, expansion 60
  Gina   signs up 25 Oct, buys nothing.
Reseller "acme" (USD): Hank vps-1 600 and Jack vps-2 1500 since Sep; Ivy vps-2 1500 from
12 Oct, cancelled 28 Oct → new 1500 then churned 1500.
Invoices (house): paid Bob 12000 (3 Oct), Alice 1500 + 300 tax (6 Oct), Erin 2999 (issued 5 Oct,
due 19 Oct, paid 25 Oct); open Carol 12900 (due 16 Sep), Alice 1500 (due 15 Aug), Dan 1500
(due 15 Jul), Frank 360 (issued 31 Oct, due 14 Nov). Acme: Hank 600 paid 1 Oct.
All amounts are minor units (cents).
"""

from datetime import UTC, datetime
from decimal import Decimal

from sqlmodel import Session, select

from ezscale import clock
from ezscale.models.kasm import KasmTemplate, KasmUsageSession, KasmWorkspace, WorkspaceStatus
from ezscale.models.tenant import (
    BillingInterval,
    Invoice,
    InvoiceItem,
    InvoiceStatus,
    Plan,
    Service,
    ServiceStatus,
    ServiceType,
    Subscription,
    SubscriptionStatus,
    User,
)
from ezscale.services.tenancy.tenants import TenantInfo, tenant_session


def at(month: int, day: int, hour: int = 9) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def _plan(db: Session, code: str) -> Plan:
    return db.exec(select(Plan).where(Plan.code == code)).one()


def _user(db: Session, email: str, joined: datetime, country: str = "US") -> User:
    user = User(
        email=email, password_hash="-", name=email.split("@")[0].title(), country=country, created_at=joined
    )
    db.add(user)
    db.flush()
    return user


def _subscribe(db: Session, user: User, code: str, since: datetime, *, cancelled: datetime | None = None):
    plan = _plan(db, code)
    service = Service(
        user_id=user.id, plan_id=plan.id, label=plan.name, status=ServiceStatus.ACTIVE, created_at=since
    )
    db.add(service)
    db.flush()
    sub = Subscription(
        user_id=user.id,
        plan_id=plan.id,
        service_id=service.id,
        current_period_start=since,
        current_period_end=since,
        created_at=since,
        status=SubscriptionStatus.CANCELLED if cancelled else SubscriptionStatus.ACTIVE,
        cancelled_at=cancelled,
    )
    db.add(sub)
    db.commit()
    return sub


def _change_plan(db: Session, sub: Subscription, code: str, when: datetime) -> None:
    """As the billing service does: plan ids updated in place (the listener keeps the history)."""
    previous = clock.set_clock(clock.FrozenClock(when))
    try:
        sub.plan_id = _plan(db, code).id
        service = db.get(Service, sub.service_id)
        service.plan_id = sub.plan_id
        db.add_all([sub, service])
        db.commit()
    finally:
        clock.set_clock(previous)


def _invoice(
    db: Session,
    user: User,
    number: str,
    subtotal: int,
    issued: datetime,
    due: datetime,
    *,
    service_id: int | None = None,
    tax: int = 0,
    paid: datetime | None = None,
):
    """An issued invoice with one line (lines are added while it is a draft, as billing does)."""
    invoice = Invoice(
        user_id=user.id,
        number=number,
        currency="USD",
        subtotal_minor=subtotal,
        tax_minor=tax,
        total_minor=subtotal + tax,
        tax_label="VAT" if tax else "",
        tax_rate_percent=Decimal(tax * 100 // subtotal),
        issued_at=issued,
        due_at=due,
        created_at=issued,
    )
    db.add(invoice)
    db.flush()
    db.add(
        InvoiceItem(
            invoice_id=invoice.id,
            service_id=service_id,
            description=number,
            unit_minor=subtotal,
            amount_minor=subtotal,
        )
    )
    db.flush()
    invoice.status = InvoiceStatus.PAID if paid else InvoiceStatus.OPEN
    invoice.paid_at, invoice.amount_paid_minor = paid, subtotal + tax if paid else 0
    db.add(invoice)
    db.flush()


def _kasm_usage(db: Session, user: User, sessions: list[tuple[datetime, int, int]]) -> None:
    plan = _plan(db, "kasm-dev-pro")
    template = KasmTemplate(name="Analytics Desktop", image_id="img-analytics")
    service = Service(
        user_id=user.id,
        plan_id=plan.id,
        label="Workspace",
        status=ServiceStatus.ACTIVE,
        created_at=user.created_at,
    )
    db.add_all([template, service])
    db.flush()
    workspace = KasmWorkspace(
        service_id=service.id,
        user_id=user.id,
        plan_id=plan.id,
        template_id=template.id,
        status=WorkspaceStatus.STOPPED,
        cores=4,
        memory_mb=8192,
        created_at=user.created_at,
        changed_at=user.created_at,
    )
    db.add(workspace)
    db.flush()
    for n, (stopped, seconds, cost) in enumerate(sessions):
        started = stopped.replace(hour=stopped.hour - seconds // 3600)
        db.add(
            KasmUsageSession(
                workspace_id=workspace.id,
                user_id=user.id,
                kasm_id=f"k{n}",
                kasm_start_date=started,
                session_started_at=started,
                started_at=started,
                stopped_at=stopped,
                rate=Decimal("0.30"),
                currency="USD",
                billable_seconds=seconds,
                cost_minor=cost,
            )
        )


def build_house(tenant: TenantInfo) -> None:
    with tenant_session(tenant) as db:
        db.add_all(
            [
                Plan(
                    code="vps-annual",
                    name="VPS Annual",
                    billing_interval=BillingInterval.ANNUAL,
                    price_minor=12000,
                ),
                Plan(
                    code="vps-quarterly",
                    name="VPS Quarterly",
                    billing_interval=BillingInterval.QUARTERLY,
                    price_minor=2999,
                    service_type=ServiceType.VPS,
                ),
            ]
        )
        alice = _user(db, "alice@example.test", at(9, 1), country="DE")
        bob = _user(db, "bob@example.test", at(10, 2))
        carol = _user(db, "carol@example.test", at(9, 1))
        dan = _user(db, "dan@example.test", at(8, 1))
        erin = _user(db, "erin@example.test", at(10, 5, 8))
        frank = _user(db, "frank@example.test", at(10, 1))
        _user(db, "gina@example.test", at(10, 25))
        db.commit()
        alice_sub = _subscribe(db, alice, "vps-2", at(9, 5, 10))
        bob_sub = _subscribe(db, bob, "vps-annual", at(10, 3, 8))
        carol_sub = _subscribe(db, carol, "dedi-e3", at(9, 2))
        _subscribe(db, dan, "vps-2", at(8, 1), cancelled=at(10, 15))
        erin_sub = _subscribe(db, erin, "vps-quarterly", at(10, 5))
        _change_plan(db, alice_sub, "dedi-e3", at(10, 10, 12))
        _change_plan(db, carol_sub, "vps-2", at(10, 20))
        _kasm_usage(db, frank, [(at(10, 8, 12), 36000, 300), (at(10, 22, 18), 7200, 60)])
        _invoice(
            db,
            bob,
            "INV-1",
            12000,
            at(10, 3, 8),
            at(10, 17),
            service_id=bob_sub.service_id,
            paid=at(10, 3, 10),
        )
        _invoice(
            db,
            alice,
            "INV-2",
            1500,
            at(10, 5),
            at(10, 19),
            service_id=alice_sub.service_id,
            tax=300,
            paid=at(10, 6),
        )
        _invoice(
            db, erin, "INV-3", 2999, at(10, 5), at(10, 19), service_id=erin_sub.service_id, paid=at(10, 25)
        )
        _invoice(db, carol, "INV-4", 12900, at(9, 2), at(9, 16))
        _invoice(db, alice, "INV-5", 1500, at(8, 1), at(8, 15))
        _invoice(db, dan, "INV-6", 1500, at(7, 1), at(7, 15))
        _invoice(db, frank, "INV-7", 360, at(10, 31, 12), at(11, 14))
        db.commit()


def build_reseller(tenant: TenantInfo) -> None:
    with tenant_session(tenant) as db:
        hank = _user(db, "hank@example.test", at(9, 15))
        jack = _user(db, "jack@example.test", at(9, 20))
        ivy = _user(db, "ivy@example.test", at(10, 12))
        db.commit()
        hank_sub = _subscribe(db, hank, "vps-1", at(9, 15))
        _subscribe(db, jack, "vps-2", at(9, 20))
        _subscribe(db, ivy, "vps-2", at(10, 12), cancelled=at(10, 28))
        _invoice(
            db,
            hank,
            "INV-1",
            600,
            at(10, 1, 6),
            at(10, 15),
            service_id=hank_sub.service_id,
            paid=at(10, 1, 7),
        )
        db.commit()


def build(central: Session, make_tenant) -> tuple[TenantInfo, TenantInfo]:
    """Both tenants of the dataset (created with `make_tenant`)."""
    house = TenantInfo.of(make_tenant("house", is_house=True, currency="USD", primary_domain="localhost"))
    reseller = TenantInfo.of(make_tenant("acme", currency="USD"))
    build_house(house)
    build_reseller(reseller)
    return house, reseller
