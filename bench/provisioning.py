"""Provisioning under load: many orders paid at once, delivered by a pool of workers against
panel simulators with latency and injected faults.

Every order must end active or refunded, none charged twice (one paid order invoice each, the
credit ledger exact), none orphaned (the panels hold exactly the active services' servers).
Reports orders/s and the p95 time from payment to active.

    python -m bench.provisioning --orders 200 --workers 8 --latency 0.2 --faults 0.1 --backend sqlite

One entry in `PANELS` per product; the other panels' simulators join the same way.
"""

import argparse
import statistics
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from sqlmodel import select

from bench._platform import bench_platform
from ezscale import clock, migrations
from ezscale.db import central_session
from ezscale.models.provisioning import JobStatus, ProvisioningJob, ProvisioningPanel, ServiceHandle
from ezscale.models.tenant import CreditEntry, Invoice, InvoiceStatus, Service, ServiceStatus, User
from ezscale.services.billing import credits, orders
from ezscale.services.core.audit import operator
from ezscale.services.provisioning import jobs, panels
from ezscale.services.tenancy.tenants import TenantInfo, create_tenant, tenant_session

ADMIN = operator("bench")
START_CREDIT = 100_000


@dataclass(frozen=True)
class BenchPanel:
    """A product's simulator, how to count what it holds, and the plans sold on it."""

    module: str
    start: Callable[[float, float, float], tuple[Any, str, dict[str, str]]]  # (sim, url, credentials)
    live: Callable[[Any], set[str]]  # external ids of what the panel holds
    plans: tuple[tuple[str, str], ...]  # (plan code, package)
    options: dict[str, str]


def _virtfusion(latency: float, faults: float, build: float) -> tuple[Any, str, dict[str, str]]:
    from ezscale.simulators.virtfusion import VirtFusionSimulator, serve

    sim = VirtFusionSimulator(latency=latency, fault_rate=faults, build_seconds=build, hang_seconds=5.0)
    sim.groups.clear()
    sim.add_group(1, "Bench", hypervisors=20, memory_mb=65536, cores=128, storage_gb=8000, ipv4=1000)
    running = serve(sim)
    sim.running = running
    return sim, running.url, {"token": sim.token}


PANELS: tuple[BenchPanel, ...] = (
    BenchPanel(
        "virtfusion",
        _virtfusion,
        lambda sim: {str(s.id) for s in sim.live_servers()},
        (("vps-1", "1"), ("vps-2", "2")),
        {"group": "1", "ipv4": "1", "os": "1"},
    ),
)


def _configure(latency: float, faults: float, build: float) -> list[tuple[BenchPanel, Any]]:
    started = []
    with central_session() as central:
        for spec in PANELS:
            sim, url, creds = spec.start(latency, faults, build)
            row = panels.create_panel(
                central,
                module=spec.module,
                label=spec.module,
                base_url=url,
                credentials=creds,
                options=spec.options,
                actor=ADMIN,
            )
            panel = central.get(ProvisioningPanel, row.id)
            panel.timeout_seconds = 2.0  # a create waits 4 s: the simulator's hang (5 s) is a timeout
            central.add(panel)
            central.commit()
            for code, package in spec.plans:
                panels.set_mapping(central, plan_code=code, panel_id=row.id, package=package, actor=ADMIN)
            started.append((spec, sim))
    return started


def _customers(tenant: TenantInfo, count: int) -> list[int]:
    with tenant_session(tenant) as db:
        users = [
            User(email=f"b{n}@bench.test", password_hash="-", created_at=clock.now()) for n in range(count)
        ]
        db.add_all(users)
        db.flush()
        for user in users:
            db.add(
                CreditEntry(
                    user_id=user.id, amount_minor=START_CREDIT, currency="USD", created_at=clock.now()
                )
            )
        db.commit()
        return [u.id for u in users]


def _order(tenant: TenantInfo, user_id: int, plan_code: str) -> int:
    with tenant_session(tenant) as db:
        return orders.place_order(db, tenant=tenant, user_id=user_id, plan_code=plan_code).service.id


