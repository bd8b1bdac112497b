import json
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlmodel import select

from ezscale import clock as clock_module
from ezscale.db import central_session
from ezscale.errors import DomainError
from ezscale.models.auth import AuditEntry
from ezscale.models.kasm import KasmTemplate, KasmWorkspace, WorkspaceStatus
from ezscale.models.tenant import Plan
from ezscale.services.accounts.sessions import AuthRole, AuthUser
from ezscale.services.kasm import workspaces as kasm
from ezscale.services.kasm.catalogue import image_id_for, seed_catalogue
from ezscale.services.kasm.client import KasmClient
from ezscale.services.kasm.templates import TemplateForm, create_template, list_templates, update_template
from ezscale.services.kasm.view import order_options
from ezscale.services.tenancy.tenants import TenantInfo, tenant_session
from ezscale.simulators.kasm import KasmSimulator, serve
from tests.factories import customer_with_credit

KALI = image_id_for("kasmweb/kali-rolling-desktop:1.16.0")
NEW = {
    "name": "Kali Linux",
    "description": "Security testing desktop",
    "category": "developer",
    "image_id": str(uuid.UUID(KALI)),  # typed with hyphens, stored as 32 hex digits
    "icon": "shield",
    "cores": "4",
    "memory_gb": "8",
    "apps": "Metasploit, Burp Suite",
    "status": "active",
    "persistent": True,
    "sort_order": "",
}


def _seeded(tenant) -> TenantInfo:
    info = TenantInfo.of(tenant)
    with tenant_session(info) as db:
        seed_catalogue(db)
    return info


@pytest.fixture
def house(make_tenant, clock) -> TenantInfo:
    return _seeded(make_tenant("ezscale", is_house=True, primary_domain="localhost"))


@pytest.fixture
def acme(make_tenant, clock) -> TenantInfo:
    return _seeded(make_tenant("acme"))


@pytest.fixture
def admin(house) -> AuthUser:
    return AuthUser(1, house.id, "admin@ezscale.test", "Admin", AuthRole.PLATFORM_ADMIN)


@pytest.fixture
def owner(acme) -> AuthUser:
    return AuthUser(1, acme.id, "owner@acme.test", "Owner", AuthRole.RESELLER_OWNER)


def _rows(tenant: TenantInfo) -> list:
    with tenant_session(tenant) as db:
        return list_templates(db)


def _audits() -> list[AuditEntry]:
    with central_session() as session:
        return list(session.exec(select(AuditEntry).order_by(AuditEntry.id)))


def _id(tenant: TenantInfo, name: str) -> int:
    with tenant_session(tenant) as db:
        return db.exec(select(KasmTemplate.id).where(KasmTemplate.name == name)).one()


def _create(tenant, actor, **fields) -> KasmTemplate:
    with tenant_session(tenant) as db:
        return create_template(db, actor=actor, tenant=tenant, form=TemplateForm(**{**NEW, **fields}))


def _update(tenant, actor, template, /, **fields) -> KasmTemplate:
    template_id = _id(tenant, template)
    with tenant_session(tenant) as db:
        return update_template(
            db, actor=actor, tenant=tenant, template_id=template_id, form=TemplateForm(**fields)
        )


def _offered(tenant: TenantInfo) -> list[str]:
    with tenant_session(tenant) as db:
        return [option.label for option in order_options(db)[1]]


def test_a_new_tenants_editor_starts_from_the_defaults(make_tenant, clock):
    rows = _rows(TenantInfo.of(make_tenant("beta")))
    assert [r.name for r in rows] == [
        "Ubuntu + VS Code",
        "Ubuntu Desktop",
        "Business Desktop",
        "Secure Browser",
    ]
    desktop = rows[1]
    assert (desktop.cores, desktop.memory_gb, desktop.persistent, desktop.status) == (2, "4", True, "active")
    assert desktop.image_id == image_id_for("kasmweb/ubuntu-jammy-desktop:1.16.0")


def test_admin_creates_a_template_last_in_order_and_it_is_audited(house, admin):
    last = max(r.sort_order for r in _rows(house))
    template = _create(house, admin)
    assert (template.image_id, template.cores, template.memory_mb) == (KALI, 4, 8192)
    assert (template.sort_order, template.persistent, template.icon) == (last + 1, True, "shield")
    assert _rows(house)[-1].name == "Kali Linux"
    assert "Kali Linux (Metasploit, Burp Suite)" in _offered(house)
    entry = _audits()[-1]
    assert (entry.action, entry.target, entry.actor_email) == (
        "kasm_template.create",
        f"tenant:ezscale/kasm-template:{template.id}",
        "admin@ezscale.test",
    )
    assert json.loads(entry.after)["image_id"] == KALI


