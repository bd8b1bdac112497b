"""TOTP with an injected clock (replay refused), recovery codes, admin sign-in, audit trail."""

from datetime import timedelta

import pytest
from sqlmodel import select

from ezscale.errors import DomainError
from ezscale.models.auth import AdminLoginEvent, LoginEvent, RecoveryCode
from ezscale.models.central import PlatformAdmin
from ezscale.models.tenant import User
from ezscale.services.accounts import admins, auth, totp, two_factor
from ezscale.services.accounts.auth import Client
from ezscale.services.accounts.passwords import hash_password
from ezscale.services.accounts.sessions import AuthUser
from ezscale.services.core.audit import AuditFilter, list_audit, record_audit
from ezscale.services.tenancy.tenants import TenantInfo, tenant_session

CLIENT = Client(ip="203.0.113.7", user_agent="pytest")


def test_codes_follow_the_injected_clock_and_are_accepted_once(clock):
    secret = totp.new_secret()
    now = clock.now()
    code = totp.code_at(secret, now)
    step = totp.accepted_step(secret, code, at=now, last_step=None)
    assert step == totp.time_step(now)
    assert totp.accepted_step(secret, code, at=now, last_step=step) is None  # replay
    later = now + timedelta(seconds=30)
    assert totp.accepted_step(secret, code, at=later, last_step=None) == step  # one step of drift
    assert totp.accepted_step(secret, code, at=now + timedelta(minutes=2), last_step=None) is None
    assert totp.accepted_step(secret, "12345", at=now, last_step=None) is None


def test_recovery_codes_are_ten_distinct_and_hash_normalised():
    codes = totp.new_recovery_codes()
    assert len(codes) == len(set(codes)) == 10
    assert totp.hash_recovery_code(codes[0].upper().replace("-", " ")) == totp.hash_recovery_code(codes[0])


@pytest.fixture
def user(make_tenant, clock):
    tenant = TenantInfo.of(make_tenant("acme"))
    with tenant_session(tenant) as db:
        row = User(
            email="ann@example.com",
            password_hash=hash_password("correct horse battery"),
            email_verified_at=clock.now(),
            created_at=clock.now(),
        )
        db.add(row)
        db.commit()
    return tenant, row.id


def test_enrol_sign_in_with_totp_then_recovery_code(user, clock):
    tenant, user_id = user
    with tenant_session(tenant) as db:
        account = db.get(User, user_id)
        enrolment = two_factor.begin(db, account=account, issuer="Acme")
        assert enrolment.uri.startswith("otpauth://totp/Acme:ann%40example.com?secret=")
        assert enrolment.qr.startswith("data:image/svg+xml")
        with pytest.raises(DomainError, match="not valid"):
            two_factor.confirm(db, account=account, code="000000")
        codes = two_factor.confirm(db, account=account, code=totp.code_at(enrolment.secret, clock.now()))
        assert len(codes) == 10
        stored = db.exec(select(RecoveryCode.code_hash)).all()
        assert set(stored) == {totp.hash_recovery_code(c) for c in codes}  # only hashes

        # The code used to confirm cannot be replayed to sign in; the next step's code works once.
        same = totp.code_at(enrolment.secret, clock.now())
        with pytest.raises(DomainError, match="not valid"):
            auth.verify_second_factor(db, user_id=user_id, code=same, client=CLIENT)
        clock.advance(timedelta(seconds=30))
        code = totp.code_at(enrolment.secret, clock.now())
        assert auth.verify_second_factor(db, user_id=user_id, code=code, client=CLIENT) == "totp"
        with pytest.raises(DomainError):
            auth.verify_second_factor(db, user_id=user_id, code=code, client=CLIENT)

        assert auth.verify_second_factor(db, user_id=user_id, code=codes[3], client=CLIENT) == "recovery_code"
        with pytest.raises(DomainError):
            auth.verify_second_factor(db, user_id=user_id, code=codes[3], client=CLIENT)
        assert two_factor.remaining_recovery_codes(db, user_id=user_id) == 9
        failures = db.exec(select(LoginEvent).where(LoginEvent.success == False)).all()  # noqa: E712
        assert {f.method for f in failures} == {"totp"}

        two_factor.disable(db, account=db.get(User, user_id), password="correct horse battery")
        assert db.get(User, user_id).totp_enabled_at is None


def test_admin_needs_password_then_totp(central, clock):
    admin = PlatformAdmin(
        email="admin@ezscale.test", password_hash=hash_password("admin password 1"), created_at=clock.now()
    )
    central.add(admin)
    central.commit()
    with pytest.raises(DomainError, match="Invalid email or password"):
        admins.authenticate_admin(
            central, email="admin@ezscale.test", password="nope nope nope", client=CLIENT
        )
    found = admins.authenticate_admin(
        central, email="Admin@ezscale.test", password="admin password 1", client=CLIENT
    )
    with pytest.raises(DomainError, match="Set up your authenticator"):
        admins.verify_admin_code(central, admin_id=found.id, code="123456", client=CLIENT)
    secret = totp.new_secret()
    two_factor.enrol_with_secret(central, account=found, secret=secret)
    with pytest.raises(DomainError, match="must keep a second factor"):
        two_factor.disable(central, account=found, password="admin password 1")
    admins.verify_admin_code(
        central, admin_id=found.id, code=totp.code_at(secret, clock.now()), client=CLIENT
    )
    events = central.exec(select(AdminLoginEvent).order_by(AdminLoginEvent.id)).all()
    assert [(e.success, e.method) for e in events] == [(False, "password"), (True, "password+totp")]


def test_audit_rows_are_filterable(platform, clock):
    admin = AuthUser(1, 1, "admin@ezscale.test", "Admin", "platform_admin")
    owner = AuthUser(4, 2, "owner@acme.test", "Owner", "reseller_owner")
    record_audit(
        actor=admin,
        action="tenant.suspend",
        target="tenant:acme",
        before={"status": "active"},
        after={"status": "suspended"},
        ip="10.0.0.1",
    )
    clock.advance(timedelta(hours=1))
    record_audit(
        actor=owner, action="user.disable", target="user:7", before={"active": True}, after={"active": False}
    )
    assert [e.action for e in list_audit()] == ["user.disable", "tenant.suspend"]
    [only] = list_audit(AuditFilter(tenant_id=2))
    assert only.actor_email == "owner@acme.test" and only.after == '{"active": false}'
    assert [e.action for e in list_audit(AuditFilter(actor="ADMIN@"))] == ["tenant.suspend"]
    assert [e.action for e in list_audit(AuditFilter(action="suspend"))] == ["tenant.suspend"]
    assert [e.action for e in list_audit(AuditFilter(since=clock.now()))] == ["user.disable"]
