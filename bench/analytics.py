"""Benchmark: the admin analytics dashboard over 2 years of history for 10,000 customers.

    .venv/bin/python bench/analytics.py [--customers 10000] [--backend sqlite|postgres]

One tenant gets 10,000 customers over two years (monthly, quarterly and annual subscriptions, a
tenth of them cancelled, plan changes, Kasm usage) and a paid invoice of eight lines per customer
per month: about 1M invoice lines. Then it times the snapshot backfill of 730 days, the nightly
snapshot of one day, and the dashboard load (platform and tenant scope) read from the snapshots,
against computing the same two years straight from the tenant database.
Target (issue 7): dashboard load < 200 ms server time with snapshots.
"""

import argparse
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa
from sqlmodel import select

from bench._platform import bench_platform
from ezscale import clock, migrations
from ezscale.db import central_session, engine_for, tenant_database_url
from ezscale.models.analytics import PLATFORM_SCOPE, PlanChange, tenant_scope
from ezscale.models.kasm import KasmTemplate, KasmUsageSession, KasmWorkspace
from ezscale.models.tenant import (
    BillingInterval,
    Invoice,
    InvoiceItem,
    Plan,
    Service,
    Subscription,
    User,
)
from ezscale.services.analytics.dashboard import load_dashboard
from ezscale.services.analytics.metrics import compute_days
from ezscale.services.analytics.snapshots import snapshot_days
from ezscale.services.tenancy.tenants import TenantInfo, create_tenant, tenant_session

TODAY = date(2026, 11, 23)
START = TODAY - timedelta(days=730)
CHUNK = 20_000
LINES = 8  # per monthly invoice: about 1M lines for 10,000 customers over two years


