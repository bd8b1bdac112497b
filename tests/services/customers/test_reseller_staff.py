"""Resellers serve their own customers: what each staff role may do, and that nobody reaches
another tenant's customers — through the services or through the reseller pages' handlers, by
guessing ids."""

import pytest
from sqlmodel import select

from ezscale.errors import DomainError, NotFound
from ezscale.models.admin import CustomerNote
from ezscale.models.tenant import CreditEntry, Role, User
from ezscale.services.accounts.passwords import hash_password
from ezscale.services.accounts.sessions import AuthRole, AuthUser, create_user_session
from ezscale.services.core.mail import list_outbox
from ezscale.services.customers import actions
from ezscale.services.customers.view import ProfileView
from ezscale.services.tenancy.tenants import TenantInfo, tenant_session
from ezscale.settings import get_settings
from ezscale.state.reseller_customers import ResellerCustomersState, ResellerCustomerState
from tests.actors import audit_trail, owner
from tests.factories import add_customer
from tests.state_harness import call, page_state


@pytest.fixture
def tenants(make_tenant) -> tuple[TenantInfo, TenantInfo]:
    return TenantInfo.of(make_tenant("acme", name="Acme")), TenantInfo.of(make_tenant("beta", name="Beta"))


def _member(tenant: TenantInfo, role: AuthRole) -> AuthUser:
    return AuthUser(id=9, tenant_id=tenant.id, email=f"{role.value}@{tenant.slug}.test", name="", role=role)


def _customer(tenant: TenantInfo, email: str, **fields) -> int:
    with tenant_session(tenant) as db:
        return add_customer(db, email, **fields).id


def _credits(tenant: TenantInfo, user_id: int) -> int:
    with tenant_session(tenant) as db:
        return len(db.exec(select(CreditEntry).where(CreditEntry.user_id == user_id)).all())


@pytest.mark.parametrize(
    ("role", "money", "note", "account"),
    [
        (AuthRole.RESELLER_OWNER, True, True, True),
        (AuthRole.RESELLER_BILLING, True, True, False),
        (AuthRole.RESELLER_STAFF, False, True, False),
    ],
)
def test_each_role_does_what_the_staff_page_says(tenants, clock, role, money, note, account):
    acme, _ = tenants
    ann = _customer(acme, "ann@example.com")
    actor = _member(acme, role)

    def attempt(fn) -> bool:
        try:
            fn()
            return True
        except DomainError as error:
            assert "staff role does not allow" in str(error)
            return False

    credited = attempt(
        lambda: actions.add_credit(actor=actor, tenant=acme, user_id=ann, amount_minor=500, memo="Goodwill")
    )
    noted = attempt(lambda: actions.add_note(actor=actor, tenant=acme, user_id=ann, body="Called back"))
    impersonated = attempt(lambda: actions.impersonate(actor=actor, tenant=acme, user_id=ann))
    assert (credited, noted, impersonated) == (money, note, account)
    assert _credits(acme, ann) == (1 if money else 0)  # a refusal changes nothing
    assert len(audit_trail("customer.credit")) == (1 if money else 0)


def test_another_resellers_staff_cannot_reach_a_customer_even_by_its_id(tenants, clock):
    acme, beta = tenants
    ann = _customer(acme, "ann@example.com")
    for actor in (owner(beta), _member(beta, AuthRole.RESELLER_BILLING)):
        with pytest.raises(NotFound, match="No such customer"):
            actions.add_credit(actor=actor, tenant=acme, user_id=ann, amount_minor=500, memo="x")
        with pytest.raises(NotFound):
            actions.add_note(actor=actor, tenant=acme, user_id=ann, body="x")
        with pytest.raises(NotFound):
            actions.impersonate(actor=actor, tenant=acme, user_id=ann)
    assert _credits(acme, ann) == 0
    with tenant_session(acme) as db:
        assert db.exec(select(CustomerNote)).all() == []


def test_verification_is_resent_once_for_an_unconfirmed_customer_only(tenants, clock):
    acme, _ = tenants
    pending = _customer(acme, "new@example.com", password_hash=hash_password("chosen at sign-up"))
    confirmed = _customer(acme, "old@example.com", email_verified_at=clock.now())
    actions.resend_verification(actor=owner(acme), tenant=acme, user_id=pending)
    [sent] = list_outbox(tenant=acme, to="new@example.com")
    assert sent.kind == "verify_email" and "/verify-email?token=" in sent.text
    with pytest.raises(DomainError, match="already confirmed"):
        actions.resend_verification(actor=owner(acme), tenant=acme, user_id=confirmed)
    with pytest.raises(DomainError, match="staff role"):
        actions.resend_verification(
            actor=_member(acme, AuthRole.RESELLER_STAFF), tenant=acme, user_id=pending
        )
    assert [r[1] for r in audit_trail("customer.resend_verification")] == ["customer.resend_verification"]


def _session(tenant: TenantInfo, email: str, role: Role, clock) -> str:
    with tenant_session(tenant) as db:
        member = User(
            email=email, password_hash="x", role=role, created_at=clock.now(), email_verified_at=clock.now()
        )
        db.add(member)
        db.commit()
        return create_user_session(db, user=member, method="password")


def test_the_reseller_pages_only_ever_show_the_hosts_own_customers(tenants, clock):
    acme, beta = tenants
    ann = _customer(acme, "ann@acme-customer.test")
    bob = _customer(beta, "bob@beta-customer.test")
    for n in range(3):  # beta has more customers, so its ids exist only there
        _customer(beta, f"extra{n}@beta-customer.test")
    acme_support = _session(acme, "sam@acme.test", Role.RESELLER_STAFF, clock)
    beta_owner = _session(beta, "owner@beta.test", Role.RESELLER_OWNER, clock)
    acme_host = f"acme.{get_settings().platform_domain}:3000"

    listing = page_state(
        ResellerCustomersState, host=acme_host, token=acme_support, path="/reseller/customers"
    )
    call(listing, "load")
    assert [r.email for r in listing.results] == ["ann@acme-customer.test"]

    record = page_state(ResellerCustomerState, host=acme_host, token=acme_support, query=f"user={ann}")
    call(record, "load")
    assert record.profile.email == "ann@acme-customer.test" and record.can == ["note", "view"]
    record.form = {"credit_amount": "5", "credit_memo": "Goodwill"}
    call(record, "add_credit")
    assert "staff role does not allow" in record.error and _credits(acme, ann) == 0

    guessed = page_state(ResellerCustomerState, host=acme_host, token=acme_support, query=f"user={bob + 3}")
    call(guessed, "load")
    assert guessed.error == "No such customer." and guessed.profile == ProfileView()

    # beta's owner on acme's host: the session is not acme's, so nothing loads or changes.
    intruder = page_state(ResellerCustomerState, host=acme_host, token=beta_owner, query=f"user={ann}")
    call(intruder, "load")
    assert intruder.profile == ProfileView()
    intruder._customer_id = ann
    intruder.form = {"credit_amount": "5", "credit_memo": "x", "note": "x"}
    call(intruder, "add_credit")
    call(intruder, "add_note")
    assert _credits(acme, ann) == 0
    with tenant_session(acme) as db:
        assert db.exec(select(CustomerNote)).all() == []