BAD_FORMS = [
    ({"name": "   "}, "needs a name"),
    ({"name": "x" * 121}, "longer than 120"),
    ({"name": "secure browser"}, "“secure browser” already exists"),
    ({"image_id": " "}, "needs the id of its Kasm image"),
    ({"image_id": "kasmweb/kali:latest"}, "image's UUID"),
    ({"category": "gaming"}, "Unknown category “gaming”"),
    ({"icon": "Shield!"}, "Lucide icon name"),
    ({"cores": "0"}, "vCPUs must be a whole number from 1 to 64"),
    ({"cores": "65"}, "vCPUs must be a whole number from 1 to 64"),
    ({"cores": "2.5"}, "vCPUs must be a whole number"),
    ({"memory_gb": "0"}, "memory in GB must be a whole number from 1 to 256"),
    ({"memory_gb": "257"}, "memory in GB must be a whole number"),
    ({"memory_gb": "8192"}, "memory in GB must be a whole number"),
    ({"status": "retired"}, "Unknown status “retired”"),
    ({"sort_order": "-1"}, "sort order must be a whole number"),
    ({"sort_order": "²"}, "sort order must be a whole number"),
    ({"description": "x" * 501}, "description is longer than 500"),
    ({"apps": "x" * 501}, "list of apps is longer than 500"),
]


@pytest.mark.parametrize(("fields", "message"), BAD_FORMS)
def test_a_bad_new_template_changes_nothing(house, admin, fields, message):
    before, audits = _rows(house), len(_audits())
    with pytest.raises(DomainError, match=message):
        _create(house, admin, **fields)
    assert (_rows(house), len(_audits())) == (before, audits)


@pytest.mark.parametrize(("fields", "message"), BAD_FORMS)
def test_a_bad_edit_changes_nothing(house, admin, fields, message):
    before, audits = _rows(house), len(_audits())
    with pytest.raises(DomainError, match=message):
        _update(house, admin, "Ubuntu Desktop", **{**NEW, "name": "Ubuntu Desktop", **fields})
    assert (_rows(house), len(_audits())) == (before, audits)


def test_admin_edits_every_field_and_the_audit_shows_what_changed(house, admin):
    fields = {**NEW, "persistent": False, "sort_order": "9"}
    template = _update(house, admin, "Business Desktop", **fields)
    assert (template.name, template.description, template.category, template.icon) == (
        "Kali Linux",
        "Security testing desktop",
        "developer",
        "shield",
    )
    assert (template.image_id, template.apps, template.cores, template.memory_mb) == (
        KALI,
        "Metasploit, Burp Suite",
        4,
        8192,
    )
    assert (template.sort_order, template.persistent) == (9, False)
    entry = _audits()[-1]
    assert entry.action == "kasm_template.update"
    before, after = json.loads(entry.before), json.loads(entry.after)
    assert (before["category"], after["category"]) == ("business", "developer")
    assert (before["persistent"], after["persistent"]) == (True, False)
    assert "status" not in after  # unchanged

    audits = len(_audits())
    _update(house, admin, "Kali Linux", **fields)
    assert len(_audits()) == audits  # no change, no entry


def test_only_a_house_admin_or_the_resellers_owner_edits_templates(house, acme, admin, owner, make_tenant):
    beta = _seeded(make_tenant("beta"))
    staff = AuthUser(2, acme.id, "staff@acme.test", "Staff", AuthRole.RESELLER_STAFF)
    customer = AuthUser(3, house.id, "c@ezscale.test", "C", AuthRole.CUSTOMER)
    for tenant, actor in ((beta, owner), (acme, staff), (house, customer), (house, owner), (acme, admin)):
        with pytest.raises(DomainError, match="Only a platform admin or the reseller's owner"):
            _update(tenant, actor, "Ubuntu Desktop", name="Taken over")
        with pytest.raises(DomainError, match="Only a platform admin or the reseller's owner"):
            _create(tenant, actor)
    for tenant in (house, acme, beta):
        assert [r.name for r in _rows(tenant)][1] == "Ubuntu Desktop"
        assert "Kali Linux" not in [r.name for r in _rows(tenant)]


