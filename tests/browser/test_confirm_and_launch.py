"""Browser: Launch from the storefront keeps the chosen workspace type; Terminate and Stop of an
ephemeral workspace ask first, saying what is lost, and Cancel changes nothing."""

import re

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from ezscale import clock
from ezscale.db import central_session
from ezscale.models.kasm import KasmWorkspace, WorkspaceStatus
from ezscale.models.tenant import CreditKind, Plan, User
from ezscale.services.accounts.passwords import hash_password
from ezscale.services.accounts.sessions import create_user_session
from ezscale.services.billing import credits
from ezscale.services.kasm import workspaces as kasm
from ezscale.services.kasm.view import order_options
from ezscale.services.tenancy.tenants import TenantInfo, get_tenant, tenant_session
from ezscale.state.auth import SESSION_COOKIE
from tests.browser.conftest import open_site

pytestmark = pytest.mark.browser


def _sign_in_new_customer(live_app, page: Page, email: str) -> tuple[TenantInfo, int]:
    with live_app.platform():
        with central_session() as central:
            tenant = TenantInfo.of(get_tenant(central, "ezscale"))
        with tenant_session(tenant) as db:
            user = User(
                email=email,
                password_hash=hash_password("a confirm test password"),
                name="Carl Careful",
                email_verified_at=clock.now(),
                created_at=clock.now(),
            )
            db.add(user)
            db.commit()
            token = create_user_session(db, user=user, method="password")
            user_id = user.id
    page.context.add_cookies([{"name": SESSION_COOKIE, "value": token, "url": live_app.url("localhost")}])
    return tenant, user_id


def test_launch_keeps_the_chosen_plan(live_app, page: Page):
    tenant, _ = _sign_in_new_customer(live_app, page, "launcher@ezscale.test")
    with live_app.platform(), tenant_session(tenant) as db:
        pro = db.exec(select(Plan).where(Plan.code == "kasm-dev-pro")).one()
        basic = db.exec(select(Plan).where(Plan.code == "kasm-dev-basic")).one()
    open_site(page, live_app.url("localhost", "/"))
    page.locator("#order-kasm-dev-pro").click()
    expect(page).to_have_url(re.compile(r"/client/workspaces/launch/kasm-dev-pro$"))
    select_box = page.locator("#kasm-type")
    expect(select_box).to_have_value(str(pro.id))
    expect(select_box.locator("option:checked")).to_contain_text(pro.name)
    # Another plan's link selects that one; an unknown code leaves the first type chosen.
    open_site(page, live_app.url("localhost", "/client/workspaces/launch/kasm-dev-basic"))
    expect(page.locator("#kasm-type")).to_have_value(str(basic.id))
    open_site(page, live_app.url("localhost", "/client/workspaces/launch/no-such-plan"))
    expect(page.locator("#kasm-type")).to_have_value(str(basic.id))


def test_launch_keeps_the_chosen_plan_through_sign_in(live_app, browser):
    context = browser.new_context(viewport={"width": 1366, "height": 800})
    page = context.new_page()
    _sign_in_new_customer(live_app, page, "launch-visitor@ezscale.test")
    context.clear_cookies()  # a visitor: Launch goes through the sign-in page
    open_site(page, live_app.url("localhost", "/"))
    page.locator("#order-kasm-dev-pro").click()
    page.wait_for_url(re.compile(r"/login\?next=/client/workspaces/launch/kasm-dev-pro"))
    page.fill("#email-input", "launch-visitor@ezscale.test")
    page.fill("#password-input", "a confirm test password")
    page.click("#login-submit")
    page.wait_for_url(re.compile(r"/client/workspaces/launch/kasm-dev-pro$"))
    expect(page.locator("#kasm-type option:checked")).to_contain_text("Developer Pro")
    context.close()


def _workspace(live_app, tenant: TenantInfo, user_id: int, status: WorkspaceStatus) -> str:
    """A workspace of the first type and (ephemeral) template, as if the worker had made it `status`."""
    with live_app.platform(), tenant_session(tenant) as db:
        credits.add_entry(
            db, user_id=user_id, kind=CreditKind.TOP_UP, amount_minor=5000, currency=tenant.currency, memo="t"
        )
        db.commit()
        types, templates = order_options(db)
        ws = kasm.order_workspace(
            db, user_id=user_id, plan_id=int(types[0].value), template_id=int(templates[0].value)
        )
        ws.status = status
        db.add(ws)
        db.commit()
        return str(ws.id)


def _status(live_app, tenant: TenantInfo, workspace_id: str) -> WorkspaceStatus:
    with live_app.platform(), tenant_session(tenant) as db:
        return db.get(KasmWorkspace, int(workspace_id)).status


def test_terminate_asks_first_and_cancel_keeps_the_workspace(live_app, page: Page):
    tenant, user_id = _sign_in_new_customer(live_app, page, "terminator@ezscale.test")
    workspace_id = _workspace(live_app, tenant, user_id, WorkspaceStatus.STOPPED)
    open_site(page, live_app.url("localhost", "/client/workspaces"))
    card = page.locator(f".kasm-workspace[data-workspace-id='{workspace_id}']")
    expect(card).to_have_attribute("data-status", "stopped")

    page.locator(f"#kasm-terminate-{workspace_id}").click()
    dialog = page.locator(f"#kasm-terminate-dialog-{workspace_id}")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("every file in it are deleted for good")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(card).to_be_visible()
    assert _status(live_app, tenant, workspace_id) is not WorkspaceStatus.TERMINATED

    page.locator(f"#kasm-terminate-{workspace_id}").click()
    dialog.get_by_role("button", name="Terminate workspace").click()
    expect(page.locator(f".kasm-workspace[data-workspace-id='{workspace_id}']")).to_have_count(0)
    assert _status(live_app, tenant, workspace_id) is WorkspaceStatus.TERMINATED


def test_stop_of_an_ephemeral_workspace_warns_that_files_are_lost(live_app, page: Page):
    tenant, user_id = _sign_in_new_customer(live_app, page, "stopper@ezscale.test")
    workspace_id = _workspace(live_app, tenant, user_id, WorkspaceStatus.RUNNING)
    open_site(page, live_app.url("localhost", "/client/workspaces"))
    card = page.locator(f".kasm-workspace[data-workspace-id='{workspace_id}']")
    expect(card).to_have_attribute("data-status", "running")

    page.locator(f"#kasm-stop-{workspace_id}").click()
    dialog = page.locator(f"#kasm-stop-dialog-{workspace_id}")
    expect(dialog).to_contain_text("everything saved in it is lost when it stops")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    assert _status(live_app, tenant, workspace_id) is WorkspaceStatus.RUNNING
