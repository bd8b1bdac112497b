"""The live app (`reflex run --env prod`, built frontend): every page, its scripts and the API
routes carry the security headers, and a foreign Origin with the visitor's cookie gets no CORS
grant (issue 12, finding 6: a page on another port read the admin's CSV report and framed
/admin/customers)."""

import re
from urllib.parse import urlsplit

import httpx
import pytest

import ezscale.app
from ezscale import routes

pytestmark = pytest.mark.browser

EVIL = "http://127.0.0.1:4999"


def _get(live_app, host: str, path: str) -> httpx.Response:
    return httpx.get(
        f"http://127.0.0.1:{live_app.port}{path}",
        headers={"Host": f"{host}:{live_app.port}", "Origin": EVIL, "Cookie": "ezscale_session=stolen"},
        timeout=30,
    )


def _assert_secure(response: httpx.Response, what: str) -> None:
    assert "frame-ancestors 'none'" in response.headers.get("content-security-policy", ""), what
    assert response.headers.get("x-frame-options") == "DENY", what
    assert response.headers.get("x-content-type-options") == "nosniff", what
    assert response.headers.get("referrer-policy"), what
    assert "access-control-allow-origin" not in response.headers, what
    assert "access-control-allow-credentials" not in response.headers, what


def test_every_page_script_and_route_of_the_live_app_is_protected(live_app):
    pages = [
        "/" + re.sub(r"\[[^\]]+\]", "vps-1", route).removeprefix("index").lstrip("/")
        for route in ezscale.app.app._unevaluated_pages
    ]
    assert "/admin/customers" in pages and "/login" in pages
    scripts = set()
    for host in ("localhost", "acme.localhost"):
        for path in pages:
            response = _get(live_app, host, path)
            _assert_secure(response, f"{host}{path}")
            if response.is_redirect:  # e.g. /client → /client/
                response = _get(live_app, host, urlsplit(response.headers["location"]).path)
                _assert_secure(response, f"{host}{path} (redirected)")
            # The branded not-found page is served with its own status.
            assert response.status_code == (404 if path == "/404" else 200), (host, path)
            scripts.update(re.findall(r'(?:src|href)="(/assets/[^"]+\.js)"', response.text))
        for path in (
            "/ping",
            "/_health",
            routes.THEME_CSS,
            routes.FAVICON,
            "/admin/reports/revenue-by-day.csv",
        ):
            _assert_secure(_get(live_app, host, path), f"{host}{path}")
    assert scripts
    for path in sorted(scripts)[:20]:
        response = _get(live_app, "localhost", path)
        assert response.status_code == 200, path
        _assert_secure(response, path)
    preflight = httpx.options(
        live_app.url(path="/admin/reports/revenue-by-day.csv"),
        headers={"Origin": EVIL, "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 403 and "access-control-allow-origin" not in preflight.headers
