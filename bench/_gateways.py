"""The gateway part of `bench/billing_run.py --gateways`: customers paying by Stripe card,
PayPal wallet or crypto (BTCPay pay link) in several currencies, the three simulators behind
rate limits with injected 429/5xx, and duplicate charges counted at each simulator and in the
database."""

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from ezscale.db import central_session, engine_for, tenant_database_url
from ezscale.services.core.audit import operator
from ezscale.simulators import btcpay as btcpay_sim
from ezscale.simulators import paypal as paypal_sim

GATEWAYS = ("stripe", "paypal", "btcpay")
# ECB-style reference rates (units per 1 EUR) stored for the run's day, so that plans priced in
# USD convert to the customers' currencies with the tenant's rounding rule.
RATES = {"USD": "1.0500", "GBP": "0.8300", "JPY": "160.50", "CHF": "0.9400"}


def parse_shares(text: str, names: tuple[str, ...]) -> dict[str, float]:
    """`stripe=80,paypal=15,btcpay=5` → shares adding up to 1 (names not given: 0)."""
    shares = {name: 0.0 for name in names}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, value = part.partition("=")
        if name not in shares:
            raise SystemExit(f"unknown gateway {name!r} (choose from {', '.join(names)})")
        shares[name] = float(value)
    total = sum(shares.values())
    if total <= 0:
        raise SystemExit("the gateway mix is empty")
    return {name: value / total for name, value in shares.items()}


def parse_limits(text: str) -> dict[str, float]:
    """`stripe=25,paypal=10,btcpay=10` → requests a second per gateway (0: unlimited)."""
    limits = {name: 0.0 for name in GATEWAYS}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, value = part.partition("=")
        if name not in limits:
            raise SystemExit(f"unknown gateway {name!r}")
        limits[name] = float(value)
    return limits


def assign(customers: int, shares: dict[str, float]) -> list[str]:
    """Each customer's gateway, interleaved (largest remainder per customer), so every stretch of
    invoices has the mix."""
    given: Counter = Counter()
    out = []
    for n in range(1, customers + 1):
        name = max(shares, key=lambda g: shares[g] * n - given[g])
        given[name] += 1
        out.append(name)
    return out


@dataclass
class Sims:
    """The in-process PayPal and BTCPay simulators (the Stripe one is a child process)."""

    paypal: paypal_sim.PayPalSimulator
    btcpay: btcpay_sim.BTCPaySimulator
    stopper: list


def start_sims() -> Sims:
    paypal = paypal_sim.PayPalSimulator()
    btcpay = btcpay_sim.BTCPaySimulator()
    return Sims(paypal, btcpay, [paypal_sim.serve(paypal), btcpay_sim.serve(btcpay)])


def enable_accounts(tenant_id: int, sims: Sims) -> None:
    """PayPal and BTCPay switched on for the tenant, at the simulators."""
    from ezscale.demo.gateways import switch_on

    switch_on(
        tenant_id,
        paypal_base=sims.paypal.base_url,
        paypal_webhook_id="WH-BENCH",
        btcpay_base=sims.btcpay.base_url,
        btcpay_webhook_secret="bench",
        actor=operator("bench"),
    )


def store_rates(day: date) -> None:
    from ezscale.services.fx.feed import Published
    from ezscale.services.fx.rates import store

    with central_session() as central:
        store(central, Published(rate_date=day, rates=dict(RATES)))


