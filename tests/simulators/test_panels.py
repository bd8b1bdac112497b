"""The provisioning panel simulators: runnable alone, real HTTP, auth, faults and latency."""

import socket
import subprocess
import sys
import time

import httpx
import pytest

from ezscale.simulators.enhance import MO_ID, EnhanceSimulator
from ezscale.simulators.pterodactyl import PterodactylSimulator
from ezscale.simulators.rest import serve
from ezscale.simulators.synergycp import SynergyCPSimulator

PTERO = {"Authorization": "Bearer ptla_demo", "Accept": "application/json"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(url: str, **kw) -> httpx.Response:
    deadline = time.monotonic() + 20
    while True:
        try:
            return httpx.get(url, timeout=1, **kw)
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "path", "params", "headers"),
    [
        ("pterodactyl", "/api/application/nodes", {}, PTERO),
        ("enhance", f"/api/orgs/{MO_ID}", {}, {"Authorization": "Bearer enhance-demo-token"}),
        ("synergycp", "/server", {"key": "scp-demo-key"}, {}),
    ],
)
def test_runs_alone_on_its_port(name, path, params, headers):
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", f"ezscale.simulators.{name}", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        reply = _wait_for(f"http://127.0.0.1:{port}{path}", params=params, headers=headers)
        assert reply.status_code == 200 and reply.json()
        assert httpx.get(f"http://127.0.0.1:{port}{path}").status_code == 401
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def ptero():
    sim = PterodactylSimulator(build_seconds=0, hang_seconds=0.5)
    server = serve(sim)
    sim.url = server.url
    yield sim
    server.stop()


def test_faults_are_consumed_one_per_call(ptero):
    url = f"{ptero.url}/api/application/nodes"
    ptero.inject("list_nodes", "500", "429", "malformed")
    assert httpx.get(url, headers=PTERO).status_code == 500
    assert httpx.get(url, headers=PTERO).status_code == 429
    broken = httpx.get(url, headers=PTERO)
    assert broken.status_code == 200
    with pytest.raises(ValueError):
        broken.json()
    assert httpx.get(url, headers=PTERO).json()["object"] == "list"
    assert ptero.count("list_nodes") == 4


def test_timeout_fault_does_the_work_before_hanging(ptero):
    ptero.inject("create_user", "timeout")
    body = {
        "email": "a@example.com",
        "username": "abc",
        "first_name": "A",
        "last_name": "B",
        "external_id": "1",
    }
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(f"{ptero.url}/api/application/users", json=body, headers=PTERO, timeout=0.2)
    assert [u["email"] for u in ptero.users.values()] == ["a@example.com"]
    again = httpx.post(f"{ptero.url}/api/application/users", json=body, headers=PTERO)
    assert again.status_code == 422
    assert again.json()["errors"][0]["detail"] == "The email has already been taken."


def test_state_lists_what_the_panel_holds_without_auth_or_faults():
    sim = SynergyCPSimulator(fault_rate=1.0, hang_seconds=0)
    server = serve(sim)
    try:
        assert httpx.get(f"{server.url}/_state/live").json() == []  # stock is not a service
        sid = next(iter(sim.servers))
        sim.servers[sid]["billing"]["id"] = "7"
        assert httpx.get(f"{server.url}/_state/live").json() == [str(sid)]
    finally:
        server.stop()


def test_application_key_is_refused_on_the_client_api(ptero):
    reply = httpx.get(f"{ptero.url}/api/client/servers/abcdef12/resources", headers=PTERO)
    assert reply.status_code == 403 and "client API key" in reply.json()["errors"][0]["detail"]


def test_fault_rate_is_seeded_and_roughly_that_share():
    sim = EnhanceSimulator(fault_rate=0.2, seed=7, hang_seconds=0)
    server = serve(sim)
    try:
        headers = {"Authorization": "Bearer enhance-demo-token"}
        codes = [
            httpx.get(f"{server.url}/api/orgs/{MO_ID}/plans", headers=headers).status_code for _ in range(100)
        ]
    finally:
        server.stop()
    assert 5 <= codes.count(500) <= 20 and codes.count(200) >= 75


def test_synergycp_inventory_filters_and_paging():
    sim = SynergyCPSimulator()
    server = serve(sim)
    try:
        params = {
            "key": "scp-demo-key",
            "available": "true",
            "parts[exact]": "true",
            "cpu_billing": "epyc-7302",
            "disks_billing[]": ["nvme-2tb", "nvme-2tb"],
            "per_page": 1,
        }
        page = httpx.get(f"{server.url}/server", params=params).json()["data"]
        assert page["total"] == 2 and len(page["data"]) == 1 and page["last_page"] == 2
        one_disk = httpx.get(f"{server.url}/server", params=params | {"disks_billing[]": "nvme-2tb"}).json()
        assert one_disk["data"]["total"] == 0  # exact parts: two disks are not one
    finally:
        server.stop()
