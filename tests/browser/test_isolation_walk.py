"""Walk every registered page on a reseller's host with a session from another tenant: no page
may treat it as signed in or show the reseller's private data."""

import pytest
from playwright.sync_api import Browser
from sqlmodel import select

from ezscale import clock
from ezscale.app import app
from ezscale.db import central_session
from ezscale.models.tenant import Role, User
from ezscale.services.accounts.sessions import create_user_session
from ezscale.services.tenancy.tenants import TenantInfo, get_tenant, tenant_session

pytestmark = pytest.mark.browser

MARKER = "private-marker@acme.test"


def _routes() -> list[str]:
    routes = []
    for route in app._unevaluated_pages:
        path = "/" + ("" if route == "index" else route)
        routes.append(path.replace("[", "").replace("]", ""))  # dynamic segments get a literal value
    return sorted(routes)


def _foreign_token(live_app) -> str:
    """A valid session of the house tenant's customer, and a private customer row in acme."""
    with live_app.platform(), central_session() as central:
        acme = TenantInfo.of(get_tenant(central, "acme"))
        with tenant_session(acme) as db:
            if db.exec(select(User).where(User.email == MARKER)).first() is None:
                db.add(User(email=MARKER, password_hash="x", role=Role.CUSTOMER, created_at=clock.now()))
                db.commit()
        house = TenantInfo.of(get_tenant(central, "ezscale"))
        with tenant_session(house) as db:
            customer = db.exec(select(User).where(User.email == "customer@ezscale.test")).one()
            return create_user_session(db, user=customer, method="password")


def test_every_page_refuses_a_session_from_another_tenant(live_app, browser: Browser):
    context = browser.new_context()
    token = _foreign_token(live_app)
    context.add_cookies([{"name": "ezscale_session", "value": token, "url": live_app.url("acme.localhost")}])
    page = context.new_page()
    seen = []
    try:
        for path in _routes():
            page.goto(live_app.url("acme.localhost", path))
            page.wait_for_load_state("networkidle")
            # Pages may redirect (to sign in); wait until whatever page we land on has loaded.
            page.wait_for_function("() => !document.querySelector(\"[data-site-status='loading']\")")
            text = page.inner_text("body")
            assert MARKER not in text, path
            assert "customer@ezscale.test" not in text, path
            seen.append(path)
    finally:
        context.close()
    assert "/reseller" in seen and "/admin" in seen
