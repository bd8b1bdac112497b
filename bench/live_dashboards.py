"""Benchmark: N live workspace dashboards (Reflex websocket clients) on one backend process.

    .venv/bin/python bench/live_dashboards.py [--clients 100,500,1000] [--changes 200] [--redis URL]
        [--repeat 2]

Starts the real app (`reflex run --env prod`, one backend process on SQLite; with `--redis`, the
production set-up: Reflex state in Redis and changes signalled over Redis), with one customer
and one running workspace per simulated client. A headless Chromium opens the dashboard once to
record the socket.io CONNECT packet the Reflex frontend sends (hydrate + on_load); N clients then
replay it over raw Engine.IO websockets, each with its own client token and session cookie, so
the backend does for each exactly what it does for a browser tab. Reported per N:
- memory per connection (backend RSS growth / N) and backend CPU while the dashboards sit idle
  (timers tick in the browser, so this should be ~0);
- update latency: a workspace's status changes in the database (as the worker would do) →
  the affected dashboard receives the pushed delta. p50 / p95 / p99 over `--changes` changes.
Targets (issue 13): 1,000 dashboards on one backend process, p99 < 250 ms on the embedded default
(SQLite, no Redis) and < 100 ms with `--redis`, 0 missed.
"""

import argparse
import asyncio
import os
import re
import signal
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import aiohttp
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlmodel import select

from bench._platform import bench_platform
from ezscale.db import central_session, dispose_engines
from ezscale.models.kasm import KasmTemplate, KasmUsageSession, KasmWorkspace, WorkspaceStatus
from ezscale.models.tenant import Plan, Service, ServiceStatus, User
from ezscale.node import node_environment
from ezscale.services.accounts.sessions import create_user_session
from ezscale.services.kasm import signal as kasm_signal
from ezscale.services.tenancy.tenants import TenantInfo, get_tenant, tenant_session
from ezscale.state.auth import SESSION_COOKIE

ROOT = Path(__file__).resolve().parents[1]
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def _tree(pid: int) -> list[int]:
    pids, frontier = [pid], [pid]
    while frontier:
        parent = frontier.pop()
        try:
            children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
        except OSError:
            continue
        pids += [int(c) for c in children]
        frontier += [int(c) for c in children]
    return pids


def _usage(pid: int) -> tuple[float, int]:
    """CPU seconds and RSS bytes of a process tree (the reflex CLI, granian and its worker)."""
    cpu, rss = 0.0, 0
    for p in _tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            cpu += (int(fields[11]) + int(fields[12])) / CLK_TCK
            rss += int(Path(f"/proc/{p}/statm").read_text().split()[1]) * PAGE_SIZE
        except OSError:
            continue
    return cpu, rss


def _seed(count: int) -> tuple[TenantInfo, list[tuple[int, str]]]:
    """`count` customers, each with a running workspace and a session; returns (workspace, token)."""
    with central_session() as central:
        tenant = TenantInfo.of(get_tenant(central, "ezscale"))
    now = datetime.now(UTC)
    out = []
    with tenant_session(tenant) as db:
        plan = db.exec(select(Plan).where(Plan.code == "kasm-dev-basic")).one()
        template = db.exec(select(KasmTemplate)).first()
        for n in range(count):
            user = User(email=f"bench{n}@bench.test", password_hash="x", name=f"Bench {n}", created_at=now)
            db.add(user)
            db.flush()
            service = Service(
                user_id=user.id,
                plan_id=plan.id,
                label="Bench workspace",
                status=ServiceStatus.ACTIVE,
                created_at=now,
            )
            db.add(service)
            db.flush()
            ws = KasmWorkspace(
                service_id=service.id,
                user_id=user.id,
                plan_id=plan.id,
                template_id=template.id,
                status=WorkspaceStatus.RUNNING,
                kasm_id=uuid.uuid4().hex,
                kasm_start_date=now,
                cores=2,
                memory_mb=4096,
                created_at=now,
                changed_at=now - timedelta(minutes=5),
            )
            db.add(ws)
            db.flush()
            db.add(
                KasmUsageSession(
                    workspace_id=ws.id,
                    user_id=user.id,
                    kasm_id=ws.kasm_id,
                    kasm_start_date=now,
                    session_started_at=now - timedelta(minutes=37),
                    started_at=now - timedelta(minutes=37),
                    rate=Decimal("0.15"),
                    currency="USD",
                )
            )
            db.commit()
            out.append((ws.id, create_user_session(db, user=user, method="bench")))
    return tenant, out


