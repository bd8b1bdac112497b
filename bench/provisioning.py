"""Provisioning under load: many orders paid at once across the four products, delivered by a
pool of workers against the panel simulators with latency and injected faults.

Take the figures on an idle machine (issue 15's benchmark; one run per worker count, so the p95
shows whether the worker pool or the database is the limit):

    python -m bench.provisioning --orders 200 --workers 16 64 --latency 0.2 --faults 0.1 --backend both

Every order must end active or refunded, none charged twice (one paid order invoice each, the
credit ledger exact), none orphaned (each panel holds exactly its active services' servers).
Reports orders/s and the p95 time from payment to active, per product and overall.

The worker pool is what the `critical` queue's Celery worker is (`ezscale provisioning-worker`,
a threads pool of `EZSCALE_PROVISIONING_WORKERS`): one dispatcher hands due jobs (as the broker
does) to `--workers` threads, each running `jobs.run_job` one step at a time.
"""

import argparse
import queue
import statistics
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from sqlmodel import select

from bench._platform import bench_platform
from ezscale import clock, migrations
from ezscale.db import central_session
from ezscale.errors import DomainError
from ezscale.models.provisioning import JobStatus, ProvisioningJob, ProvisioningPanel, ServiceHandle
from ezscale.models.tenant import CreditEntry, Invoice, InvoiceStatus, Service, ServiceStatus, User
from ezscale.services.billing import credits, orders
from ezscale.services.core.audit import operator
from ezscale.services.provisioning import jobs, panel_http, panels, polling, stock
from ezscale.services.tenancy.tenants import TenantInfo, create_tenant, tenant_session

ADMIN = operator("bench")
START_CREDIT = 100_000
ORDER_TRIES = 5  # a refused order (stock unconfirmed: the check hit a fault) is placed again


@dataclass(frozen=True)
class BenchPanel:
    """A product's simulator, how to count what it holds, and the plans sold on it."""

    module: str
    start: Callable[[float, float, float], tuple[Any, str, dict[str, str]]]  # (sim, url, credentials)
    live: Callable[[Any], set[str]]  # external ids of what the panel holds
    plans: tuple[tuple[str, str, dict[str, str]], ...]  # (plan code, package, plan options)
    options: dict[str, str]


def _virtfusion(latency: float, faults: float, build: float) -> tuple[Any, str, dict[str, str]]:
    from ezscale.simulators.virtfusion import VirtFusionSimulator, serve

    sim = VirtFusionSimulator(latency=latency, fault_rate=faults, build_seconds=build, hang_seconds=5.0)
    sim.groups.clear()
    sim.add_group(1, "Bench", hypervisors=20, memory_mb=65536, cores=128, storage_gb=8000, ipv4=1000)
    running = serve(sim)
    sim.running = running
    return sim, running.url, {"token": sim.token}


def _pterodactyl(latency: float, faults: float, build: float) -> tuple[Any, str, dict[str, str]]:
    from ezscale.simulators.pterodactyl import PterodactylSimulator
    from ezscale.simulators.rest import serve

    sim = PterodactylSimulator(latency=latency, fault_rate=faults, build_seconds=build, hang_seconds=5.0)
    for n in range(12):  # 16 servers of 4 GB per node, 100 ports each: room for 192 more
        sim.add_node(f"bench-{n}", memory=65536, disk=1048576, ports=range(25565, 25665))
    running = serve(sim)
    sim.running = running
    return sim, running.url, {"application_key": sim.application_key, "client_key": sim.client_key}


def _enhance(latency: float, faults: float, build: float) -> tuple[Any, str, dict[str, str]]:
    from ezscale.simulators.enhance import EnhanceSimulator
    from ezscale.simulators.rest import serve

    sim = EnhanceSimulator(latency=latency, fault_rate=faults, build_seconds=build, hang_seconds=5.0)
    running = serve(sim)
    sim.running = running
    return sim, running.url, {"access_token": sim.access_token}


