"""The HTTP edge of the real ASGI app (Reflex's stack with our routes): every route carries the
security headers, and no Origin but the tenant's own gets credentialed CORS (issue 12, finding 6:
a page on another port read the admin's CSV report with the admin's cookie and framed the admin)."""

import re

import pytest
from starlette.routing import Route
from starlette.testclient import TestClient

import ezscale.app
from ezscale import routes
from ezscale.http.app import api
from ezscale.http.body_limit import MAX_BODY_BYTES
from ezscale.http.edge import secure_edge
from ezscale.models.central import VerificationStatus
from ezscale.services.tenancy.domains import add_domain
from ezscale.settings import get_settings
from ezscale.state.reseller_branding import BrandingEditorState
from tests.actors import owner
from tests.loops import run_on_own_loop

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
    # Reflex adds its CORS middleware to our `api` while building; other tests may already have
    # served requests through `api`, which freezes its middleware stack.
    api.middleware_stack = None
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


def test_every_route_has_security_headers_and_no_cors_for_a_foreign_origin(asgi, make_tenant, monkeypatch):
    monkeypatch.setenv("EZSCALE_SECURE_COOKIES", "false")
    get_settings.cache_clear()
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
    verified = add_domain(central, actor=owner(acme), tenant_id=acme.id, domain="www.acme-cloud.com")
    verified.verification_status = VerificationStatus.VERIFIED
    central.add(verified)
    central.commit()
    add_domain(central, actor=owner(acme), tenant_id=acme.id, domain="pending.acme-cloud.com")
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


def _post_upload(asgi, headers: list[tuple[bytes, bytes]], chunks: list[bytes]) -> tuple[int, int]:
    """POST /_upload straight into the ASGI app; the status and how many body chunks it read."""
    pending, reads, sent = list(chunks), [], []

    async def receive():
        if not pending:
            return {"type": "http.disconnect"}
        reads.append(1)
        return {"type": "http.request", "body": pending.pop(0), "more_body": bool(pending)}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/_upload",
        "raw_path": b"/_upload",
        "root_path": "",
        "query_string": b"",
        "server": ("acme.localhost", 3000),
        "client": ("127.0.0.1", 50000),
        "headers": [(b"host", b"acme.localhost:3000"), *headers],
    }
    run_on_own_loop(asgi(scope, receive, send))
    return next(m["status"] for m in sent if m["type"] == "http.response.start"), len(reads)


def test_an_oversized_upload_is_refused_before_its_body_is_read(asgi, make_tenant):
    make_tenant("acme")
    handler = BrandingEditorState.get_full_name() + ".upload_logo"
    upload = [
        (b"content-type", b"multipart/form-data; boundary=x"),
        (b"reflex-client-token", b"token-1"),
        (b"reflex-event-handler", handler.encode()),
    ]
    declared = [*upload, (b"content-length", b"50000000")]
    assert _post_upload(asgi, declared, [b"x" * 65536] * 800) == (413, 0)
    # No Content-Length (chunked): the body is cut off as soon as it passes the cap.
    chunk = 256 * 1024
    part = b'--x\r\nContent-Disposition: form-data; name="files"; filename="a.png"\r\n\r\n'
    status, reads = _post_upload(asgi, upload, [part + b"x" * chunk] + [b"x" * chunk] * 40)
    assert status == 413 and (reads - 1) * chunk <= MAX_BODY_BYTES < reads * chunk + len(part)