def prepare_customers(
    database_name: str, gateways: list[str], currencies: list[str], sims: Sims, start
) -> dict[str, list[int]]:
    """Give customer n (1-based) the currency `currencies[n % len]`, no credit, and its
    gateway's method: a card at the Stripe simulator, a PayPal wallet, or crypto renewals.
    Returns the customer ids per gateway."""
    from ezscale.services.billing.stripe_gateway import gateway

    engine = engine_for(tenant_database_url(database_name))
    meta = sa.MetaData()
    meta.reflect(
        engine, only=["users", "billing_profiles", "credit_entries", "payment_methods", "currency_settings"]
    )
    t = meta.tables
    by_gateway: dict[str, list[int]] = {name: [] for name in GATEWAYS}
    for n, name in enumerate(gateways, start=1):
        by_gateway[name].append(n)
    client = gateway().client

    def card(user_id: int) -> tuple[int, str, str]:
        customer = client.v1.customers.create({"email": f"c{user_id}@bench.test"})
        number = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}
        method = client.v1.payment_methods.create({"type": "card", "card": number})
        client.v1.payment_methods.attach(method.id, {"customer": customer.id})
        return user_id, customer.id, method.id

    with ThreadPoolExecutor(max_workers=8) as pool:
        cards = list(pool.map(card, by_gateway["stripe"]))
    rows = [
        {"user_id": u, "stripe_payment_method_id": m, "brand": "visa", "last4": "4242", "gateway": "stripe"}
        for u, _, m in cards
    ]
    rows += [
        {
            "user_id": u,
            "stripe_payment_method_id": sims.paypal.save_wallet(email=f"c{u}@bench.test"),
            "brand": "paypal",
            "last4": "",
            "gateway": "paypal",
        }
        for u in by_gateway["paypal"]
    ]
    rows += [
        {
            "user_id": u,
            "stripe_payment_method_id": f"btcpay:{u}",
            "brand": "crypto",
            "last4": "",
            "gateway": "btcpay",
        }
        for u in by_gateway["btcpay"]
    ]
    with engine.begin() as conn:
        conn.execute(
            t["currency_settings"].insert(),
            {
                "base_currency": "USD",
                "enabled": " ".join(dict.fromkeys(["USD", *currencies])),
                "rounding": "minor",
                "updated_at": start,
            },
        )
        for currency in dict.fromkeys(currencies):
            ids = [n for n in range(1, len(gateways) + 1) if currencies[n % len(currencies)] == currency]
            for first in range(0, len(ids), 1000):
                chunk = ids[first : first + 1000]
                conn.execute(t["users"].update().where(t["users"].c.id.in_(chunk)).values(currency=currency))
        conn.execute(t["credit_entries"].delete())
        stripe_ids = {u: c for u, c, _ in cards}
        for first in range(0, len(cards), 1000):
            conn.execute(
                t["billing_profiles"].update().where(t["billing_profiles"].c.user_id == sa.bindparam("u")),
                [{"u": u, "stripe_customer_id": stripe_ids[u]} for u, _, _ in cards[first : first + 1000]],
            )
        conn.execute(
            t["payment_methods"].insert(),
            [
                {**row, "exp_month": 12, "exp_year": 2030, "is_default": True, "created_at": start}
                for row in rows
            ],
        )
    return by_gateway


def duplicates(database_name: str, stripe_base: str, sims: Sims) -> dict:
    """Charges and duplicates per gateway, at the simulators (succeeded Stripe charges per
    customer, each of whom has one invoice; PayPal captures and BTCPay invoices per invoice) and
    in the database (succeeded payments per invoice, BTCPay checkouts per invoice)."""
    from ezscale.simulators import stripe as stripe_simulator

    per_customer = list(stripe_simulator.succeeded_charges(stripe_base).values())
    paypal = Counter(
        (c.get("custom_id") or "").split(":")[1]
        for c in sims.paypal.captures.values()
        if c["status"] == "COMPLETED"
    )
    btcpay = Counter(str(i.get("metadata", {}).get("invoice_id")) for i in sims.btcpay.invoices.values())
    engine = engine_for(tenant_database_url(database_name))
    with engine.begin() as conn:
        db_payments = conn.execute(
            sa.text(
                "SELECT gateway, invoice_id, count(*) FROM payments WHERE status = 'succeeded' "
                "GROUP BY gateway, invoice_id"
            )
        ).all()
        checkouts = conn.execute(
            sa.text(
                "SELECT invoice_id, count(*) FROM gateway_checkouts WHERE gateway = 'btcpay' "
                "GROUP BY invoice_id"
            )
        ).all()
    db: dict[str, list[int]] = {name: [] for name in GATEWAYS}
    for name, _, count in db_payments:
        db[name].append(count)
    db["btcpay"] = [count for _, count in checkouts]
    sim = {"stripe": per_customer, "paypal": list(paypal.values()), "btcpay": list(btcpay.values())}
    return {
        name: {
            "charges": sum(sim[name]),
            "sim_duplicates": sum(max(n - 1, 0) for n in sim[name]),
            "db_duplicates": sum(max(n - 1, 0) for n in db[name]),
        }
        for name in GATEWAYS
    }


def configure_all(
    stripe_base: str,
    sims: Sims,
    limits: dict[str, float],
    error_429: float,
    error_5xx: float,
    burst: float = 0,
) -> None:
    from ezscale.simulators import stripe as stripe_simulator

    faults = {"error_429": error_429, "error_5xx": error_5xx, "burst": burst, "seed": 1}
    stripe_simulator.configure_limits(stripe_base, rate=limits["stripe"], **faults)
    sims.paypal.limiter.configure(rate=limits["paypal"], **faults)
    sims.btcpay.limiter.configure(rate=limits["btcpay"], **faults)


def limiter_counts(stripe_base: str, sims: Sims) -> dict[str, dict]:
    from ezscale.simulators import stripe as stripe_simulator

    return {
        "stripe": stripe_simulator.limits(stripe_base),
        "paypal": sims.paypal.limiter.snapshot(),
        "btcpay": sims.btcpay.limiter.snapshot(),
    }


def invoices_by_currency(database_name: str) -> dict[str, int]:
    engine = engine_for(tenant_database_url(database_name))
    with engine.begin() as conn:
        rows = conn.execute(sa.text("SELECT currency, count(*) FROM invoices GROUP BY currency")).all()
    return {currency: count for currency, count in sorted(rows)}