def _synergycp(latency: float, faults: float, build: float) -> tuple[Any, str, dict[str, str]]:
    from ezscale.simulators.rest import serve
    from ezscale.simulators.synergycp import SynergyCPSimulator

    sim = SynergyCPSimulator(latency=latency, fault_rate=faults, build_seconds=build, hang_seconds=5.0)
    for n in range(200):  # inventory and /29 blocks for 200 more dedicated servers
        sim.add_server(cpu="e-2388g", mem="64gb", disks=("nvme-1tb", "nvme-1tb"))
        sim.add_ip_block(f"198.18.{n // 32}.{8 * (n % 32)}", ips_billing="ipv4-29", location="fra")
    running = serve(sim)
    sim.running = running
    return sim, running.url, {"api_key": sim.api_key}


PANELS: tuple[BenchPanel, ...] = (
    BenchPanel(
        "virtfusion",
        _virtfusion,
        lambda sim: {str(s.id) for s in sim.live_servers()},
        (("vps-1", "1", {}), ("vps-2", "2", {})),
        {"group": "1", "ipv4": "1", "os": "1"},
    ),
    BenchPanel(
        "pterodactyl",
        _pterodactyl,
        lambda sim: {str(i) for i in sim.servers},
        (("game-minecraft", "1/1", {"memory": "4096", "disk": "20480", "cpu": "200"}),),
        {},
    ),
    BenchPanel(
        "enhance",
        _enhance,
        lambda sim: {str(i) for i, sub in sim.subscriptions.items() if sub.get("status") != "deleted"},
        (("web-starter", "1", {}),),
        {"reseller_org_id": "00000000-0000-4000-8000-000000000001"},
    ),
    BenchPanel(
        "synergycp",
        _synergycp,
        lambda sim: {str(i) for i, srv in sim.servers.items() if srv["billing"]["id"] is not None},
        (
            (
                "dedi-e3",
                "cpu_billing=e-2388g&mem_billing=64gb&disks_billing[]=nvme-1tb&disks_billing[]=nvme-1tb",
                {"ips_billing": "ipv4-29", "pxe_profile_billing": "ubuntu-24", "max_bandwidth": "10TB"},
            ),
        ),
        {},
    ),
)


def _configure(latency: float, faults: float, build: float) -> list[tuple[BenchPanel, Any, int]]:
    """Start each product's simulator and configure it as a panel: (spec, simulator, panel id)."""
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
            for code, package, options in spec.plans:
                panels.set_mapping(
                    central, plan_code=code, panel_id=row.id, package=package, options=options, actor=ADMIN
                )
            started.append((spec, sim, row.id))
    stock.forget()  # every run starts cold: nothing cached nor learned from the run before
    polling.BUILD_TIMES.forget()
    panel_http.LATENCY.forget()
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
    """Place (and pay from credit) one order; its tries (a refusal charges nothing)."""
    for tries in range(1, ORDER_TRIES + 1):
        try:
            with tenant_session(tenant) as db:
                orders.place_order(db, tenant=tenant, user_id=user_id, plan_code=plan_code)
            return tries
        except DomainError as error:
            if tries == ORDER_TRIES:
                raise
            print(f"order of {plan_code} refused ({error}); placing it again")
            time.sleep(0.5)
    return ORDER_TRIES


def _workers(tenant: TenantInfo, count: int, stop: threading.Event) -> list[threading.Thread]:
    """A dispatcher handing due jobs (as the broker does) to `count` worker threads (the
    critical queue's threads pool), each running one step of a job at a time."""
    due: queue.Queue[int | None] = queue.Queue()
    in_flight: set[int] = set()
    lock = threading.Lock()

    def dispatch() -> None:
        while not stop.is_set():
            with tenant_session(tenant) as db:
                ids = jobs.due_job_ids(db, limit=1000)
            with lock:
                fresh = [i for i in ids if i not in in_flight]
                in_flight.update(fresh)
            for job_id in fresh:
                due.put(job_id)
            time.sleep(0.05)
        for _ in range(count):
            due.put(None)

    def work() -> None:
        while (job_id := due.get()) is not None:
            try:
                with tenant_session(tenant) as db:
                    jobs.run_job(db, tenant=tenant, job_id=job_id)
            except Exception as error:  # a crashed step is retried after its lease, as in Celery
                print(f"job {job_id} crashed: {error!r}")
            finally:
                with lock:
                    in_flight.discard(job_id)

    threads = [threading.Thread(target=dispatch, daemon=True)]
    threads += [threading.Thread(target=work, daemon=True) for _ in range(count)]
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