def test_an_edit_of_one_tenants_templates_leaves_the_others_alone(house, acme, admin, owner):
    house_before = _rows(house)
    _update(acme, owner, "Secure Browser", status="deprecated", apps="Chrome, Firefox")
    _create(acme, owner)
    assert _rows(house) == house_before
    assert "Secure Browser (Chrome)" in _offered(house)
    assert "Secure Browser (Chrome, Firefox)" not in _offered(acme)

    acme_before = _rows(acme)
    _update(house, admin, "Ubuntu Desktop", memory_gb="16")
    assert _rows(acme) == acme_before
    assert _audits()[-1].target.startswith("tenant:ezscale/")


@pytest.fixture
def customer(house, clock) -> int:
    """A customer of the house tenant with enough credit to order a workspace."""
    with tenant_session(house) as db:
        return customer_with_credit(db, "casey@example.test", 2000, name="Casey").id


@pytest.fixture
def kasm_client(clock) -> Iterator[KasmClient]:
    sim = KasmSimulator(provision_seconds=4, clock=clock_module.now)
    server = serve(sim)
    client = KasmClient(
        base_url=server.url, api_key=sim.api_key, api_secret=sim.api_secret, retries=1, backoff=0
    )
    yield client
    client.close()
    server.stop()


def _converge(house: TenantInfo, client: KasmClient, workspace_id: int, clock) -> WorkspaceStatus:
    """Drive the worker's loop until the workspace settles (the clock moves, no sleeping)."""
    with tenant_session(house) as db:
        step = kasm.converge_step(db, tenant=house, workspace_id=workspace_id, client=client)
        while step.next is not kasm.Next.DONE:
            clock.advance(timedelta(seconds=step.delay))
            step = kasm.converge_step(db, tenant=house, workspace_id=workspace_id, client=client)
        return db.get(KasmWorkspace, workspace_id).status


def _order(house: TenantInfo, user_id: int, template: str) -> int:
    with tenant_session(house) as db:
        plan_id = db.exec(select(Plan.id).where(Plan.code == "kasm-dev-basic")).one()
        return kasm.order_workspace(db, user_id=user_id, plan_id=plan_id, template_id=_id(house, template)).id


def test_a_deprecated_template_leaves_the_order_form_but_its_workspaces_keep_working(
    house, admin, customer, kasm_client, clock
):
    client, user_id = kasm_client, customer
    workspace_id = _order(house, user_id, "Ubuntu Desktop")
    assert _converge(house, client, workspace_id, clock) is WorkspaceStatus.RUNNING

    _update(house, admin, "Ubuntu Desktop", status="deprecated")
    assert "Ubuntu Desktop (Terminal, Firefox)" not in _offered(house)
    assert [r.status for r in _rows(house) if r.name == "Ubuntu Desktop"] == ["deprecated"]
    with pytest.raises(DomainError, match="pick a workspace template"):
        _order(house, user_id, "Ubuntu Desktop")

    # Persistent as before: stopped (kept in Kasm) and resumed.
    with tenant_session(house) as db:
        kasm.stop_workspace(db, user_id=user_id, workspace_id=workspace_id)
    assert _converge(house, client, workspace_id, clock) is WorkspaceStatus.STOPPED
    with tenant_session(house) as db:
        assert db.get(KasmWorkspace, workspace_id).kasm_id is not None
        kasm.start_workspace(db, user_id=user_id, workspace_id=workspace_id)
    assert _converge(house, client, workspace_id, clock) is WorkspaceStatus.RUNNING

    _update(house, admin, "Ubuntu Desktop", status="active")
    assert "Ubuntu Desktop (Terminal, Firefox)" in _offered(house)


def test_persistence_is_fixed_while_workspaces_use_the_template(house, admin, customer):
    user_id = customer
    workspace_id = _order(house, user_id, "Ubuntu Desktop")
    before, audits = _rows(house), len(_audits())
    with pytest.raises(DomainError, match="cannot switch between persistent and ephemeral"):
        _update(house, admin, "Ubuntu Desktop", persistent=False, apps="Terminal")
    assert (_rows(house), len(_audits())) == (before, audits)

    assert _update(house, admin, "Secure Browser", persistent=True).persistent  # no workspaces on it
    with tenant_session(house) as db:
        kasm.terminate_workspace(db, user_id=user_id, workspace_id=workspace_id)
    assert not _update(house, admin, "Ubuntu Desktop", persistent=False).persistent
