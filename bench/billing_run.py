"""Benchmark: one daily billing run over many customers (issue 5), or two at once (issue 11), or
charging at the gateways' rate limits (issue 16).

Issue 16's full figure (run it on an idle machine; ~8 min of set-up and charging per backend):

    .venv/bin/python bench/billing_run.py --gateways stripe=80,paypal=15,btcpay=5 --customers 10000 \
        --currencies USD,EUR,GBP --limits stripe=25,paypal=10,btcpay=10 --error-429 0.02 --error-5xx 0.02 \
        --backend both

`--gateways MIX`: each customer has one renewal (one invoice) in one of `--currencies` and pays
by Stripe card, PayPal wallet or crypto (BTCPay: the renewal mails a pay link, crypto cannot be
charged off-session) in the proportions of MIX. The simulators limit each gateway to `--limits`
requests a second (Stripe's test mode allows 25) and inject `--error-429` (429 with
Retry-After) and `--error-5xx` (a 500 after the request ran: the reply is lost) on that share of
calls; `--burst` (5) requests may come at once. The run charges with `EZSCALE_CHARGE_WORKERS`
workers (default 8, capped to the database pool). Prints per gateway: charges, charges/s and
requests/s at the simulator (from its first to its last request let through) against the limit,
429s and 5xx, and duplicate charges at the simulator (per customer / per invoice) and in the
database; a second run must charge nothing.
Target: the binding gateway (Stripe at 80 %) at >= 80 % of its limit, zero duplicates.

    .venv/bin/python bench/billing_run.py [--customers 10000] [--items 5] [--backend sqlite|postgres|both]
        [--concurrent 2 [--cards 1000]]

Each customer has `--items` monthly subscriptions renewing on Dec 1 (10,000 × 5 = 50,000 due
items) and account credit to pay them. The run (in a fresh child process, so its memory is its
own) rolls the periods, issues one invoice per customer with its lines, tax and gapless number,
and collects it from credit. A second run must do nothing. Also run at a fifth of the size to
show that memory does not grow with the count. Target: 10,000 invoices in < 60 s.

`--concurrent 2`: two child processes run the cycle's steps at the same moment without the
run lease (as two runs would once a stalled run's lease expired), so both reach every invoice;
`--cards` customers have no credit and a card at the Stripe simulator instead (`--concurrent 1
--cards 1000` is the same set-up with one run, for comparison). Reports the
combined throughput (invoices issued by both / wall time) and duplicate charges, counted both
in the database (succeeded payments per invoice) and at the simulator (charges per customer):
both must be 0. A third run must then do nothing.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa

from bench._platform import bench_platform
from ezscale import migrations
from ezscale.db import central_session, engine_for, tenant_database_url
from ezscale.services.tenancy.tenants import create_tenant

START = datetime(2026, 11, 1, tzinfo=UTC)
RENEWAL = datetime(2026, 12, 1, tzinfo=UTC)
RUN_AT = datetime(2026, 12, 1, 0, 5, tzinfo=UTC)
_DATABASE_URL = os.environ.get("DATABASE_URL")
PLAN_CODES = ("vps-1", "vps-2", "game-minecraft", "web-starter", "vps-1")


def _populate(database_name: str, customers: int, items: int) -> None:
    """Bulk-insert customers, profiles, credit, services and subscriptions (Core, in chunks)."""
    engine = engine_for(tenant_database_url(database_name))
    meta = sa.MetaData()
    meta.reflect(
        engine, only=["users", "plans", "billing_profiles", "credit_entries", "services", "subscriptions"]
    )
    t = meta.tables
    with engine.begin() as conn:
        plans = dict(conn.execute(sa.select(t["plans"].c.code, t["plans"].c.id)).all())
        prices = dict(conn.execute(sa.select(t["plans"].c.id, t["plans"].c.price_minor)).all())
    chunk = 1000
    for first in range(0, customers, chunk):
        ids = range(first + 1, min(first + chunk, customers) + 1)
        plan_ids = [plans[PLAN_CODES[i % len(PLAN_CODES)]] for i in range(items)]
        with engine.begin() as conn:
            conn.execute(
                t["users"].insert(),
                [
                    {
                        "id": i,
                        "email": f"c{i}@bench.test",
                        "password_hash": "-",
                        "role": "customer",
                        "name": f"C {i}",
                        "company": "",
                        "address": "",
                        "country": "",
                        "tax_id": "",
                        "created_at": START,
                        "is_active": True,
                    }
                    for i in ids
                ],
            )
            conn.execute(
                t["billing_profiles"].insert(),
                [{"user_id": i, "anchor_day": 1, "created_at": START} for i in ids],
            )
            conn.execute(
                t["credit_entries"].insert(),
                [
                    {
                        "user_id": i,
                        "kind": "top_up",
                        "amount_minor": sum(prices[p] for p in plan_ids),
                        "currency": "USD",
                        "memo": "prepaid",
                        "reference": f"bench:{i}",
                        "created_at": START,
                    }
                    for i in ids
                ],
            )
            conn.execute(
                t["services"].insert(),
                [
                    {
                        "id": (i - 1) * items + k + 1,
                        "user_id": i,
                        "plan_id": plan_ids[k],
                        "label": "",
                        "status": "active",
                        "status_reason": "",
                        "created_at": START,
                    }
                    for i in ids
                    for k in range(items)
                ],
            )
            conn.execute(
                t["subscriptions"].insert(),
                [
                    {
                        "user_id": i,
                        "plan_id": plan_ids[k],
                        "service_id": (i - 1) * items + k + 1,
                        "status": "active",
                        "current_period_start": START,
                        "current_period_end": RENEWAL,
                        "cancel_at_period_end": False,
                        "created_at": START,
                        "invoiced_through": RENEWAL,
                    }
                    for i in ids
                    for k in range(items)
                ],
            )


def _add_cards(database_name: str, customers: range) -> None:
    """Give these customers a card at the Stripe simulator instead of account credit."""
    from ezscale.services.billing.stripe_gateway import gateway

    client = gateway().client
    engine = engine_for(tenant_database_url(database_name))
    meta = sa.MetaData()
    meta.reflect(engine, only=["billing_profiles", "credit_entries", "payment_methods"])
    t = meta.tables
    rows = []
    for user_id in customers:
        customer = client.v1.customers.create({"email": f"c{user_id}@bench.test"})
        card = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}
        method = client.v1.payment_methods.create({"type": "card", "card": card})
        client.v1.payment_methods.attach(method.id, {"customer": customer.id})
        rows.append((user_id, customer.id, method.id))
    with engine.begin() as conn:
        for user_id, customer_id, _ in rows:
            conn.execute(
                t["billing_profiles"]
                .update()
                .where(t["billing_profiles"].c.user_id == user_id)
                .values(stripe_customer_id=customer_id)
            )
            conn.execute(t["credit_entries"].delete().where(t["credit_entries"].c.user_id == user_id))
        conn.execute(
            t["payment_methods"].insert(),
            [
                {
                    "user_id": user_id,
                    "stripe_payment_method_id": method_id,
                    "brand": "visa",
                    "last4": "4242",
                    "exp_month": 12,
                    "exp_year": 2030,
                    "is_default": True,
                    "created_at": START,
                }
                for user_id, _, method_id in rows
            ],
        )


def _duplicates(database_name: str) -> tuple[int, int, int]:
    """(card charges at the simulator, duplicates there, duplicate succeeded payments in the DB)."""
    from ezscale.simulators import stripe as stripe_simulator

    engine = engine_for(tenant_database_url(database_name))
    with engine.begin() as conn:
        per_invoice = conn.execute(
            sa.text("SELECT count(*) FROM payments WHERE status = 'succeeded' GROUP BY invoice_id")
        ).scalars()
        db_duplicates = sum(n - 1 for n in per_invoice)
    # each card customer has exactly one invoice to pay
    per_customer = stripe_simulator.succeeded_charges(os.environ["STRIPE_API_BASE"]).values()
    return sum(per_customer), sum(n - 1 for n in per_customer), db_duplicates


def _racer(tenant_id: int) -> None:
    """One of the concurrent runs: the cycle's steps without the lease, started on a line on stdin."""
    from ezscale import clock
    from ezscale.services.billing import runs
    from ezscale.services.billing.subscriptions import roll_periods
    from ezscale.services.tenancy.tenants import tenant_info, tenant_session

    clock.set_clock(clock.FrozenClock(RUN_AT))
    tenant = tenant_info(tenant_id)
    with tenant_session(tenant) as session:
        session.connection()
        print("ready", flush=True)
        sys.stdin.readline()
        started = time.perf_counter()
        roll_periods(session)
        issued = runs.invoice_renewals(session)
        charged, failed = runs.collect(session, tenant=tenant)
        runs.run_dunning(session, tenant=tenant)
        elapsed = time.perf_counter() - started
    print(json.dumps({"invoices": len(issued), "paid": charged, "unpaid": failed, "seconds": elapsed}))


