"""The `ezscale` command line: database, tenants, demo data, worker and the all-in-one `run`."""

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import click

from ezscale import tenant_context
from ezscale.db import central_session
from ezscale.errors import DomainError
from ezscale.node import node_environment

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class _Group(click.Group):
    """Turn domain errors into a clear one-line message and exit code 1, never a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except DomainError as error:
            raise click.ClickException(str(error)) from error


@click.group(cls=_Group)
def main() -> None:
    """EZSCALE billing and customer platform."""
    logging.basicConfig(level=logging.WARNING)
    for handler in logging.getLogger().handlers:
        tenant_context.install(handler)


@main.group(cls=_Group)
def db() -> None:
    """Database migrations."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Migrate the central database, then every tenant database."""
    from ezscale.services.tenancy.tenants import upgrade_all

    changed = upgrade_all(lambda name, did: click.echo(f"  {name}: {'migrated' if did else 'up to date'}"))
    click.echo(f"Done: {changed} database(s) migrated.")


@main.group(cls=_Group)
def tenant() -> None:
    """Tenants (the house storefront and resellers)."""


@tenant.command("create")
@click.option("--name", required=True, help="Company name shown on the storefront.")
@click.option("--slug", required=True, help="Short name: a-z, 0-9 and hyphens.")
@click.option("--owner-email", required=True)
@click.option("--owner-name", default="")
@click.option("--domain", default=None, help="Primary domain (default <slug>.<platform domain>).")
@click.option("--tier", default="basic", type=click.Choice(["basic", "pro", "enterprise"]))
@click.option("--color", "primary_color", default="#3B82F6", help="Primary colour, #RRGGBB.")
def tenant_create(**options) -> None:
    """Create a reseller tenant with its own database."""
    from ezscale.migrations import upgrade_central
    from ezscale.services.tenancy.tenants import create_tenant

    upgrade_central()
    started = time.perf_counter()
    with central_session() as session:
        created = create_tenant(
            session,
            name=options["name"],
            slug=options["slug"],
            owner_email=options["owner_email"],
            owner_name=options["owner_name"],
            primary_domain=options["domain"],
            tier=options["tier"],
            primary_color=options["primary_color"],
        )
    click.echo(
        f"Created tenant {created.slug} (database {created.database_name}) "
        f"in {time.perf_counter() - started:.2f}s"
    )


@tenant.command("list")
def tenant_list() -> None:
    """List tenants with status and domains."""
    from ezscale.services.tenancy.tenants import list_tenants

    with central_session() as session:
        rows = list_tenants(session)
    if not rows:
        click.echo("No tenants yet. Run `ezscale demo` or `ezscale tenant create`.")
        return
    click.echo(f"{'slug':<20} {'status':<10} {'database':<34} domains")
    for row, domains in rows:
        label = f"{row.slug}{' (house)' if row.is_house else ''}"
        click.echo(f"{label:<20} {row.status.value:<10} {row.database_name:<34} {', '.join(domains)}")


def _operator():
    """Who runs this command, for the audit trail."""
    from ezscale.services.core.audit import operator

    return operator(f"cli:{os.environ.get('USER') or 'operator'}")


@tenant.command("suspend")
@click.argument("slug")
def tenant_suspend(slug: str) -> None:
    """Suspend a reseller: its storefront shows "temporarily unavailable"."""
    from ezscale.services.tenancy.tenants import suspend_tenant

    with central_session() as session:
        suspend_tenant(session, slug, actor=_operator())
    click.echo(f"Suspended {slug}.")


@tenant.command("reactivate")
@click.argument("slug")
def tenant_reactivate(slug: str) -> None:
    """Reactivate a suspended reseller."""
    from ezscale.services.tenancy.tenants import reactivate_tenant

    with central_session() as session:
        reactivate_tenant(session, slug, actor=_operator())
    click.echo(f"Reactivated {slug}.")


def _seed_demo() -> None:
    from ezscale.demo.seed import seed_demo
    from ezscale.services.tenancy.tenants import upgrade_all

    upgrade_all()
    with central_session() as session:
        logins = seed_demo(session)
    click.echo("Demo logins:")
    for login in logins:
        click.echo(f"  {login.area:<32} {login.url:<36} {login.email} / {login.password}")


