"""The HTTP edge of the real ASGI app (Reflex's stack with our routes): every route carries the
security headers, and no Origin but the tenant's own gets credentialed CORS (issue 12, finding 6:
a page on another port read the admin's CSV report with the admin's cookie and framed the admin)."""

import re

import pytest
from starlette.routing import Route
from starlette.testclient import TestClient

import ezscale.app
from ezscale import routes
from ezscale.api import api
from ezscale.edge import secure_edge
from ezscale.models.central import VerificationStatus
from ezscale.services.domains import add_domain
from ezscale.settings import get_settings

EVIL = "http://evil.example:4000"
HEADERS = {
    "content-security-policy": "frame-ancestors 'none'",
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
}


@pytest.fixture(scope="module")
def asgi():
    """The finished ASGI app exactly as `reflex run` builds it (compiled once per module)."""
    return ezscale.app.app()


def _concrete(path: str) -> str:
    path = path.replace("{name}.csv", "revenue.csv").replace("{name}", "logo-0123456789abcdef.png")
    return re.sub(r"\[[^\]]+\]", "basic", path)


def _every_route() -> list[tuple[str, str]]:
    """(method, path) of every HTTP route: ours, Reflex's own endpoints and every page."""
    found = [
        ("POST" if r.methods == {"POST"} else "GET", _concrete(r.path))
        for r in api.routes
        if isinstance(r, Route)
    ]
    found += [("GET", "/ping"), ("GET", "/_health"), ("POST", "/_upload"), ("GET", "/_event/")]
    found += [("GET", "/" + _concrete(route).lstrip("/")) for route in ezscale.app.app._unevaluated_pages]
    return sorted(set(found))


def _assert_secure(response, path: str) -> None:
    for name, value in HEADERS.items():
        assert value in response.headers.get(name, ""), f"{path}: {name} missing"
    assert "strict-transport-security" not in response.headers  # plain-HTTP demo
    assert "access-control-allow-origin" not in response.headers, path
    assert "access-control-allow-credentials" not in response.headers, path


def test_every_route_has_security_headers_and_no_cors_for_a_foreign_origin(asgi, make_tenant):
    make_tenant("ezscale", is_house=True, primary_domain="localhost")
    client = TestClient(asgi, base_url="http://localhost:3000", raise_server_exceptions=False)
    client.cookies.set("ezscale_session", "some-session-token")
    checked = _every_route()
    assert len(checked) > 30 and ("GET", "/admin/reports/revenue.csv") in checked
    for method, path in checked:
        response = client.request(method, path, headers={"Origin": EVIL})
        _assert_secure(response, path)
        preflight = client.options(path, headers={"Origin": EVIL, "Access-Control-Request-Method": "GET"})
        assert preflight.status_code == 403, path
        _assert_secure(preflight, path)


def test_hsts_is_sent_when_secure_cookies_are_on(asgi, make_tenant, monkeypatch):
    make_tenant("ezscale", is_house=True, primary_domain="localhost")
    monkeypatch.setenv("EZSCALE_SECURE_COOKIES", "true")
    get_settings.cache_clear()
    response = TestClient(asgi, base_url="http://localhost:3000").get("/ping")
    assert response.headers["strict-transport-security"].startswith("max-age=")


def test_only_the_tenants_own_verified_origins_get_credentialed_cors(asgi, make_tenant, central):
    acme = make_tenant("acme")
    make_tenant("beta")
    verified = add_domain(central, tenant_id=acme.id, domain="www.acme-cloud.com")
    verified.verification_status = VerificationStatus.VERIFIED
    central.add(verified)
    central.commit()
    add_domain(central, tenant_id=acme.id, domain="pending.acme-cloud.com")
    port = get_settings().port
    client = TestClient(asgi, base_url=f"http://acme.localhost:{port}")
    own = f"http://www.acme-cloud.com:{port}"
    response = client.get(routes.THEME_CSS, headers={"Origin": own})
    assert response.headers["access-control-allow-origin"] == own
    assert response.headers["access-control-allow-credentials"] == "true"
    assert "Origin" in response.headers["vary"]
    preflight = client.options(
        routes.THEME_CSS,
        headers={
            "Origin": own,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "x-a",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == own
    for foreign in (
        f"http://beta.localhost:{port}",  # another tenant
        f"http://pending.acme-cloud.com:{port}",  # not verified
        f"https://www.acme-cloud.com:{port}",  # wrong scheme
        "http://www.acme-cloud.com",  # wrong port
        "null",
    ):
        response = client.get(routes.THEME_CSS, headers={"Origin": foreign})
        assert "access-control-allow-origin" not in response.headers, foreign
        assert (
            client.options(
                routes.THEME_CSS, headers={"Origin": foreign, "Access-Control-Request-Method": "GET"}
            ).status_code
            == 403
        )


def test_websocket_accept_carries_the_security_headers():
    async def accept(scope, receive, send):
        await receive()
        await send({"type": "websocket.accept", "headers": [(b"x-frame-options", b"SAMEORIGIN")]})
        await send({"type": "websocket.close", "code": 1000})

    with TestClient(secure_edge(accept)).websocket_connect("/_event/") as ws:
        headers = dict(ws.extra_headers)
    assert headers[b"x-frame-options"] == b"DENY"
    assert b"frame-ancestors 'none'" in headers[b"content-security-policy"]