def _child(tenant_id: int) -> None:
    """Run the daily billing twice in this process; print figures as JSON."""
    from ezscale import clock
    from ezscale.services.billing.runs import daily_run
    from ezscale.services.tenancy.tenants import tenant_info, tenant_session

    clock.set_clock(clock.FrozenClock(RUN_AT))
    tenant = tenant_info(tenant_id)
    before = resource.getrusage(resource.RUSAGE_SELF)
    base_rss = before.ru_maxrss
    started = time.perf_counter()
    with tenant_session(tenant) as session:
        report = daily_run(session, tenant=tenant)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    peak_rss = after.ru_maxrss
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    started = time.perf_counter()
    with tenant_session(tenant) as session:
        again = daily_run(session, tenant=tenant)
    rerun = time.perf_counter() - started
    print(
        json.dumps(
            {
                "invoices": report.invoices,
                "paid": report.charged,
                "unpaid": report.failed,
                "seconds": elapsed,
                "cpu_seconds": cpu,
                "rss_growth_mib": (peak_rss - base_rss) / 1024,
                "max_rss_mib": peak_rss / 1024,
                "rerun_invoices": again.invoices,
                "rerun_paid": again.charged,
                "rerun_seconds": rerun,
            }
        )
    )


def run_concurrent(backend: str, customers: int, items: int, racers: int, cards: int) -> dict:
    """`racers` runs at once over the same tenant; combined throughput and duplicate charges."""
    from ezscale.simulators import stripe as stripe_simulator

    if _DATABASE_URL is None:
        os.environ.pop("DATABASE_URL", None)
    else:
        os.environ["DATABASE_URL"] = _DATABASE_URL
    port = stripe_simulator.free_port()
    simulator = stripe_simulator.start(port)
    os.environ["STRIPE_API_BASE"] = f"http://127.0.0.1:{port}"
    try:
        with bench_platform(backend):
            migrations.upgrade_central()
            with central_session() as session:
                tenant = create_tenant(session, name="Bench", slug="bench", owner_email="o@bench.test")
            _populate(tenant.database_name, customers, items)
            _add_cards(tenant.database_name, range(1, cards + 1))
            children = [
                subprocess.Popen(
                    [sys.executable, __file__, "--racer", str(tenant.id)],
                    env=os.environ.copy(),
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                )
                for _ in range(racers)
            ]
            for child in children:
                assert child.stdout.readline().strip() == "ready"
            started = time.perf_counter()
            for child in children:
                child.stdin.write("go\n")
                child.stdin.flush()
            results = []
            for child in children:
                out, _ = child.communicate()
                assert child.returncode == 0, out
                results.append(json.loads(out.strip().splitlines()[-1]))
            wall = time.perf_counter() - started
            charges, sim_duplicates, db_duplicates = _duplicates(tenant.database_name)
            again = subprocess.run(
                [sys.executable, __file__, "--child", str(tenant.id)],
                env=os.environ.copy(),
                capture_output=True,
                text=True,
                check=True,
            )
            rerun = json.loads(again.stdout.strip().splitlines()[-1])
    finally:
        simulator.terminate()
        simulator.wait(timeout=10)
    invoices = sum(r["invoices"] for r in results)
    assert invoices == customers and rerun["invoices"] == rerun["paid"] == 0, (results, rerun)
    return {
        "backend": backend,
        "customers": customers,
        "cards": cards,
        "invoices": invoices,
        "per_run": [r["invoices"] for r in results],
        "seconds": wall,
        "charges": charges,
        "sim_duplicates": sim_duplicates,
        "db_duplicates": db_duplicates,
    }


