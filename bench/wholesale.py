"""Benchmark: wholesale billing of 100 resellers × 200 active subscriptions each, with usage.

    .venv/bin/python bench/wholesale.py [--tenants 100] [--subs 200] [--workers 4] [--backend sqlite|postgres]

Prints set-up time, billing-run wall time, invoices and lines per second, and peak memory.
"""

import argparse
import resource
import sys
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlmodel import select

from bench._platform import bench_platform
from ezscale import migrations
from ezscale.db import central_session
from ezscale.models.billing import UsageCharge
from ezscale.models.central import WholesaleInvoiceItem
from ezscale.models.tenant import Plan, Role, Service, ServiceStatus, Subscription, User
from ezscale.services.resellers.wholesale import run_wholesale_billing
from ezscale.services.tenancy.tenants import TenantInfo, create_tenant, tenant_session

START = datetime(2026, 10, 1, tzinfo=UTC)


def populate(tenant: TenantInfo, subs: int) -> None:
    with tenant_session(tenant) as db:
        plans = {p.code: p for p in db.exec(select(Plan)).all()}
        users = [
            User(email=f"c{n}@{tenant.slug}.test", password_hash="x", role=Role.CUSTOMER, created_at=START)
            for n in range(subs)
        ]
        db.add_all(users)
        db.flush()
        services = []
        for n, user in enumerate(users):
            plan = plans["kasm-dev-basic"] if n % 4 == 0 else plans["vps-2"]
            services.append(
                Service(user_id=user.id, plan_id=plan.id, status=ServiceStatus.ACTIVE, created_at=START)
            )
        db.add_all(services)
        db.flush()
        for n, (user, service) in enumerate(zip(users, services, strict=True)):
            if n % 4 == 0:
                db.add(
                    UsageCharge(
                        user_id=user.id,
                        service_id=service.id,
                        description="usage",
                        quantity=Decimal("12.25"),
                        unit_rate=Decimal("0.15"),
                        amount_minor=184,
                        currency="USD",
                        period_start=START,
                        period_end=datetime(2026, 11, 20, tzinfo=UTC),
                        source_key=f"u{n}",
                        created_at=START,
                    )
                )
            else:
                day = 1 + n % 28
                db.add(
                    Subscription(
                        user_id=user.id,
                        plan_id=service.plan_id,
                        service_id=service.id,
                        current_period_start=START,
                        current_period_end=START,
                        created_at=datetime(2026, 11 if n % 3 == 0 else 10, day, tzinfo=UTC),
                    )
                )
        db.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=100)
    parser.add_argument("--subs", type=int, default=200)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args()
    with bench_platform(args.backend):
        migrations.upgrade_central()
        started = time.perf_counter()
        for n in range(args.tenants):
            with central_session() as central:
                tenant = create_tenant(
                    central, name=f"R{n}", slug=f"r{n}", owner_email=f"o@r{n}.test", tier="pro"
                )
            populate(TenantInfo.of(tenant), args.subs)
            print(f"\r  set-up: {n + 1}/{args.tenants} tenants", end="", file=sys.stderr)
        print(file=sys.stderr)
        setup = time.perf_counter() - started
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        started = time.perf_counter()
        report = run_wholesale_billing(on=date(2026, 12, 1), max_workers=args.workers)
        elapsed = time.perf_counter() - started
        rss_growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - rss_before
        assert not report.failed, report.failed
        with central_session() as central:
            lines = len(central.exec(select(WholesaleInvoiceItem.id)).all())
        again = time.perf_counter()
        rerun = run_wholesale_billing(on=date(2026, 12, 1), max_workers=args.workers)
        rerun_time = time.perf_counter() - again
        assert not rerun.created
    print(
        "| backend | tenants × subs | workers | billing run | invoices/s | lines "
        "| peak RSS growth during the run | max RSS | re-run (no-op) | set-up |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"| {args.backend} | {args.tenants} × {args.subs} | {args.workers} | {elapsed:.2f} s "
        f"| {len(report.created) / elapsed:.0f} | {lines} | {rss_growth:.0f} MiB | {rss_mb:.0f} MiB "
        f"| {rerun_time:.2f} s | {setup:.0f} s |"
    )


if __name__ == "__main__":
    main()
