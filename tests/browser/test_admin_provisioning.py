"""Browser: the admin's provisioning pages at 1366 and 390 px — panels (bad input refused, a panel
added with write-only credentials, plan mapped, connection test), capacity per panel, and one
service's jobs and log reached from the customer record."""

import re

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from ezscale import clock
from ezscale.db import central_session
from ezscale.demo.panels import seed_demo_panels
from ezscale.models.central import PlatformAdmin
from ezscale.services.accounts.sessions import create_admin_session
from ezscale.services.billing import orders
from ezscale.services.core.audit import operator
from ezscale.services.provisioning import panels
from ezscale.services.tenancy.tenants import tenant_session
from ezscale.simulators.virtfusion import VirtFusionSimulator, serve
from tests.browser.conftest import open_site
from tests.browser.test_client_services import UNMAPPED, WIDTHS, add_unmapped_plan, customer, fits, shots

pytestmark = pytest.mark.browser


def _admin(live_app, page: Page) -> None:
    with live_app.platform(), central_session() as central:
        admin = central.exec(select(PlatformAdmin).where(PlatformAdmin.email == "admin@ezscale.test")).one()
        admin.totp_enabled_at = admin.totp_enabled_at or clock.now()
        central.add(admin)
        central.commit()
        token = create_admin_session(central, admin=admin, method="password+totp")
    page.context.add_cookies([{"name": "ezscale_session", "value": token, "url": live_app.url("localhost")}])


def test_panels_capacity_and_service_log(live_app, page: Page, tmp_path):
    sim = VirtFusionSimulator(build_seconds=1)
    running = serve(sim)
    try:
        _admin(live_app, page)
        open_site(page, live_app.url("localhost", "/admin/panels"))
        expect(page.locator("#panels tbody tr").first).to_be_visible()

        page.locator("#panel-form-module").select_option("virtfusion")
        page.locator("#panel-form-label").fill("VF test")
        page.locator("#panel-form-base_url").fill("not a url")
        page.locator("#save-panel").click()
        expect(page.locator("#panels-error")).to_have_text("Enter the panel's URL, starting with https://.")

        page.locator("#panel-form-base_url").fill(running.url)
        page.locator("#panel-form-credentials").fill(f"token={sim.token}")
        page.locator("#save-panel").click()
        expect(page.locator("#panels-message")).to_have_text("Panel saved.")
        row = page.locator("#panels tbody tr", has_text="VF test")
        expect(row).to_contain_text("token")  # the name of the credential, never its value
        expect(page.locator("body")).not_to_contain_text(sim.token)
        row.get_by_role("button", name="Test").click()
        expect(page.locator("#panels-message")).to_have_text("Connection works.")
        expect(row).to_contain_text("Connected to VirtFusion")

        page.locator("#mapping-plan").select_option("dedi-e3")
        page.locator("#mapping-panel").select_option(label="VF test")
        page.locator("#mapping-package").fill("3")
        page.locator("#save-mapping").click()
        dedi = page.get_by_role("cell", name="dedi-e3", exact=True)  # not another dedi-e3-… plan
        expect(page.locator("#mappings tbody tr", has=dedi)).to_contain_text("VF test")
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            page.screenshot(path=shots(tmp_path) / f"admin-panels-{width}.png", full_page=True)
            fits(page)

        open_site(page, live_app.url("localhost", "/admin/capacity"))
        vf = page.locator("#capacity tbody tr", has=dedi)
        expect(vf).to_contain_text(re.compile(r"\d+ more fit in hypervisor group 1"))
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            fits(page)
            page.screenshot(path=shots(tmp_path) / f"admin-capacity-{width}.png", full_page=True)

        tenant, user_id, _ = customer(live_app, "logged@ezscale.test", credit_minor=50_000)
        with live_app.platform(), tenant_session(tenant) as db:
            add_unmapped_plan(db)
            placed = orders.place_order(db, tenant=tenant, user_id=user_id, plan_code=UNMAPPED)
        open_site(page, live_app.url("localhost", f"/admin/customer?tenant={tenant.id}&user={user_id}"))
        page.locator(".service-provisioning").click()
        expect(page).to_have_url(
            re.compile(rf"/admin/service\?tenant={tenant.id}&service={placed.service.id}$")
        )
        expect(page.locator("#service-summary")).to_contain_text("logged@ezscale.test")
        expect(page.locator("#service-jobs-empty")).to_contain_text("never sent to a panel")
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            fits(page)
            page.screenshot(path=shots(tmp_path) / f"admin-service-{width}.png", full_page=True)
    finally:
        running.stop()
        with live_app.platform(), central_session() as central:  # dedi-e3 back on its demo panel
            panels.remove_mapping(central, plan_code="dedi-e3", actor=operator("test"))
            seed_demo_panels(central)
