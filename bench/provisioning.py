"""Provisioning under load: many orders paid at once across the four products, delivered by a
pool of workers against the panel simulators with latency and injected faults.

Take the figures on an idle machine (issue 15's benchmark; one run per worker count, so the p95
shows whether the worker pool or the database is the limit):

    python -m bench.provisioning --orders 200 --workers 16 64 --latency 0.2 --faults 0.1 --backend both

One run's p95 moves by a second or two between runs of the same code (the machine's speed varies
too: the same run's CPU seconds differ by 15 %); compare code with `--repeat 5`, which prints the
median of the runs' p95s.

Every order must end active or refunded, none charged twice (one paid order invoice each, the
credit ledger exact), none orphaned (each panel holds exactly its active services' servers).
Reports orders/s and the p95 time from payment to active, per product and overall.

Each panel simulator runs in its own process (`python -m ezscale.simulators.<module>` on a free
port, as `ezscale run` starts them; the panels are other machines in production), so its work
does not compete with the workers for this process's GIL; the orphan check reads what each holds
from its `GET /_state/live`. They are stopped when the run ends, however it ends.

The worker pool is what the `critical` queue's Celery worker is (`ezscale provisioning-worker`,
a threads pool of `EZSCALE_PROVISIONING_WORKERS`): one dispatcher hands due jobs (as the broker
does) to `--workers` threads, each running `jobs.run_job` one step at a time. The orders are
placed by another process (16 threads), as customers' orders reach the web app's processes, not
the worker's. The worker first delivers `--warm-up` orders (8) that are not measured, as a
running worker has delivered before and learned its panels' answer and build times.
"""

import argparse
import multiprocessing
import queue
import statistics
import subprocess
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
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
from ezscale.simulators import launch
from ezscale.simulators.rest import STATE_PATH

ADMIN = operator("bench")
START_CREDIT = 100_000
ORDER_TRIES = 5  # a refused order (stock unconfirmed: the check hit a fault) is placed again


@dataclass(frozen=True)
class BenchPanel:
    """A product's simulator (its CLI options beyond latency, faults and builds), the credentials
    it is started with, and the plans sold on it."""

    module: str
    args: tuple[str, ...]
    credentials: dict[str, str]
    plans: tuple[tuple[str, str, dict[str, str]], ...]  # (plan code, package, plan options)
    options: dict[str, str]


@dataclass
class Started:
    """A simulator running in its own process, configured as a panel."""

    spec: BenchPanel
    process: subprocess.Popen
    url: str
    panel_id: int = 0

    def live(self) -> set[str]:
        """The external ids of what the panel holds (read over HTTP from the other process)."""
        return set(httpx.get(self.url + STATE_PATH, timeout=10).json())


