"""The Kasm Developer API client against the simulator: auth modes, errors, retries, typed results."""

import pytest

from ezscale.services.kasm.client import KasmClient, KasmError, KasmNotFound, KasmTransientError
from ezscale.simulators.kasm import KasmSimulator, serve


@pytest.fixture
def sim():
    simulator = KasmSimulator(provision_seconds=0)
    server = serve(simulator)
    simulator.url = server.url
    yield simulator
    server.stop()


def _client(sim, **kw) -> KasmClient:
    options = dict(base_url=sim.url, api_key="demo-key", api_secret="demo-secret", timeout=0.3, backoff=0)
    options.update(kw)
    return KasmClient(**options)


@pytest.mark.parametrize("mode", ["body", "basic"])
def test_both_auth_modes_work_and_results_are_typed(sim, mode):
    with _client(sim, auth_mode=mode) as client:
        user = client.create_user(username="acme-u1", password="s3cret-pass")
        image = next(i for i in client.get_images() if i.friendly_name == "VS Code")
        requested = client.request_kasm(user_id=user.user_id, image_id=image.image_id)
        assert requested.kasm_url.startswith(f"{sim.url}/#/connect/kasm/{requested.kasm_id}/")
        status = client.get_kasm_status(kasm_id=requested.kasm_id, user_id=user.user_id)
        assert status.running and status.start_date is not None
        again = client.get_kasm_status(kasm_id=requested.kasm_id, user_id=user.user_id)
        assert again.kasm_url != status.kasm_url  # the token rotates on every status call
        [listed] = client.get_kasms().kasms
        assert (listed.kasm_id, listed.user_id, listed.operational_status) == (
            requested.kasm_id,
            user.user_id,
            "running",
        )
        assert client.keepalive(kasm_id=requested.kasm_id) is False
        client.destroy_kasm(kasm_id=requested.kasm_id, user_id=user.user_id)
        with pytest.raises(KasmNotFound):
            client.get_kasm_status(kasm_id=requested.kasm_id, user_id=user.user_id)


def test_wrong_credentials_are_refused_not_retried(sim):
    with (
        _client(sim, api_secret="wrong", retries=3) as client,
        pytest.raises(KasmError, match="Access Denied"),
    ):
        client.get_kasms()
    assert sim.calls == ["get_kasms"]


def test_error_message_with_http_200_is_an_error(sim):
    with _client(sim) as client, pytest.raises(KasmError, match="No Default Image Found"):
        user = client.create_user(username="acme-u2", password="pw-pw-pw")
        client.request_kasm(user_id=user.user_id, image_id="no-such-image")


@pytest.mark.parametrize("fault", ["500", "malformed", "timeout"])
def test_transient_faults_are_retried(sim, fault):
    sim.hang_seconds = 1.0
    sim.inject("get_kasms", fault)
    with _client(sim, retries=2) as client:
        assert client.get_kasms().kasms == []
    assert sim.calls == ["get_kasms", "get_kasms"]


def test_persistent_faults_surface_as_transient(sim):
    sim.inject("get_kasms", "500", "500", "500")
    with _client(sim, retries=2) as client, pytest.raises(KasmTransientError, match="HTTP 500"):
        client.get_kasms()


def test_calls_that_create_are_not_resent_after_reaching_the_server(sim):
    sim.inject("request_kasm", "500")
    with _client(sim, retries=3) as client:
        user = client.create_user(username="acme-u3", password="pw-pw-pw")
        with pytest.raises(KasmTransientError):
            client.request_kasm(user_id=user.user_id, image_id=sim.image_id("kasmweb/chrome:1.16.0"))
    assert sim.calls.count("request_kasm") == 1