def _workers(tenant: TenantInfo, count: int, stop: threading.Event) -> list[threading.Thread]:
    """`count` workers, each taking due jobs (a claim makes two takers of one job harmless)."""

    def work(n: int) -> None:
        while not stop.is_set():
            with tenant_session(tenant) as db:
                due = jobs.due_job_ids(db, limit=count * 2)
            ran = False
            for job_id in due[n::count] or due[:1]:
                try:
                    with tenant_session(tenant) as db:
                        ran = jobs.run_job(db, tenant=tenant, job_id=job_id).status != "skipped" or ran
                except Exception as error:  # a crashed step is retried after its lease, as in Celery
                    print(f"job {job_id} crashed: {error!r}")
            if not ran:
                time.sleep(0.05)

    threads = [threading.Thread(target=work, args=(n,), daemon=True) for n in range(count)]
    for thread in threads:
        thread.start()
    return threads


def _unfinished(tenant: TenantInfo) -> int:
    with tenant_session(tenant) as db:
        return len(
            db.exec(
                select(ProvisioningJob.id).where(
                    ProvisioningJob.status.in_((JobStatus.QUEUED, JobStatus.RUNNING))
                )
            ).all()
        )


def _check(tenant: TenantInfo, started: list[tuple[BenchPanel, Any]]) -> list[float]:
    """Assert the invariants; the payment-to-active seconds of the active services."""
    with tenant_session(tenant) as db:
        services = db.exec(select(Service)).all()
        statuses = {s.status for s in services}
        assert statuses <= {ServiceStatus.ACTIVE, ServiceStatus.FAILED}, statuses
        paid = db.exec(select(Invoice).where(Invoice.status == InvoiceStatus.PAID)).all()
        assert len(paid) == len(services), "one paid order invoice per service"
        for service in services:  # one order per customer: paid once, given back once if it failed
            spent = sum(i.total_minor for i in paid if i.user_id == service.user_id)
            left = START_CREDIT if service.status is ServiceStatus.FAILED else START_CREDIT - spent
            assert credits.balance_minor(db, user_id=service.user_id, currency="USD") == left
        active = {s.id for s in services if s.status is ServiceStatus.ACTIVE}
        held = {h.external_id for h in db.exec(select(ServiceHandle)) if h.service_id in active}
        on_panels = set().union(*(spec.live(sim) for spec, sim in started))
        assert on_panels == held, f"orphans on the panels: {sorted(on_panels - held)}"
        done = {
            j.service_id: j.updated_at for j in db.exec(select(ProvisioningJob)) if j.status is JobStatus.DONE
        }
        paid_at = {}
        for invoice in paid:
            for service in services:
                if service.user_id == invoice.user_id:
                    paid_at[service.id] = invoice.paid_at
        return [(done[s] - paid_at[s]).total_seconds() for s in active if s in done]


def run(backend: str, count: int, workers: int, latency: float, faults: float, build: float) -> None:
    with bench_platform(backend):
        migrations.upgrade_central()
        clock.set_clock(clock.SystemClock())
        with central_session() as central:
            tenant = TenantInfo.of(
                create_tenant(central, name="Bench", slug="bench", owner_email="o@bench.test")
            )
        started = _configure(latency, faults, build)
        user_ids = _customers(tenant, count)
        codes = [code for spec in PANELS for code, _ in spec.plans]
        stop = threading.Event()
        threads = _workers(tenant, workers, stop)
        t0 = time.perf_counter()
        with ThreadPoolExecutor(max_workers=16) as pool:
            list(pool.map(lambda n: _order(tenant, user_ids[n], codes[n % len(codes)]), range(count)))
        placed = time.perf_counter() - t0
        while _unfinished(tenant):
            time.sleep(0.2)
        total = time.perf_counter() - t0
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        seconds = sorted(_check(tenant, started))
        failed = count - len(seconds)
        p95 = seconds[int(0.95 * (len(seconds) - 1))] if seconds else float("nan")
        print(
            f"[{backend}] {count} orders ({workers} workers, {latency * 1000:.0f} ms latency, "
            f"{faults:.0%} faults, {build:.0f} s builds): placed in {placed:.1f}s, "
            f"all settled in {total:.1f}s = "
            f"{count / total:.1f} orders/s; {len(seconds)} active, {failed} refunded; payment→active "
            f"median {statistics.median(seconds) if seconds else 0:.1f}s, p95 {p95:.1f}s; "
            "none charged twice, none orphaned"
        )
        for _, sim in started:
            sim.running.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--faults", type=float, default=0.1)
    parser.add_argument("--build-seconds", type=float, default=3.0)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    args = parser.parse_args()
    for backend in ("sqlite", "postgres") if args.backend == "both" else (args.backend,):
        run(backend, args.orders, args.workers, args.latency, args.faults, args.build_seconds)


if __name__ == "__main__":
    main()