def run(backend: str, customers: int, items: int) -> dict:
    if _DATABASE_URL is None:  # bench_platform leaves the last run's (dropped) database behind
        os.environ.pop("DATABASE_URL", None)
    else:
        os.environ["DATABASE_URL"] = _DATABASE_URL
    with bench_platform(backend):
        migrations.upgrade_central()
        with central_session() as session:
            tenant = create_tenant(session, name="Bench", slug="bench", owner_email="o@bench.test")
        started = time.perf_counter()
        _populate(tenant.database_name, customers, items)
        print(
            f"  {backend}: {customers} customers × {items} items populated in "
            f"{time.perf_counter() - started:.1f}s",
            file=sys.stderr,
        )
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(tenant.id)],
            env=os.environ.copy(),
            capture_output=True,
            text=True,
            check=True,
        )
        figures = json.loads(out.stdout.strip().splitlines()[-1])
    assert figures["invoices"] == figures["paid"] == customers, figures
    assert figures["rerun_invoices"] == figures["rerun_paid"] == 0, figures
    return {"backend": backend, "customers": customers, "items": customers * items, **figures}


def _gw_child(tenant_id: int) -> None:
    """Issue the renewals, then collect them (timed apart); print figures as JSON."""
    from ezscale import clock
    from ezscale.services.billing import charge_pool, runs
    from ezscale.services.billing.subscriptions import roll_periods
    from ezscale.services.tenancy.tenants import tenant_info, tenant_session

    clock.set_clock(clock.FrozenClock(RUN_AT))
    tenant = tenant_info(tenant_id)
    with tenant_session(tenant) as session:
        started = time.perf_counter()
        roll_periods(session)
        issued = runs.invoice_renewals(session)
        issue_seconds = time.perf_counter() - started
        bind = session.get_bind()
        assert isinstance(bind, sa.Engine)
        workers = charge_pool.worker_count(bind)
        started = time.perf_counter()
        paid, unpaid = runs.collect(session, tenant=tenant)
        seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "invoices": len(issued),
                "issue_seconds": issue_seconds,
                "paid": paid,
                "unpaid": unpaid,
                "collect_seconds": seconds,
                "workers": workers,
            }
        )
    )


