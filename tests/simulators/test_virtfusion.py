"""The VirtFusion simulator speaks the panel's protocol: Bearer auth, `data` payloads, 204s,
paginated lists, asynchronous builds on its clock, finite resources given back on delete."""

import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from ezscale.clock import FrozenClock
from ezscale.simulators.virtfusion import VirtFusionSimulator, serve


@pytest.fixture
def panel():
    frozen = FrozenClock(datetime(2026, 11, 1, tzinfo=UTC))
    sim = VirtFusionSimulator(clock=frozen.now, build_seconds=4)
    running = serve(sim)
    client = httpx.Client(base_url=f"{running.url}/api/v1", headers={"Authorization": f"Bearer {sim.token}"})
    yield sim, client, frozen
    client.close()
    running.stop()


def test_auth_and_reply_shapes(panel):
    _, client, _ = panel
    bad = httpx.get(f"{client.base_url}connect", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401 and bad.content == b""
    groups = client.get("/compute/hypervisors/groups").json()
    assert groups["total"] == 1 and groups["data"][0]["id"] == 1
    assert client.get("/users/5/byExtRelation").json() == {"msg": "user not found"}
    dup = {"name": "A", "email": "a@example.test", "extRelationId": 5}
    assert client.post("/users", json=dup).status_code == 201
    again = client.post("/users", json={**dup, "extRelationId": 6})
    assert again.status_code == 422 and "The email has already been taken." in again.json()["errors"]


def test_build_runs_on_the_clock_and_delete_gives_resources_back(panel):
    sim, client, frozen = panel
    user = client.post("/users", json={"name": "A", "email": "a@example.test", "extRelationId": 5}).json()[
        "data"
    ]
    free = client.get("/compute/hypervisors/groups/1/resources").json()["data"][0]["resources"]["memory"][
        "free"
    ]
    body = {"packageId": 1, "userId": user["id"], "hypervisorId": 1, "ipv4": 1}
    assert client.post("/servers", params={"dryRun": "true"}, json=body).json()["data"]["dryRun"] is True
    assert sim.live_servers() == []
    server = client.post("/servers", json=body).json()["data"]
    assert server["built"] is None and server["network"]["interfaces"][0]["ipv4"]
    assert (
        client.post(f"/servers/{server['id']}/build", json={"operatingSystemId": 1, "name": "x"}).status_code
        == 200
    )
    assert client.post(f"/servers/{server['id']}/suspend").status_code == 423  # the build task holds it
    frozen.advance(timedelta(seconds=4))
    built = client.get(f"/servers/{server['id']}").json()["data"]
    assert built["built"] and built["state"] == "running" and not built["tasks"]["active"]
    used = client.get("/compute/hypervisors/groups/1/resources").json()["data"][0]["resources"]["memory"]
    assert used["free"] == free - 2048
    deleted = client.delete(f"/servers/{server['id']}", params={"delay": 0})
    assert deleted.status_code == 204 and deleted.content == b""
    assert client.get(f"/servers/{server['id']}").json() == {"msg": "server not found"}
    after = client.get("/compute/hypervisors/groups/1/resources").json()["data"][0]["resources"]["memory"]
    assert after["free"] == free


def test_state_lists_the_servers_outside_the_api(panel):
    sim, client, _ = panel
    root = str(client.base_url).removesuffix("/").removesuffix("/api/v1")
    user = client.post("/users", json={"name": "A", "email": "a@example.test", "extRelationId": 5}).json()
    body = {"packageId": 1, "userId": user["data"]["id"], "hypervisorId": 1, "ipv4": 1}
    server = client.post("/servers", json=body).json()["data"]
    sim.inject("GET /_state/live", "500")  # no auth, no faults: a benchmark's orphan check
    assert httpx.get(f"{root}/_state/live").json() == [str(server["id"])]
    assert client.delete(f"/servers/{server['id']}", params={"delay": 0}).status_code == 204
    assert httpx.get(f"{root}/_state/live").json() == []


@pytest.mark.slow
def test_runs_as_a_process():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "ezscale.simulators.virtfusion", "--port", str(port), "--hypervisors", "3"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert "VirtFusion simulator on" in process.stdout.readline()
        deadline = time.monotonic() + 10
        while True:
            try:
                reply = httpx.get(
                    f"http://127.0.0.1:{port}/api/v1/connect",
                    headers={"Authorization": "Bearer demo-virtfusion-token"},
                )
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline
        assert reply.status_code == 200
        resources = httpx.get(
            f"http://127.0.0.1:{port}/api/v1/compute/hypervisors/groups/1/resources",
            headers={"Authorization": "Bearer demo-virtfusion-token"},
        )
        assert len(resources.json()["data"]) == 3  # --hypervisors sized the default group
    finally:
        process.terminate()
        process.wait(timeout=10)