PANELS: tuple[BenchPanel, ...] = (
    BenchPanel(  # 20 hypervisors of 32 GiB and 16 cores, 1000 IPv4 addresses: room for 200 VPS
        "virtfusion",
        ("--hypervisors", "20", "--ipv4", "1000", "--token", "bench-vf"),
        {"token": "bench-vf"},
        (("vps-1", "1", {}), ("vps-2", "2", {})),
        {"group": "1", "ipv4": "1", "os": "1"},
    ),
    BenchPanel(  # 16 servers of 4 GB per node, 100 ports each: room for 192 more
        "pterodactyl",
        ("--extra-nodes", "12", "--application-key", "ptla_bench", "--client-key", "ptlc_bench"),
        {"application_key": "ptla_bench", "client_key": "ptlc_bench"},
        (("game-minecraft", "1/1", {"memory": "4096", "disk": "20480", "cpu": "200"}),),
        {},
    ),
    BenchPanel(
        "enhance",
        ("--access-token", "bench-enhance"),
        {"access_token": "bench-enhance"},
        (("web-starter", "1", {}),),
        {"reseller_org_id": "00000000-0000-4000-8000-000000000001"},
    ),
    BenchPanel(  # inventory of every kind and /29 blocks for 200 more dedicated servers
        "synergycp",
        ("--extra-stock", "200", "--api-key", "bench-scp"),
        {"api_key": "bench-scp"},
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


def _start(latency: float, faults: float, build: float, started: list[Started]) -> None:
    """Start each product's simulator in its own process (as the panels are other machines in
    production), appending to `started` as they come up so the caller stops every one."""
    common = ["--latency", str(latency), "--fault-rate", str(faults), "--build-seconds", str(build)]
    for spec in PANELS:
        port = launch.free_port()
        process = launch.start(
            spec.module, port, probe=STATE_PATH, args=[*common, "--hang-seconds", "5", *spec.args]
        )
        started.append(Started(spec, process, f"http://127.0.0.1:{port}"))


def _stop(started: list[Started]) -> None:
    for sim in started:
        sim.process.terminate()
    for sim in started:
        try:
            sim.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            sim.process.kill()
            sim.process.wait()


def _configure(started: list[Started]) -> None:
    """Configure each running simulator as a panel, with its plans."""
    with central_session() as central:
        for sim in started:
            spec = sim.spec
            row = panels.create_panel(
                central,
                module=spec.module,
                label=spec.module,
                base_url=sim.url,
                credentials=spec.credentials,
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
            sim.panel_id = row.id
    stock.forget()  # every run starts cold: nothing cached nor learned from the run before
    polling.BUILD_TIMES.forget()
    panel_http.LATENCY.forget()


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


def _place_all(
    tenant: TenantInfo,
    user_ids: list[int],
    codes: list[str],
    go: "multiprocessing.synchronize.Event",
    done: "multiprocessing.Queue[list[int]]",
) -> None:
    """In the placing process: wait for `go`, place every order at once (16 at a time), then put
    each order's tries on `done`."""
    clock.set_clock(clock.SystemClock())
    go.wait()
    with ThreadPoolExecutor(max_workers=16) as pool:
        done.put(list(pool.map(lambda n: _order(tenant, user_ids[n], codes[n]), range(len(codes)))))


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


def _check(tenant: TenantInfo, started: list[Started], measured: set[int]) -> dict[str, list[float]]:
    """Assert the invariants (over every order); the payment-to-active seconds of the active
    services of the `measured` customers, per product."""
    module_of = {sim.panel_id: sim.spec.module for sim in started}
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
        for sim in started:  # each panel holds exactly its active services
            held = {h.external_id for h in handles if h.panel_id == sim.panel_id and h.service_id in active}
            on_panel = sim.live()
            assert on_panel == held, (
                f"{sim.spec.module}: orphans {sorted(on_panel - held)}, lost {sorted(held - on_panel)}"
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
        for service_id in sorted(active & done.keys() & {s.id for s in services if s.user_id in measured}):
            took = (done[service_id] - paid_at[service_id]).total_seconds()
            seconds[product.get(service_id, "none")].append(took)
        return seconds


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[int(0.95 * (len(ordered) - 1))] if ordered else float("nan")


def run(
    backend: str, count: int, workers: int, latency: float, faults: float, build: float, warm: int
) -> float:
    """One run on fresh simulators and a fresh platform; its payment→active p95."""
    started: list[Started] = []
    try:  # the simulators are stopped whatever happens (a failed check, Ctrl-C)
        _start(latency, faults, build, started)
        with bench_platform(backend):
            return _measure(backend, count, workers, started, latency, faults, build, warm)
    finally:
        _stop(started)


def _measure(
    backend: str,
    count: int,
    workers: int,
    started: list[Started],
    latency: float,
    faults: float,
    build: float,
    warm: int,
) -> float:
    migrations.upgrade_central()
    clock.set_clock(clock.SystemClock())
    with central_session() as central:
        tenant = TenantInfo.of(create_tenant(central, name="Bench", slug="bench", owner_email="o@bench.test"))
    _configure(started)
    user_ids = _customers(tenant, warm + count)
    warm_ids, user_ids = user_ids[:warm], user_ids[warm:]
    # Round robin over the products (then over a product's plans): a quarter of the orders each.
    codes = [
        PANELS[n % len(PANELS)].plans[(n // len(PANELS)) % len(PANELS[n % len(PANELS)].plans)][0]
        for n in range(count)
    ]
    stop = threading.Event()
    threads = _workers(tenant, workers, stop)
    # A running worker has delivered before: it knows each panel's answer and build times. The
    # warm-up's orders are delivered first and not measured; the stock cache starts empty again.
    for user_id, code in zip(warm_ids, codes, strict=False):
        _order(tenant, user_id, code)
    while _unfinished(tenant):
        time.sleep(0.2)
    stock.forget()
    context = multiprocessing.get_context("spawn")  # a fresh process, as a web app's is
    go, done = context.Event(), context.Queue()
    placer = context.Process(target=_place_all, args=(tenant, user_ids, codes, go, done))
    placer.start()
    t0 = time.perf_counter()
    go.set()
    tries: list[int] = done.get()
    placer.join()
    placed = time.perf_counter() - t0
    while _unfinished(tenant):
        time.sleep(0.2)
    total = time.perf_counter() - t0
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    per_product = _check(tenant, started, set(user_ids))
    seconds = [s for values in per_product.values() for s in values]
    failed = count - len(seconds)
    print(
        f"[{backend}] {count} orders after {warm} warm-up, {workers} workers "
        f"({latency * 1000:.0f} ms latency, {faults:.0%} faults, {build:.0f} s builds): "
        f"placed in {placed:.1f}s "
        f"({sum(tries) - count} placed again after a refusal), all settled in {total:.1f}s = "
        f"{count / total:.1f} orders/s; {len(seconds)} active, {failed} refunded; payment→active "
        f"median {statistics.median(seconds) if seconds else 0:.1f}s, p95 {_p95(seconds):.1f}s "
        f"(target {build + 2:.0f}s); none charged twice, none orphaned"
    )
    for sim in started:
        values = per_product.get(sim.spec.module, [])
        median = statistics.median(values) if values else float("nan")
        print(
            f"    {sim.spec.module:<12} {len(values):>4} active  "
            f"median {median:5.1f}s  p95 {_p95(values):5.1f}s"
        )
    return _p95(seconds)


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
    parser.add_argument(
        "--warm-up",
        type=int,
        default=8,
        help="orders delivered (not measured) before the batch, as a running worker has; 0: cold",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="runs of each configuration (one run's p95 moves by a second or two on a busy machine)",
    )
    args = parser.parse_args()
    for backend in ("sqlite", "postgres") if args.backend == "both" else (args.backend,):
        for workers in args.workers:
            config = (args.orders, workers, args.latency, args.faults, args.build_seconds, args.warm_up)
            p95s = [run(backend, *config) for _ in range(args.repeat)]
            if args.repeat > 1:
                print(
                    f"[{backend}] {workers} workers, {args.repeat} runs: p95 median "
                    f"{statistics.median(p95s):.1f}s (from {min(p95s):.1f}s to {max(p95s):.1f}s)"
                )


if __name__ == "__main__":
    main()
