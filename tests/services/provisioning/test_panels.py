"""Admin configuration: panels with credentials encrypted at rest and never shown back, the
connection test (recorded, audited), plan mappings inherited by reseller plans, the refund
setting; every bad input refused with a clear message and nothing changed."""

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from ezscale.errors import DomainError, NotFound
from ezscale.models.provisioning import FailureRefund, ProvisioningPanel
from ezscale.services.provisioning import panels, registry
from ezscale.services.provisioning.virtfusion import VirtFusionModule
from ezscale.services.tenancy.tenants import TenantInfo
from tests.actors import admin, audit_trail
from tests.factories import plan, tenant_db
from tests.services.provisioning.support import virtfusion


@pytest.fixture(autouse=True)
def _now(clock):
    clock.set(datetime(2026, 11, 16, tzinfo=UTC))


def test_credentials_are_encrypted_and_never_shown(central):
    row = panels.create_panel(
        central,
        module="virtfusion",
        label="VF 1",
        base_url="https://vf.example.test/",
        credentials={"token": "s3cret-token"},
        actor=admin(),
        ip="203.0.113.9",
    )
    stored = central.execute(sa.text("SELECT credentials FROM provisioning_panels")).scalar_one()
    assert "s3cret-token" not in stored
    assert row.credential_names == ("token",) and row.base_url == "https://vf.example.test"
    assert "s3cret" not in repr(panels.list_panels(central))
    panels.update_panel(central, panel_id=row.id, credentials={"token": ""}, label="VF one", actor=admin())
    assert registry.panel_config(central.get(ProvisioningPanel, row.id)).credentials == {
        "token": "s3cret-token"
    }
    ((_, _action, target, after, ip),) = audit_trail("provisioning.panel_create")
    assert target == f"panel:{row.id}" and ip == "203.0.113.9" and "s3cret" not in str(after)
    assert audit_trail("provisioning.panel_update")[0][3]["label"] == "VF one"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"module": "nope"}, "Choose a provisioning module"),
        ({"label": " "}, "Give the panel a name"),
        ({"base_url": "ftp://x"}, "Enter the panel's URL"),
        ({"base_url": "javascript:alert(1)"}, "Enter the panel's URL"),
        ({"timeout_seconds": 1}, "timeout must be between"),
    ],
)
def test_bad_panel_input_is_refused(central, fields, message):
    values = dict(module="virtfusion", label="VF", base_url="https://vf.example.test", credentials={})
    with pytest.raises(DomainError, match=message):
        panels.create_panel(central, **{**values, **fields}, actor=admin())
    assert panels.list_panels(central) == []


def test_connection_test_is_recorded_and_audited(central):
    with virtfusion(central) as (_sim, panel_id):
        row = panels.test_connection(central, panel_id=panel_id, actor=admin())
        assert row.last_test_ok and "hypervisor group" in row.last_test
        panels.update_panel(central, panel_id=panel_id, credentials={"token": "wrong"}, actor=admin())
        with pytest.raises(DomainError, match=r"Connection failed: .*refused our API token"):
            panels.test_connection(central, panel_id=panel_id, actor=admin())
        assert panels.get_panel(central, panel_id=panel_id).last_test_ok is False
    assert [after["ok"] for *_, after, _ in audit_trail("provisioning.panel_test")] == [True, False]


def test_reseller_plans_inherit_the_house_mapping(central, make_tenant):
    reseller = TenantInfo.of(make_tenant("acme", tier="pro"))
    with virtfusion(central) as (_sim, panel_id):
        with tenant_db(reseller) as db:
            code = plan(db, "vps-2").code
        module, mapping = registry.module_for_plan(central, code)
        assert isinstance(module, VirtFusionModule) and mapping.package == "2"
        assert registry.module_for_plan(central, "web-starter") is None
        assert [m.plan_code for m in panels.list_mappings(central)] == ["vps-1", "vps-2"]
        panels.update_panel(central, panel_id=panel_id, enabled=False, actor=admin())
        with pytest.raises(DomainError, match="temporarily unavailable"):
            registry.module_for_plan(central, code)
        with pytest.raises(DomainError, match="Enter the package"):
            panels.set_mapping(central, plan_code="vps-1", panel_id=panel_id, package=" ", actor=admin())
        with pytest.raises(NotFound):
            panels.set_mapping(central, plan_code="vps-1", panel_id=999, package="1", actor=admin())
        panels.remove_mapping(central, plan_code="vps-2", actor=admin())
        assert registry.mapping_for_plan(central, "vps-2") is None


def test_failure_refund_setting(central):
    assert panels.current_settings(central).failure_refund is FailureRefund.CREDIT
    panels.set_failure_refund(central, mode="card", actor=admin())
    assert panels.current_settings(central).failure_refund is FailureRefund.CARD
    with pytest.raises(DomainError, match="account credit or refund to card"):
        panels.set_failure_refund(central, mode="cash", actor=admin())
    assert audit_trail("provisioning.settings")[0][3] == {"failure_refund": "card"}


def test_modules_not_installed_are_not_offered():
    names = [name for name, _ in registry.available_modules()]
    assert "virtfusion" in names
    with pytest.raises(DomainError, match="Unknown provisioning module"):
        registry.module_class("cpanel")


def test_capacity_view_per_panel(central):
    from ezscale.services.provisioning.stock import capacity_view

    with virtfusion(central) as (_, panel_id):
        rows = capacity_view(central)
        assert [(r.plan_code, r.available) for r in rows] == [("vps-1", "24"), ("vps-2", "16")]
        panels.update_panel(central, panel_id=panel_id, credentials={"token": "wrong"}, actor=admin())
        assert {r.available for r in capacity_view(central)} == {"unknown"}
        assert "refused our API token" in capacity_view(central)[0].detail