def _check(tenant: TenantInfo, started: list[tuple[BenchPanel, Any, int]]) -> dict[str, list[float]]:
    """Assert the invariants; the payment-to-active seconds of the active services, per product."""
    module_of = {panel_id: spec.module for spec, _, panel_id in started}
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
        handles = list(db.exec(select(ServiceHandle)))
        for spec, sim, panel_id in started:  # each panel holds exactly its active services
            held = {h.external_id for h in handles if h.panel_id == panel_id and h.service_id in active}
            on_panel = spec.live(sim)
            assert on_panel == held, (
                f"{spec.module}: orphans {sorted(on_panel - held)}, lost {sorted(held - on_panel)}"
            )
        done = {
            j.service_id: j.updated_at for j in db.exec(select(ProvisioningJob)) if j.status is JobStatus.DONE
        }
        paid_at = {}
        for invoice in paid:
            for service in services:
                if service.user_id == invoice.user_id:
                    paid_at[service.id] = invoice.paid_at
        product = {h.service_id: module_of[h.panel_id] for h in handles}
        seconds: dict[str, list[float]] = defaultdict(list)
        for service_id in sorted(active & done.keys()):
            took = (done[service_id] - paid_at[service_id]).total_seconds()
            seconds[product.get(service_id, "none")].append(took)
        return seconds


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[int(0.95 * (len(ordered) - 1))] if ordered else float("nan")


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
        # Round robin over the products (then over a product's plans): a quarter of the orders each.
        codes = [
            PANELS[n % len(PANELS)].plans[(n // len(PANELS)) % len(PANELS[n % len(PANELS)].plans)][0]
            for n in range(count)
        ]
        stop = threading.Event()
        threads = _workers(tenant, workers, stop)
        t0 = time.perf_counter()
        with ThreadPoolExecutor(max_workers=16) as pool:
            tries = list(pool.map(lambda n: _order(tenant, user_ids[n], codes[n]), range(count)))
        placed = time.perf_counter() - t0
        while _unfinished(tenant):
            time.sleep(0.2)
        total = time.perf_counter() - t0
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        per_product = _check(tenant, started)
        seconds = [s for values in per_product.values() for s in values]
        failed = count - len(seconds)
        print(
            f"[{backend}] {count} orders, {workers} workers ({latency * 1000:.0f} ms latency, "
            f"{faults:.0%} faults, {build:.0f} s builds): placed in {placed:.1f}s "
            f"({sum(tries) - count} placed again after a refusal), all settled in {total:.1f}s = "
            f"{count / total:.1f} orders/s; {len(seconds)} active, {failed} refunded; payment→active "
            f"median {statistics.median(seconds) if seconds else 0:.1f}s, p95 {_p95(seconds):.1f}s "
            f"(target {build + 2:.0f}s); none charged twice, none orphaned"
        )
        for spec, _, _ in started:
            values = per_product.get(spec.module, [])
            median = statistics.median(values) if values else float("nan")
            print(
                f"    {spec.module:<12} {len(values):>4} active  "
                f"median {median:5.1f}s  p95 {_p95(values):5.1f}s"
            )
        for _, sim, _ in started:
            sim.running.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument(
        "--workers", type=int, nargs="+", default=[16], help="worker counts, one run each (e.g. 16 64)"
    )
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--faults", type=float, default=0.1)
    parser.add_argument("--build-seconds", type=float, default=3.0)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    args = parser.parse_args()
    for backend in ("sqlite", "postgres") if args.backend == "both" else (args.backend,):
        for workers in args.workers:
            run(backend, args.orders, workers, args.latency, args.faults, args.build_seconds)


if __name__ == "__main__":
    main()
