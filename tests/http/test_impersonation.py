"""Impersonation hand-off: a single-use, one-minute code (never a session token in the URL), only
for impersonation sessions; HttpOnly cookie; the admin's own session kept and restored."""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from starlette.testclient import TestClient

from ezscale.http.app import api
from ezscale.http.impersonation import impersonation_link
from ezscale.models.tenant import User
from ezscale.services.accounts.sessions import create_user_session, current_user
from ezscale.services.customers import actions
from ezscale.services.tenancy.tenants import TenantInfo, tenant_session
from tests.factories import admin_token


def test_hand_off_sets_the_banner_and_ending_restores_the_admin(central, make_tenant, clock):
    house = TenantInfo.of(make_tenant("house", is_house=True, primary_domain="localhost"))
    with tenant_session(house) as db:
        user = User(email="pat@example.test", password_hash="-", created_at=clock.now())
        db.add(user)
        db.commit()
        own_token = create_user_session(db, user=user, method="password")
    admin_session = admin_token(central)
    actor = current_user(tenant=house, token=admin_session)
    client = TestClient(api, base_url="http://localhost", follow_redirects=False)

    def get(path: str, cookies: dict[str, str], **params):
        header = "; ".join(f"{k}={v}" for k, v in cookies.items())
        response = client.get(path, params=params, headers={"cookie": header})
        return response, {
            c.split("=", 1)[0]: c.split("=", 1)[1].split(";")[0]
            for c in response.headers.get_list("set-cookie")
        }

    assert get("/impersonate", {}, token=own_token)[0].status_code == 403  # not an impersonation session
    token = actions.impersonate(actor=actor, tenant=house, user_id=user.id)
    assert get("/impersonate", {}, token=token)[0].status_code == 403  # a session token is no link
    link = impersonation_link(house, token)
    assert token not in link
    code = parse_qs(urlsplit(link).query)["token"][0]
    started, set_cookies = get("/impersonate", {"ezscale_session": admin_session}, token=code)
    assert (started.status_code, started.headers["location"]) == (303, "/client")
    assert set_cookies["ezscale_session"] == token
    session_cookie = next(
        c for c in started.headers.get_list("set-cookie") if c.startswith("ezscale_session=")
    )
    assert "httponly" in session_cookie.lower()
    assert get("/impersonate", {}, token=code)[0].status_code == 403  # single use
    assert set_cookies["ezscale_impersonating"] == "pat%40example.test"
    previous = set_cookies["ezscale_session_before_impersonation"]
    assert previous == admin_session

    ended, set_cookies = get(
        "/impersonate/end", {"ezscale_session": token, "ezscale_session_before_impersonation": previous}
    )
    assert (ended.status_code, ended.headers["location"]) == (303, "/admin/customers")
    assert set_cookies["ezscale_session"] == admin_session
    assert set_cookies["ezscale_impersonating"] in ('""', "")  # deleted
    assert current_user(tenant=house, token=token) is None  # the impersonation session is over
    assert current_user(tenant=house, token=admin_session).email == "admin@example.test"


def test_an_impersonation_link_expires_after_a_minute(central, make_tenant, clock):
    house = TenantInfo.of(make_tenant("house", is_house=True, primary_domain="localhost"))
    with tenant_session(house) as db:
        user = User(email="pat@example.test", password_hash="-", created_at=clock.now())
        db.add(user)
        db.commit()
        user_id = user.id
    actor = current_user(tenant=house, token=admin_token(central))
    link = impersonation_link(house, actions.impersonate(actor=actor, tenant=house, user_id=user_id))
    clock.advance(timedelta(seconds=61))
    client = TestClient(api, base_url="http://localhost", follow_redirects=False)
    parts = urlsplit(link)
    assert client.get(f"{parts.path}?{parts.query}").status_code == 403