@main.command()
def demo() -> None:
    """Create (or top up) the demo data and print the logins. Safe to run again."""
    _seed_demo()


@main.command("demo-code")
def demo_code() -> None:
    """Print the demo admin's current TOTP code (its authenticator secret is demo data)."""
    from ezscale.services.accounts.admins import current_demo_code

    click.echo(current_demo_code())


def _worker_command() -> list[str]:
    """The worker with beat: billing runs, usage, dunning, reports (the `celery` queue)."""
    from ezscale.settings import get_settings

    settings = get_settings()
    command = [sys.executable, "-m", "celery", "-A", "ezscale.tasks", "worker", "-B", "-l", "info"]
    command += ["-Q", "celery", "-n", "ezscale@%h"]
    if not settings.redis_url:
        # The embedded SQLite broker has no fan-out and one writer: keep the worker simple.
        command += ["--concurrency", "1", "--without-gossip", "--without-mingle", "--without-heartbeat"]
    return command


def _provisioning_worker_command() -> list[str]:
    """The worker of the `critical` queue: paid orders delivered on their panels, many at once
    (a threads pool: a delivery mostly waits on the panel), `EZSCALE_PROVISIONING_WORKERS` of them."""
    from ezscale.settings import get_settings

    settings = get_settings()
    command = [sys.executable, "-m", "celery", "-A", "ezscale.tasks", "worker", "-l", "info"]
    command += ["-Q", "critical", "-n", "provisioning@%h", "--pool", "threads"]
    command += ["--concurrency", str(settings.provisioning_workers)]
    if not settings.redis_url:
        command += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
    return command


@main.command()
def worker() -> None:
    """Run the Celery workers: one with beat (billing, usage and dunning), one delivering orders."""
    processes = [
        subprocess.Popen(_worker_command(), cwd=PROJECT_ROOT),
        subprocess.Popen(_provisioning_worker_command(), cwd=PROJECT_ROOT),
    ]
    try:
        while all(p.poll() is None for p in processes):
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        _stop(processes)


@main.command("provisioning-worker")
def provisioning_worker() -> None:
    """Run only the worker that delivers paid orders (the `critical` queue)."""
    os.execv(sys.executable, _provisioning_worker_command())


def _simulators(settings, env: dict[str, str]) -> list[subprocess.Popen]:
    """The loopback Kasm simulator (and a Discord webhook sink for alerts) when Kasm points at
    loopback; `env` is pointed at them for the worker and the app."""
    from urllib.parse import urlsplit

    kasm = urlsplit(settings.kasm_api_url)
    if kasm.hostname != "127.0.0.1":
        return []
    command = [sys.executable, "-m", "ezscale.simulators.kasm", "--port", str(kasm.port or 80)]
    if not settings.alert_discord_webhook_url:
        command += ["--discord-port", "8392"]
        env["ALERT_DISCORD_WEBHOOK_URL"] = "http://127.0.0.1:8392/api/webhooks/demo/token"
    return [subprocess.Popen(command, cwd=PROJECT_ROOT, env=env)]


def _panel_simulators() -> list[subprocess.Popen]:
    """The provisioning panels' loopback simulators the demo maps its plans to."""
    from ezscale.demo.panels import DEMO_PANELS

    return [subprocess.Popen(panel.command(), cwd=PROJECT_ROOT) for panel in DEMO_PANELS]


def _stripe_simulator(settings, env: dict[str, str]) -> list[subprocess.Popen]:
    """localstripe on loopback unless real Stripe keys (or another API base) are configured;
    its webhook is pointed at this app's /webhooks/stripe, signed with the webhook secret."""
    from ezscale import routes
    from ezscale.simulators import stripe as stripe_simulator

    if settings.stripe_api_base or not settings.stripe_secret_key.endswith("localstripe"):
        return []
    port = 8420
    process = stripe_simulator.start(port, state=(settings.data_dir / "localstripe.pickle").resolve())
    env["STRIPE_API_BASE"] = f"http://127.0.0.1:{port}"
    stripe_simulator.register_webhook(
        env["STRIPE_API_BASE"],
        url=f"http://127.0.0.1:{settings.port}{routes.STRIPE_WEBHOOK}",
        secret=settings.stripe_webhook_secret,
    )
    # The Connect endpoint: the same URL, signed with the Connect secret (events of connected
    # accounts verify with it, the platform's with the other one).
    stripe_simulator.register_webhook(
        env["STRIPE_API_BASE"],
        url=f"http://127.0.0.1:{settings.port}{routes.STRIPE_WEBHOOK}",
        secret=settings.stripe_connect_webhook_secret,
        name="ezscale-connect",
    )
    from ezscale.demo.gateways import connect_reseller_stripe

    connect_reseller_stripe(env["STRIPE_API_BASE"])  # Acme's customers pay into Acme's own account
    return [process]