def _record_connect(base: str, token: str) -> tuple[str, str]:
    """The websocket URL and CONNECT frame a real browser tab sends for the dashboard."""
    from playwright.sync_api import sync_playwright

    frames: list[str] = []
    urls: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        context = browser.new_context()
        context.add_cookies([{"name": SESSION_COOKIE, "value": token, "url": base}])
        page = context.new_page()

        def on_ws(ws) -> None:
            urls.append(ws.url)
            ws.on("framesent", lambda payload: frames.append(payload if isinstance(payload, str) else ""))

        page.on("websocket", on_ws)
        page.goto(f"{base}/client/workspaces")
        page.wait_for_selector(".kasm-workspace", timeout=60_000)
        browser.close()
    connect = next(f for f in frames if f.startswith("40"))
    return urls[-1], connect


class Client:
    def __init__(self, workspace_id: int) -> None:
        self.workspace_id = workspace_id
        self.loaded = asyncio.Event()
        self.waiting: dict[str, float] = {}
        self.latencies: list[float] = []


async def _run_client(session, url, connect, client: Client, token: str) -> None:
    # The session cookie rides on the websocket upgrade, as a browser sends it (it is not in the
    # CONNECT frame): without it every client would be sent to the sign-in page.
    headers = {"Cookie": f"{SESSION_COOKIE}={token}"}
    async with session.ws_connect(url, max_msg_size=0, headers=headers) as ws:
        await ws.receive()  # Engine.IO open packet
        await ws.send_str(connect)
        while True:
            msg = await ws.receive()
            if msg.type != aiohttp.WSMsgType.TEXT:
                break
            data = msg.data
            if data == "2":
                await ws.send_str("3")
            elif data.startswith("42"):
                if "kasm_state" in data and "Bench workspace" in data:
                    client.loaded.set()
                for marker in list(client.waiting):
                    if marker in data:
                        client.latencies.append(time.perf_counter() - client.waiting.pop(marker))


def _touch(tenant: TenantInfo, workspace_id: int, marker: str) -> None:
    with tenant_session(tenant) as db:
        ws = db.get(KasmWorkspace, workspace_id)
        ws.status_reason = marker
        ws.changed_at = datetime.now(UTC)
        db.add(ws)
        db.commit()