def run_gateways(backend: str, customers: int, args: argparse.Namespace) -> dict:
    """Set up customers on three gateways in several currencies, charge their renewals at the
    simulators' rate limits with faults, count duplicates, run again (nothing more is charged)."""
    from bench import _gateways as g
    from ezscale.simulators import stripe as stripe_simulator

    if _DATABASE_URL is None:
        os.environ.pop("DATABASE_URL", None)
    else:
        os.environ["DATABASE_URL"] = _DATABASE_URL
    shares = g.parse_shares(args.gateways, g.GATEWAYS)
    limits = g.parse_limits(args.limits)
    currencies = [c.strip().upper() for c in args.currencies.split(",") if c.strip()]
    port = stripe_simulator.free_port()
    simulator = stripe_simulator.start(port)
    stripe_base = os.environ["STRIPE_API_BASE"] = f"http://127.0.0.1:{port}"
    os.environ.setdefault("EZSCALE_GATEWAY_HOST_ALLOWLIST", "127.0.0.1")  # the loopback simulators
    sims = g.start_sims()
    try:
        with bench_platform(backend):
            migrations.upgrade_central()
            with central_session() as session:
                tenant = create_tenant(  # the house tenant: its customers pay on the platform accounts
                    session, name="Bench", slug="bench", owner_email="o@bench.test", is_house=True
                )
            g.store_rates(RUN_AT.date())
            g.enable_accounts(tenant.id, sims)
            started = time.perf_counter()
            _populate(tenant.database_name, customers, 1)
            by_gateway = g.prepare_customers(
                tenant.database_name, g.assign(customers, shares), currencies, sims, START
            )
            print(
                f"  {backend}: {customers} customers set up in {time.perf_counter() - started:.1f}s",
                file=sys.stderr,
            )
            g.configure_all(stripe_base, sims, limits, args.error_429, args.error_5xx, args.burst)
            child = [sys.executable, __file__, "--gw-child", str(tenant.id)]
            out = subprocess.run(child, env=os.environ.copy(), capture_output=True, text=True)
            assert out.returncode == 0, out.stderr[-3000:]
            figures = json.loads(out.stdout.strip().splitlines()[-1])
            counted = g.limiter_counts(stripe_base, sims)
            g.configure_all(stripe_base, sims, dict.fromkeys(g.GATEWAYS, 0.0), 0.0, 0.0)
            dup = g.duplicates(tenant.database_name, stripe_base, sims)
            again = subprocess.run(child, env=os.environ.copy(), capture_output=True, text=True)
            assert again.returncode == 0, again.stderr[-3000:]
            rerun = json.loads(again.stdout.strip().splitlines()[-1])
            dup_after = g.duplicates(tenant.database_name, stripe_base, sims)
            by_currency = g.invoices_by_currency(tenant.database_name)
    finally:
        for running in sims.stopper:
            running.stop()
        simulator.terminate()
        simulator.wait(timeout=10)
    assert figures["invoices"] == customers, figures
    return {
        "backend": backend,
        "customers": customers,
        "by_gateway": {name: len(ids) for name, ids in by_gateway.items()},
        "limits": limits,
        "figures": figures,
        "counted": counted,
        "duplicates": dup,
        "rerun": rerun,
        "currencies": by_currency,
        "rerun_new_charges": sum(dup_after[n]["charges"] - dup[n]["charges"] for n in g.GATEWAYS),
    }


