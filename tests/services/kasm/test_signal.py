"""The live change signal between processes: a commit in a writer process reaches the backend's
listener on the deployment's path — the Unix datagram socket on SQLite, NOTIFY on PostgreSQL,
Redis pub/sub when configured — with no poll involved; garbage is ignored; writers never wait."""

import asyncio
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
import redis
from sqlmodel import select

from ezscale.models.kasm import KasmWorkspace
from ezscale.models.tenant import Plan
from ezscale.services.kasm import signal as kasm_signal
from ezscale.services.kasm import workspaces as kasm
from ezscale.services.kasm.catalogue import seed_catalogue, templates
from ezscale.services.kasm.signal import CHANNEL, PG_CHANNEL, Change, libpq_url
from ezscale.services.kasm.signal_listen import bind_listener, changes
from ezscale.services.tenancy.tenants import TenantInfo, tenant_session
from ezscale.settings import get_settings
from tests.factories import customer_with_credit
from tests.loops import run_on_own_loop

ROOT = Path(__file__).resolve().parents[3]

# A writer process: installs the hooks as the worker does, commits one workspace change.
WRITER = """
import sys
from datetime import datetime
from ezscale.db import tenant_session_for
from ezscale.models.kasm import KasmWorkspace
from ezscale.services.kasm import signal
signal.install()
with tenant_session_for(sys.argv[1]) as db:
    ws = db.get(KasmWorkspace, int(sys.argv[2]))
    ws.changed_at = datetime.fromisoformat(sys.argv[3])
    db.commit()
"""


@pytest.fixture(params=["embedded", "redis"])
def transport(request, monkeypatch) -> str:
    """`embedded`: no Redis, so socket on SQLite and NOTIFY on PostgreSQL; `redis`: pub/sub."""
    if request.param == "redis":
        request.getfixturevalue("redis_url")
    else:
        monkeypatch.delenv("REDIS_URL", raising=False)
        get_settings.cache_clear()
    return request.param


@pytest.fixture
def workspace(make_tenant, transport) -> tuple[TenantInfo, int, int]:
    """(tenant, user id, workspace id) of one ordered workspace."""
    tenant = TenantInfo.of(make_tenant("acme"))
    with tenant_session(tenant) as db:
        seed_catalogue(db)
        user = customer_with_credit(db, "live@example.test", 1000)
        plan = db.exec(select(Plan).where(Plan.code == "kasm-dev-basic")).one()
        ws = kasm.order_workspace(db, user_id=user.id, plan_id=plan.id, template_id=templates(db)[0].id)
        return tenant, user.id, ws.id


def _write_in_another_process(database: str, workspace_id: int, at: datetime) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", WRITER, database, str(workspace_id), at.isoformat()],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def _first_change(database: str, then) -> Change:
    """Listen as a backend does, run `then()` (in a thread) once listening, and return the first
    change announced for `database` (waiting up to 60 s on a busy machine)."""
    ready = asyncio.Event()

    async def first() -> Change:
        async for change in changes(ready):
            if change.database == database:
                return change
        raise AssertionError("the listener stopped")

    listener = asyncio.create_task(first())
    await asyncio.wait_for(ready.wait(), 30)
    await asyncio.to_thread(then)
    try:
        return await asyncio.wait_for(listener, 60)
    finally:
        listener.cancel()


def test_a_commit_in_another_process_reaches_the_listener(workspace, transport):
    tenant, user_id, workspace_id = workspace
    at = datetime(2026, 11, 30, 12, 0, 1, tzinfo=UTC)

    def write() -> None:
        done = _write_in_another_process(tenant.database_name, workspace_id, at)
        assert done.returncode == 0, done.stderr

    change = run_on_own_loop(_first_change(tenant.database_name, write))
    assert change == Change(tenant.database_name, user_id, f"w{workspace_id}", at)


def _send_raw(payloads: list[bytes]) -> None:
    """Put raw messages on the deployment's path, as a confused or hostile local process could."""
    settings = get_settings()
    if settings.redis_url:
        client = redis.Redis.from_url(settings.redis_url)
        for payload in payloads:
            client.publish(CHANNEL, payload)
    elif settings.is_postgres:
        with psycopg.connect(libpq_url(settings.central_url), autocommit=True) as conn:
            for payload in payloads:
                conn.execute(
                    "SELECT pg_notify(%s, %s)",
                    (PG_CHANNEL, payload.decode(errors="replace").replace("\x00", "")),
                )
    else:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            for payload in payloads:
                sock.sendto(payload, str(settings.live_socket_path))