async def measure(
    pid: int, base: str, ws_url: str, connect: str, tokens, record_token, tenant, n: int, changes: int
):
    _, rss0 = _usage(pid)
    clients, tasks = [], []
    started = time.perf_counter()
    jar = aiohttp.DummyCookieJar()
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=None)
    async with aiohttp.ClientSession(connector=connector, cookie_jar=jar, timeout=timeout) as session:
        record_client = re.search(r"token=([^&]+)", ws_url).group(1)
        for workspace_id, token in tokens[:n]:
            client_token = str(uuid.uuid4())
            url = ws_url.replace(record_client, client_token)
            frame = connect.replace(record_client, client_token).replace(record_token, token)
            client = Client(workspace_id)
            clients.append(client)
            tasks.append(asyncio.create_task(_run_client(session, url, frame, client, token)))
            if len(tasks) % 50 == 0:
                await asyncio.sleep(0.05)
        await asyncio.wait_for(asyncio.gather(*(c.loaded.wait() for c in clients)), timeout=600)
        connected = time.perf_counter() - started
        await asyncio.sleep(3)
        cpu1, rss1 = _usage(pid)
        await asyncio.sleep(10)
        cpu2, _ = _usage(pid)
        idle_cpu = (cpu2 - cpu1) / 10 * 100
        count = min(changes, len(clients))
        picked = [clients[i * len(clients) // count] for i in range(count)]
        wave = max(1, count // 10)
        cpu3, _ = _usage(pid)
        for w in range(0, len(picked), wave):
            for c in picked[w : w + wave]:
                marker = f"bench-{uuid.uuid4().hex[:10]}"
                c.waiting[marker] = time.perf_counter()
                await asyncio.to_thread(_touch, tenant, c.workspace_id, marker)
            await asyncio.sleep(1.0)
        await asyncio.sleep(2.0)
        cpu4, _ = _usage(pid)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    latencies = sorted(x * 1000 for c in picked for x in c.latencies)
    missing = sum(len(c.waiting) for c in picked)
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [latencies[0]] * 99
    print(
        f"N={n:>5}: connected+loaded in {connected:.1f}s; backend RSS {rss1 / 2**20:.0f} MiB "
        f"(+{(rss1 - rss0) / n / 1024:.0f} KiB/connection); idle CPU {idle_cpu:.1f}%; "
        f"change phase CPU {(cpu4 - cpu3) / (len(range(0, len(picked), wave)) + 2) * 100:.0f}%; "
        f"update latency p50 {q[49]:.0f} ms, p95 {q[94]:.0f} ms, p99 {q[98]:.0f} ms, "
        f"max {latencies[-1]:.0f} ms over {len(latencies)} updates ({missing} missed)",
        flush=True,
    )
    await asyncio.sleep(3)  # closed tabs are forgotten by the next poll


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", default="100,500,1000")
    parser.add_argument("--changes", type=int, default=200)
    parser.add_argument("--redis", metavar="URL", help="e.g. redis://127.0.0.1:6379/0")
    parser.add_argument("--repeat", type=int, default=1, help="measure each N this many times")
    args = parser.parse_args()
    sizes = [int(x) for x in args.clients.split(",")]
    kasm_signal.install()  # the commit hook a worker has: this process plays the worker
    if args.redis:
        os.environ["REDIS_URL"] = args.redis
    else:
        os.environ.pop("REDIS_URL", None)
    with bench_platform("sqlite"):
        port = _free_port()
        env = node_environment()
        env.update(
            EZSCALE_PORT=str(port),
            REFLEX_WEB_WORKDIR=os.environ.get("EZSCALE_TEST_WEB_DIR", str(ROOT / ".web")),
            PYTHONUNBUFFERED="1",
            # One backend process, as the target says (with Redis, Reflex would start 2 × cores + 1).
            GRANIAN_WORKERS="1",
        )
        subprocess.run(
            [sys.executable, "-m", "ezscale", "demo"], env=env, cwd=ROOT, check=True, capture_output=True
        )
        dispose_engines()
        tenant, tokens = _seed(max(sizes) + 1)
        log_path = Path(os.environ["EZSCALE_DATA_DIR"]) / "app.log"
        with log_path.open("wb") as log:
            app = subprocess.Popen(
                [sys.executable, "-m", "reflex", "run", "--env", "prod"],
                env=env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        base = f"http://localhost:{port}"
        try:
            for _ in range(900):
                try:
                    if httpx.get(f"{base}/ping", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(1)
            _, record_token = tokens.pop()
            ws_url, connect = _record_connect(base, record_token)
            for n in sizes:
                for _ in range(args.repeat):
                    asyncio.run(
                        measure(app.pid, base, ws_url, connect, tokens, record_token, tenant, n, args.changes)
                    )
        finally:
            os.killpg(app.pid, signal.SIGTERM)
            app.wait(timeout=30)


if __name__ == "__main__":
    main()