def print_gateways(r: dict) -> None:
    f = r["figures"]
    currencies = ", ".join(f"{n:,} {c}" for c, n in r["currencies"].items())
    print(
        f"\n{r['backend']}: {r['customers']:,} invoices ({currencies}; "
        f"issued in {f['issue_seconds']:.1f} s), "
        f"collected in {f['collect_seconds']:.1f} s by {f['workers']} workers: {f['paid']:,} paid, "
        f"{f['unpaid']:,} awaiting crypto or failed; re-run: {r['rerun']['invoices']} invoices, "
        f"{r['rerun_new_charges']} new charges"
    )
    print(
        "| gateway | invoices | charges | charges/s | limit (req/s) | % of limit (charges) | req/s at sim "
        "| % of limit (req) | 429 limited / injected | 5xx injected | duplicates (sim / DB) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name in ("stripe", "paypal", "btcpay"):
        c, d, limit = r["counted"][name], r["duplicates"][name], r["limits"][name]
        span = (c["last_at"] - c["first_at"]) if c.get("first_at") is not None else 0.0
        span = span or f["collect_seconds"]
        charges = d["charges"]
        rate = charges / span if span else 0.0
        req = c["admitted"] / span if span else 0.0
        pct = f"{100 * rate / limit:.0f} %" if limit else "–"
        pct_req = f"{100 * req / limit:.0f} %" if limit else "–"
        print(
            f"| {name} | {r['by_gateway'][name]:,} | {charges:,} | {rate:.1f} | {limit:g} | {pct} "
            f"| {req:.1f} | {pct_req} | {c['limited']:,} / {c['injected_429']:,} | {c['injected_5xx']:,} "
            f"| {d['sim_duplicates']} / {d['db_duplicates']} |",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--items", type=int, default=5)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--concurrent", type=int, default=1, help="runs at once (with --cards)")
    parser.add_argument(
        "--cards", type=int, default=None, help="customers paying by card (1000 with --concurrent > 1)"
    )
    parser.add_argument("--gateways", default=None, help="gateway mix, e.g. stripe=80,paypal=15,btcpay=5")
    parser.add_argument("--currencies", default="USD,EUR,GBP", help="customers' currencies (USD EUR GBP JPY)")
    parser.add_argument("--limits", default="stripe=25,paypal=10,btcpay=10", help="requests/s per gateway")
    parser.add_argument("--burst", type=float, default=5, help="requests a gateway lets through at once")
    parser.add_argument("--error-429", type=float, default=0.02, help="share of calls answered 429")
    parser.add_argument("--error-5xx", type=float, default=0.02, help="share of calls losing their reply")
    parser.add_argument("--gw-child", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--racer", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        _child(args.child)
        return
    if args.racer is not None:
        _racer(args.racer)
        return
    if args.gw_child is not None:
        _gw_child(args.gw_child)
        return
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    if args.gateways:
        for backend in backends:
            print_gateways(run_gateways(backend, args.customers, args))
        return
    if args.concurrent > 1 or args.cards:
        cards = 1000 if args.cards is None else args.cards
        print(
            "| backend | customers | of which by card | runs at once | invoices (per run) | wall "
            "| combined invoices/s | card charges | duplicate charges (simulator / DB) |"
        )
        print("|---|---|---|---|---|---|---|---|---|")
        for backend in backends:
            r = run_concurrent(backend, args.customers, args.items, args.concurrent, cards)
            print(
                f"| {r['backend']} | {r['customers']:,} | {r['cards']:,} | {args.concurrent} "
                f"| {r['invoices']:,} ({' + '.join(f'{n:,}' for n in r['per_run'])}) "
                f"| {r['seconds']:.1f} s | {r['invoices'] / r['seconds']:.0f} | {r['charges']:,} "
                f"| {r['sim_duplicates']} / {r['db_duplicates']} |",
                flush=True,
            )
        return
    print(
        "| backend | customers | due items | invoices | run (wall) | invoices/s | CPU of the run "
        "| RSS growth | max RSS | re-run |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for backend in backends:
        for customers in (args.customers // 5, args.customers):
            r = run(backend, customers, args.items)
            print(
                f"| {r['backend']} | {r['customers']:,} | {r['items']:,} | {r['invoices']:,} "
                f"| {r['seconds']:.1f} s "
                f"| {r['invoices'] / r['seconds']:.0f} | {r['cpu_seconds']:.1f} s "
                f"| {r['rss_growth_mib']:.0f} MiB | {r['max_rss_mib']:.0f} MiB "
                f"| {r['rerun_seconds']:.2f} s |",
                flush=True,
            )


if __name__ == "__main__":
    main()