def _at(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def _insert(conn, table, rows: list[dict]) -> None:
    for start in range(0, len(rows), CHUNK):
        conn.execute(sa.insert(table), rows[start : start + CHUNK])


def _populate(tenant: TenantInfo, customers: int) -> int:
    rng = random.Random(7)
    with tenant_session(tenant) as db:
        plans = [
            p
            for p in db.exec(select(Plan).order_by(Plan.id))
            if p.billing_interval is BillingInterval.MONTHLY
        ]
        db.add_all(
            [
                Plan(
                    code="b-q", name="Quarterly", billing_interval=BillingInterval.QUARTERLY, price_minor=2999
                ),
                Plan(code="b-a", name="Annual", billing_interval=BillingInterval.ANNUAL, price_minor=12000),
                KasmTemplate(name="Bench", image_id="bench"),
            ]
        )
        db.commit()
        plans += list(db.exec(select(Plan).where(Plan.code.in_(("b-q", "b-a"))).order_by(Plan.id)))
        kasm_plan = db.exec(select(Plan).where(Plan.code == "kasm-dev-pro")).one()
        template_id = db.exec(select(KasmTemplate.id)).one()
    users, services, subs, changes, invoices, items, workspaces, usage = [], [], [], [], [], [], [], []
    invoice_id = item_id = 0
    for uid in range(1, customers + 1):
        joined = START + timedelta(days=rng.randrange(700))
        users.append(
            {
                "id": uid,
                "email": f"c{uid}@bench.test",
                "password_hash": "-",
                "role": "customer",
                "name": f"C {uid}",
                "country": rng.choice(["US", "DE", "FR", "GB"]),
                "created_at": _at(joined),
                "is_active": True,
            }
        )
        plan = rng.choice(plans)
        ended = joined + timedelta(days=rng.randrange(30, 600)) if rng.random() < 0.1 else None
        ended = ended if ended and ended < TODAY else None
        services.append(
            {
                "id": uid,
                "user_id": uid,
                "plan_id": plan.id,
                "label": plan.name,
                "status": "active",
                "status_reason": "",
                "created_at": _at(joined),
            }
        )
        subs.append(
            {
                "id": uid,
                "user_id": uid,
                "plan_id": plan.id,
                "service_id": uid,
                "status": "cancelled" if ended else "active",
                "current_period_start": _at(joined),
                "current_period_end": _at(joined),
                "cancel_at_period_end": False,
                "cancelled_at": _at(ended) if ended else None,
                "created_at": _at(joined),
            }
        )
        if rng.random() < 0.15:
            other = rng.choice([p for p in plans if p.billing_interval is plan.billing_interval])
            when = joined + timedelta(days=rng.randrange(1, 60))
            if other.id != plan.id and when < (ended or TODAY):
                changes.append(
                    {
                        "subscription_id": uid,
                        "user_id": uid,
                        "from_plan_id": plan.id,
                        "to_plan_id": other.id,
                        "changed_at": _at(when, 12),
                    }
                )
        month = joined
        while month < (ended or TODAY):
            invoice_id += 1
            paid = month + timedelta(days=rng.randrange(0, 5))
            invoices.append(
                {
                    "id": invoice_id,
                    "user_id": uid,
                    "number": f"INV-{invoice_id}",
                    "status": "paid",
                    "currency": "USD",
                    "subtotal_minor": LINES * 250,
                    "tax_minor": 0,
                    "total_minor": LINES * 250,
                    "issued_at": _at(month),
                    "due_at": _at(month + timedelta(days=14)),
                    "paid_at": _at(paid) if paid < TODAY else None,
                    "created_at": _at(month),
                    "kind": "invoice",
                    "bill_to": "",
                    "memo": "",
                    "tax_label": "",
                    "tax_rate_percent": 0,
                    "reverse_charge": False,
                    "credit_applied_minor": 0,
                    "amount_paid_minor": LINES * 250,
                    "credited_minor": 0,
                    "attempt_count": 0,
                }
            )
            if paid >= TODAY:
                invoices[-1]["status"] = "open"
            for n in range(LINES):
                item_id += 1
                items.append(
                    {
                        "id": item_id,
                        "invoice_id": invoice_id,
                        "service_id": uid,
                        "description": f"line {n}",
                        "quantity": Decimal(1),
                        "unit_minor": 250,
                        "amount_minor": 250,
                    }
                )
            month += timedelta(days=30)
        if uid % 10 == 0:
            workspaces.append(
                {
                    "id": uid // 10,
                    "service_id": uid,
                    "user_id": uid,
                    "plan_id": kasm_plan.id,
                    "template_id": template_id,
                    "status": "stopped",
                    "status_reason": "",
                    "login_username": "",
                    "cores": 4,
                    "memory_mb": 8192,
                    "attempts": 0,
                    "created_at": _at(joined),
                    "changed_at": _at(joined),
                }
            )
            for n in range(20):
                day = joined + timedelta(days=rng.randrange(max((TODAY - joined).days, 1)))
                seconds = rng.randrange(600, 36000)
                usage.append(
                    {
                        "workspace_id": uid // 10,
                        "user_id": uid,
                        "kasm_id": f"k{uid}-{n}",
                        "kasm_start_date": _at(day, 8),
                        "segment": 0,
                        "session_started_at": _at(day, 8),
                        "started_at": _at(day, 8),
                        "stopped_at": _at(day, 8) + timedelta(seconds=seconds),
                        "rate": Decimal("0.30"),
                        "currency": "USD",
                        "billable_seconds": seconds,
                        "cost_minor": seconds * 30 // 3600,
                        "end_reason": "stopped",
                    }
                )
    engine = engine_for(tenant_database_url(tenant.database_name))
    with engine.begin() as conn:
        for model, rows in (
            (User, users),
            (Service, services),
            (Subscription, subs),
            (PlanChange, changes),
            (Invoice, invoices),
            (InvoiceItem, items),
            (KasmWorkspace, workspaces),
            (KasmUsageSession, usage),
        ):
            _insert(conn, model.__table__, rows)
    return len(items)


def _timed(fn, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def run(backend: str, customers: int) -> None:
    clock.set_clock(clock.FrozenClock(_at(TODAY, 8)))
    with bench_platform(backend):
        migrations.upgrade_central()
        with central_session() as central:
            tenant = TenantInfo.of(create_tenant(central, slug="bench", name="Bench", owner_email="o@b.test"))
        started = time.perf_counter()
        lines = _populate(tenant, customers)
        print(
            f"{backend}: populated {customers:,} customers, {lines:,} invoice lines "
            f"in {time.perf_counter() - started:.1f} s"
        )
        end = TODAY - timedelta(days=1)
        with central_session() as central:
            started = time.perf_counter()
            snapshot_days(central, start=START, end=end)
            print(
                f"  snapshot backfill, {(end - START).days + 1} days: {time.perf_counter() - started:.1f} s"
            )
            nightly = _timed(lambda: snapshot_days(central, start=end, end=end), 3)
            print(f"  nightly snapshot of one day: median {statistics.median(nightly):.0f} ms")
            for scope in (PLATFORM_SCOPE, tenant_scope(tenant.id)):
                timings = _timed(lambda scope=scope: load_dashboard(central, scope_key=scope), 20)
                board = load_dashboard(central, scope_key=scope)
                print(
                    f"  dashboard load ({scope}): median {statistics.median(timings):.1f} ms, "
                    f"max {max(timings):.1f} ms; MRR {board.months[-1].mrr} over {len(board.months)} months"
                )
        with tenant_session(tenant) as db:
            direct = _timed(lambda: compute_days(db, start=START, end=end), 1)
        print(f"  same 2 years computed from the tenant database (no snapshots): {direct[0] / 1000:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args()
    run(args.backend, args.customers)


if __name__ == "__main__":
    main()
