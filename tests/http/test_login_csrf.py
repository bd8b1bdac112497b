"""Login CSRF through the session hand-off: a hand-off code is not bound to the browser that signed
in, so another site must not be able to make a victim's browser redeem the attacker's code (the
victim would then work in the attacker's account). `/auth/handoff` takes only a same-origin POST."""

import pytest
from starlette.testclient import TestClient

from ezscale import clock
from ezscale.http.app import api
from ezscale.services.accounts import handoffs
from ezscale.services.accounts.sessions import create_user_session, current_user
from ezscale.services.tenancy.tenants import TenantInfo, tenant_session
from tests.factories import add_customer

OWN = "http://acme.localhost:3000"
SAME_ORIGIN_FETCH = {"Sec-Fetch-Site": "same-origin", "Origin": OWN}


@pytest.fixture
def acme(make_tenant, clock) -> TenantInfo:
    return TenantInfo.of(make_tenant("acme", name="Acme Hosting"))


def _attackers_code(acme: TenantInfo) -> tuple[str, str]:
    """The attacker signs in to their own account; the page would hand their browser this code."""
    with tenant_session(acme) as db:
        user = add_customer(db, "mallory@example.com", email_verified_at=clock.now())
        token = create_user_session(db, user=user, method="password")
    code = handoffs.issue(tenant_id=acme.id, purpose="login", session_token=token, email=user.email)
    return code, token


def _victims_browser() -> TestClient:
    return TestClient(api, base_url=OWN, follow_redirects=False)


@pytest.mark.parametrize(
    ("method", "headers"),
    [
        # A form on evil.example auto-submitted by POST (a current browser sends both headers).
        ("POST", {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}),
        # An older browser: no Fetch Metadata, but Origin on a POST.
        ("POST", {"Origin": "https://evil.example"}),
        # A link or redirect from another site: a top-level navigation sends no Origin on GET.
        ("GET", {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"}),
        # Another storefront of the same platform is the same site, not the same origin.
        ("POST", {"Sec-Fetch-Site": "same-site", "Origin": "http://other.localhost:3000"}),
        # Typed into the address bar or opened from a bookmark.
        ("GET", {"Sec-Fetch-Site": "none"}),
        # Origins that only look like ours.
        ("POST", {"Origin": "http://acme.localhost:3000@evil.example"}),
        ("POST", {"Origin": "https://acme.localhost:3000"}),
        ("POST", {"Origin": "http://acme.localhost:3001"}),
        ("POST", {"Origin": "null"}),
        ("POST", {"Sec-Fetch-Site": "cross-site", "Origin": OWN}),
    ],
)
def test_another_site_cannot_make_a_browser_redeem_the_attackers_code(acme, method, headers):
    code, token = _attackers_code(acme)
    victim = _victims_browser()
    refused = victim.request(method, "/auth/handoff", params={"code": code}, headers=headers)
    assert refused.status_code == 403
    assert "sign-in must be completed on this site's own page" in refused.text
    assert refused.headers.get_list("set-cookie") == []
    assert "ezscale_session" not in victim.cookies
    # The refusal spent nothing: the attacker's own page can still use its code.
    own = victim.post("/auth/handoff", params={"code": code}, headers=SAME_ORIGIN_FETCH)
    assert own.status_code == 303 and f"ezscale_session={token}" in own.headers["set-cookie"]


def test_the_code_is_traded_only_by_a_post_from_the_sites_own_page(acme):
    code, token = _attackers_code(acme)
    browser = _victims_browser()
    same_origin_get = browser.get("/auth/handoff", params={"code": code}, headers=SAME_ORIGIN_FETCH)
    assert (same_origin_get.status_code, same_origin_get.headers["allow"]) == (405, "POST")
    assert same_origin_get.headers.get_list("set-cookie") == []

    response = browser.post("/auth/handoff", params={"code": code}, headers=SAME_ORIGIN_FETCH)
    assert response.status_code == 303
    assert current_user(tenant=acme, token=browser.cookies["ezscale_session"]).email == "mallory@example.com"
    # A Host with the default port written out is the same origin as the browser's Origin.
    other = handoffs.issue(tenant_id=acme.id, purpose="login", session_token=token)
    explicit_port = TestClient(api, base_url="http://acme.localhost:80", follow_redirects=False)
    answer = explicit_port.post(
        "/auth/handoff", params={"code": other}, headers={"Origin": "http://acme.localhost"}
    )
    assert answer.status_code == 303