GARBAGE = [
    b"",
    b"\xff\xfe\x00 not utf-8",
    b"too few fields",
    b"db 1 w1 2026-11-30T12:00:00+00:00 extra",
    b"db one w1 2026-11-30T12:00:00+00:00",
    b"db 0 w1 2026-11-30T12:00:00+00:00",
    b"db 1 x1 2026-11-30T12:00:00+00:00",
    b"db 1 w1; 2026-11-30T12:00:00+00:00",
    b"db 1 w1 yesterday",
    b"db 1 w1 2026-11-30T12:00:00",  # no time zone: could not be compared with the dashboard's times
    b"x" * 7_000,  # under NOTIFY's 8000-byte limit, over the socket's read size
]


def test_garbled_messages_are_ignored_and_the_listener_goes_on(workspace, transport):
    tenant, user_id, workspace_id = workspace
    valid = Change(tenant.database_name, user_id, f"w{workspace_id}", datetime(2026, 11, 30, 12, tzinfo=UTC))
    forged = [payload.replace(b"db", tenant.database_name.encode()) for payload in GARBAGE]

    def send() -> None:
        _send_raw(forged)
        kasm_signal.send([valid])

    assert run_on_own_loop(_first_change(tenant.database_name, send)) == valid


def test_a_commit_of_many_changes_arrives_whole(workspace, transport):
    """Hundreds of changes in one commit (a reconcile run): more than the kernel queues as
    separate datagrams, so they travel several to a datagram."""
    tenant, user_id, _workspace_id = workspace
    at = datetime(2026, 11, 30, 12, tzinfo=UTC)
    sent = [Change(tenant.database_name, user_id, f"w{n}", at) for n in range(1, 301)]

    async def receive_all() -> list[Change]:
        ready, received = asyncio.Event(), []

        async def collect() -> None:
            async for change in changes(ready):
                if change.database == tenant.database_name:
                    received.append(change)
                    if len(received) == len(sent):
                        return

        listener = asyncio.create_task(collect())
        await asyncio.wait_for(ready.wait(), 30)
        await asyncio.to_thread(kasm_signal.send, sent)
        await asyncio.wait_for(listener, 60)
        return received

    assert run_on_own_loop(receive_all()) == sent


@pytest.mark.parametrize("transport", ["embedded"], indirect=True)
def test_a_writer_never_waits_or_fails_when_no_backend_listens(workspace, transport, tmp_path, setting):
    tenant, _user_id, workspace_id = workspace
    at = datetime(2026, 11, 30, 12, tzinfo=UTC)
    done = _write_in_another_process(tenant.database_name, workspace_id, at)  # nobody listening
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    with tenant_session(tenant) as db:
        assert db.get(KasmWorkspace, workspace_id).changed_at.replace(tzinfo=UTC) == at  # committed
    if get_settings().is_postgres:
        return
    # A socket a stopped backend left behind refuses; a backend that never reads fills its queue.
    setting("EZSCALE_LIVE_SOCKET", str(tmp_path / "live.sock"))
    stale = bind_listener(get_settings().live_socket_path)
    stale.close()
    many = [Change(tenant.database_name, 1, f"w{n}", at + timedelta(seconds=n)) for n in range(1, 5001)]
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(kasm_signal.send, many).result(timeout=30)
        deaf = bind_listener(get_settings().live_socket_path)  # replaces the stale one
        started = time.monotonic()
        pool.submit(kasm_signal.send, many).result(timeout=30)
        assert time.monotonic() - started < 5  # past a full queue they go to a sender thread
    deaf.close()


def test_only_one_backend_binds_a_socket_path(tmp_path):
    path = tmp_path / "live.sock"
    first = bind_listener(path)
    with pytest.raises(OSError, match="already listens"):
        bind_listener(path)
    first.close()
    bind_listener(path).close()  # the stale socket is replaced


@pytest.mark.parametrize(
    "text",
    [*GARBAGE, "db 1 n0 2026-11-30T12:00:00+00:00", "db 1 w١ 2026-11-30T12:00:00+00:00", " 1 w1 2026-11-30"],
)
def test_decode_refuses_anything_malformed(text):
    assert Change.decode(text) is None


def test_decode_reads_back_what_encode_wrote():
    change = Change("ezscale_tenant_acme", 7, "n12", datetime(2026, 11, 30, 12, tzinfo=UTC))
    assert Change.decode(change.encode()) == change
    assert Change.decode(change.encode().encode()) == change