def _gateway_simulators(settings) -> list[subprocess.Popen]:
    """Loopback PayPal (8397) and BTCPay (8398), switched on for the house site."""
    from ezscale.demo.gateways import connect_house
    from ezscale.simulators.launch import start

    processes = [start("paypal", 8397, probe="/checkoutnow"), start("btcpay", 8398, probe="/i/none")]
    connect_house(
        paypal_base="http://127.0.0.1:8397",
        btcpay_base="http://127.0.0.1:8398",
        app_base=f"http://127.0.0.1:{settings.port}",
    )
    return processes


ECB_DEMO_PORT = 8399  # 8391-8398 are Kasm, Discord, the panels, PayPal and BTCPay


def _ecb_simulator(settings, env: dict[str, str]) -> list[subprocess.Popen]:
    """The loopback ECB rates feed (today's date, realistic rates) unless another feed URL is
    configured; the rates are fetched once at start, then by the worker's beat."""
    from ezscale.settings import Settings
    from ezscale.simulators.ecb import FEED_PATH

    if settings.ecb_rates_url != Settings.model_fields["ecb_rates_url"].default:
        return []
    command = [sys.executable, "-m", "ezscale.simulators.ecb", "--port", str(ECB_DEMO_PORT)]
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env)
    env["EZSCALE_ECB_RATES_URL"] = f"http://127.0.0.1:{ECB_DEMO_PORT}{FEED_PATH}"
    _first_rates(env["EZSCALE_ECB_RATES_URL"])
    return [process]


def _first_rates(url: str) -> None:
    """Store today's rates from the feed just started (it answers within a few seconds)."""
    import httpx

    from ezscale.db import central_session
    from ezscale.services.fx.refresh import refresh_rates

    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1.0)
            break
        except httpx.HTTPError:
            time.sleep(0.2)
    with central_session() as central:
        refresh_rates(central, url=url)


@main.command()
@click.option("--port", type=int, default=None, help="Port for the app (default 3000).")
def run(port: int | None) -> None:
    """Start everything on the embedded defaults: migrations, demo data, worker, app."""
    from ezscale.settings import get_settings

    if port:
        os.environ["EZSCALE_PORT"] = str(port)
        get_settings.cache_clear()
    settings = get_settings()
    env = node_environment()
    env.setdefault("EZSCALE_DEMO", "1")  # /dev/outbox, cookies without Secure (plain http)
    env.setdefault("EZSCALE_GATEWAY_HOST_ALLOWLIST", "127.0.0.1,localhost")  # the loopback simulators
    _seed_demo()
    processes = [
        *_simulators(settings, env),
        *_stripe_simulator(settings, env),
        *_panel_simulators(),
        *_gateway_simulators(settings),
    ]
    processes += _ecb_simulator(settings, env)
    processes += [
        subprocess.Popen(_worker_command(), cwd=PROJECT_ROOT, env=env),
        subprocess.Popen(_provisioning_worker_command(), cwd=PROJECT_ROOT, env=env),
        subprocess.Popen(
            [sys.executable, "-m", "reflex", "run", "--env", "prod", "--frontend-port", str(settings.port)],
            cwd=PROJECT_ROOT,
            env=env,
        ),
    ]
    base = f"http://{settings.platform_domain}:{settings.port}"
    click.echo(
        "\nStarting (the first start builds the web frontend, which takes a few minutes):\n"
        f"  House storefront   {base}\n"
        f"  Reseller (Acme)    http://acme.{settings.platform_domain}:{settings.port}\n"
        f"  Admin area         {base}/admin\n"
        "Press Ctrl+C to stop.\n"
    )
    try:
        while all(p.poll() is None for p in processes):
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        _stop(processes)


def _stop(processes: list[subprocess.Popen]) -> None:
    """Interrupt the child processes and wait for them (killed after 20 s)."""
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
