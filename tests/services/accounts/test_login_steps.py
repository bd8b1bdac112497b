"""The sign-in page's steps (LoginState, without a browser)."""

from datetime import timedelta

from ezscale.models.tenant import User
from ezscale.services.accounts.passwords import hash_password
from ezscale.services.tenancy.tenants import TenantInfo, tenant_session
from ezscale.settings import get_settings
from ezscale.state.login import PENDING_SECONDS, LoginState
from tests.state_harness import call, page_state

PASSWORD = "correct horse battery"


def test_the_pages_load_event_arriving_after_a_quick_first_submit_keeps_the_code_step(make_tenant, clock):
    tenant = TenantInfo.of(make_tenant("acme"))
    with tenant_session(tenant) as db:
        db.add(
            User(
                email="ann@example.com",
                password_hash=hash_password(PASSWORD),
                email_verified_at=clock.now(),
                totp_enabled_at=clock.now(),
                created_at=clock.now(),
            )
        )
        db.commit()
    state = page_state(LoginState, host=f"acme.{get_settings().platform_domain}:3000", path="/login")
    call(state, "submit_password", {"email": "ann@example.com", "password": PASSWORD})
    assert (state.step, state.error) == ("code", "")

    call(state, "load_login")  # queued by the browser behind the submit
    assert state.step == "code"

    clock.advance(timedelta(seconds=PENDING_SECONDS + 1))
    call(state, "load_login")  # an abandoned second step is not kept
    assert state.step == "password"
