"""Benchmark: reconcile 10,000 running workspaces against the Kasm simulator at 50 ms latency.

    .venv/bin/python bench/reconcile.py [--workspaces 10000] [--latency 0.05] [--backend sqlite|postgres]

One `get_kasms` call lists every session; 1 % of them were stopped "outside" and get closed and
billed. A second pass (nothing changed) shows the steady-state cost. Target (issue 4): < 30 s.
"""

import argparse
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlmodel import select

from bench._platform import bench_platform
from ezscale import clock, migrations
from ezscale.db import central_session
from ezscale.models.kasm import KasmAccount, KasmTemplate, KasmUsageSession, KasmWorkspace, WorkspaceStatus
from ezscale.models.tenant import Plan, Service, ServiceStatus, User
from ezscale.services.kasm.catalogue import seed_catalogue
from ezscale.services.kasm.client import KasmClient
from ezscale.services.kasm.sync import reconcile
from ezscale.services.tenancy.tenants import TenantInfo, create_tenant, tenant_session
from ezscale.simulators.kasm import KasmSimulator, serve

PER_USER = 5


def _seed(tenant: TenantInfo, sim: KasmSimulator, count: int, start: datetime) -> None:
    with tenant_session(tenant) as db:
        seed_catalogue(db)
        plan = db.exec(select(Plan).where(Plan.code == "kasm-dev-basic")).one()
        template = db.exec(select(KasmTemplate)).first()
        users = [
            User(email=f"u{n}@bench.test", password_hash="x", created_at=start)
            for n in range(count // PER_USER)
        ]
        db.add_all(users)
        db.flush()
        services, workspaces, sessions = [], [], []
        for n in range(count):
            user = users[n // PER_USER]
            services.append(
                Service(user_id=user.id, plan_id=plan.id, status=ServiceStatus.ACTIVE, created_at=start)
            )
        db.add_all(services)
        db.flush()
        for user in users:
            db.add(
                KasmAccount(
                    user_id=user.id,
                    kasm_user_id=f"k{user.id}",
                    username=f"u{user.id}",
                    password="pw",
                    created_at=start,
                )
            )
            sim.users[f"k{user.id}"] = dict(
                user_id=f"k{user.id}", username=f"u{user.id}", first_name="", last_name=""
            )
        for service in services:
            kasm_id = sim.add_running(user_id=f"k{service.user_id}", image_id=template.image_id)
            kasm_start = sim.kasms[kasm_id].created
            workspaces.append(
                KasmWorkspace(
                    service_id=service.id,
                    user_id=service.user_id,
                    plan_id=plan.id,
                    template_id=template.id,
                    status=WorkspaceStatus.RUNNING,
                    kasm_id=kasm_id,
                    kasm_user_id=f"k{service.user_id}",
                    kasm_start_date=kasm_start,
                    cores=2,
                    memory_mb=4096,
                    created_at=start,
                    changed_at=start,
                )
            )
        db.add_all(workspaces)
        db.flush()
        for ws in workspaces:
            sessions.append(
                KasmUsageSession(
                    workspace_id=ws.id,
                    user_id=ws.user_id,
                    kasm_id=ws.kasm_id,
                    kasm_start_date=ws.kasm_start_date,
                    session_started_at=start,
                    started_at=start,
                    rate=Decimal("0.15"),
                    currency="USD",
                )
            )
        db.add_all(sessions)
        db.commit()


def run(backend: str, count: int, latency: float) -> None:
    start = datetime.now(UTC) - timedelta(hours=1)
    sim = KasmSimulator(latency=latency, keepalive_seconds=86400)
    server = serve(sim)
    with bench_platform(backend):
        migrations.upgrade_central()
        with central_session() as central:
            tenant = TenantInfo.of(
                create_tenant(central, name="Bench", slug="bench", owner_email="o@bench.test")
            )
        t0 = time.perf_counter()
        _seed(tenant, sim, count, start)
        print(f"[{backend}] seeded {count} running workspaces in {time.perf_counter() - t0:.1f}s")
        for kasm_id in list(sim.kasms)[::100]:
            sim.stop_outside(kasm_id)
        client = KasmClient(base_url=server.url, api_key=sim.api_key, api_secret=sim.api_secret, timeout=60)
        clock.set_clock(clock.SystemClock())
        for label in ("first pass (1 % stopped outside)", "second pass (no change)"):
            t0 = time.perf_counter()
            listing = client.get_kasms()
            fetched = time.perf_counter() - t0
            with tenant_session(tenant) as db:
                result = reconcile(db, tenant=tenant, listing=listing, client=client)
            total = time.perf_counter() - t0
            print(
                f"[{backend}] {label}: {result.checked} workspaces, {len(listing.kasms)} Kasm sessions, "
                f"{len(result.stopped_outside)} closed; get_kasms {fetched:.2f}s, total {total:.2f}s"
            )
        client.close()
    server.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workspaces", type=int, default=10_000)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    args = parser.parse_args()
    for backend in ("sqlite", "postgres") if args.backend == "both" else (args.backend,):
        run(backend, args.workspaces, args.latency)


if __name__ == "__main__":
    main()
