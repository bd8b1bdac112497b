import pytest
from sqlmodel import select

from ezscale.errors import DomainError, NotFound
from ezscale.models.tenant import Role, User
from ezscale.services.accounts.invitations import (
    StaffRow,
    invite_account,
    invite_staff,
    list_staff,
    set_staff_active,
    staff_rows,
)
from ezscale.services.core.mail import list_outbox
from ezscale.services.tenancy.tenants import TenantInfo, tenant_session
from tests import actors
from tests.actors import audit_trail


def _invite(db, tenant, email="Staff@Acme.test", role=Role.RESELLER_STAFF):
    return invite_account(
        db,
        email=email,
        name="Sam",
        role=role,
        tenant=tenant,
        subject="Join Acme",
        intro="Welcome.",
        sender=tenant,
    )


def test_staff_invitation_mail_and_management(make_tenant):
    tenant = TenantInfo.of(make_tenant("acme"))
    with tenant_session(tenant) as db:
        owner = _invite(db, tenant, "owner@acme.test", Role.RESELLER_OWNER)
        staff = _invite(db, tenant)
        assert staff.email == "staff@acme.test"
        with pytest.raises(DomainError, match="already has an account"):
            _invite(db, tenant)
        [mail] = list_outbox(tenant=tenant, to="staff@acme.test")
        assert mail.subject == "Join Acme"
        assert any("/reset-password?token=" in link for link in mail.links)

        assert [u.email for u in list_staff(db)] == ["owner@acme.test", "staff@acme.test"]
        assert (
            set_staff_active(
                db, actor=actors.owner(tenant), tenant=tenant, user_id=staff.id, active=False
            ).is_active
            is False
        )
        with pytest.raises(DomainError, match="owner's account"):
            set_staff_active(db, actor=actors.owner(tenant), tenant=tenant, user_id=owner.id, active=False)
        assert staff_rows(db) == [
            StaffRow(owner.id, "owner@acme.test", owner.name, "reseller_owner", "owner", True),
            StaffRow(staff.id, "staff@acme.test", staff.name, "reseller_staff", "support", False),
        ]
        customer = User(
            email="c@acme.test", password_hash="x", role=Role.CUSTOMER, created_at=staff.created_at
        )
        db.add(customer)
        db.commit()
        with pytest.raises(NotFound):
            set_staff_active(db, actor=actors.owner(tenant), tenant=tenant, user_id=customer.id, active=False)
        assert db.exec(select(User.role).where(User.email == "staff@acme.test")).one() is Role.RESELLER_STAFF


def test_staff_changes_are_audited_by_the_services(make_tenant):
    tenant = TenantInfo.of(make_tenant("acme"))
    with tenant_session(tenant) as db:
        with pytest.raises(DomainError):
            invite_staff(db, actor=actors.staff(tenant), tenant=tenant, email="sam@acme.test", name="Sam")
        assert audit_trail("staff.") == []
        sam = invite_staff(
            db, actor=actors.owner(tenant), tenant=tenant, email="sam@acme.test", name="Sam", ip="192.0.2.10"
        )
        set_staff_active(db, actor=actors.owner(tenant), tenant=tenant, user_id=sam.id, active=False)
        set_staff_active(db, actor=actors.owner(tenant), tenant=tenant, user_id=sam.id, active=True)
    assert audit_trail("staff.") == [
        (
            "owner@reseller.test",
            "staff.invite",
            "user:sam@acme.test",
            {"role": "reseller_staff"},
            "192.0.2.10",
        ),
        ("owner@reseller.test", "staff.disable", "user:sam@acme.test", {}, ""),
        ("owner@reseller.test", "staff.enable", "user:sam@acme.test", {}, ""),
    ]
