"""Accounts: hashing, sign-up and verification, sign-in with lockout, reset links, changes, sessions."""

import re
from datetime import timedelta

import bcrypt
import pytest
from sqlmodel import select

from ezscale.errors import DomainError
from ezscale.models.auth import LoginEvent
from ezscale.models.tenant import Role, User
from ezscale.services.accounts import auth, login_guard, sessions
from ezscale.services.accounts.auth import Client
from ezscale.services.accounts.login_guard import LockedOut
from ezscale.services.accounts.passwords import hash_password, verify_password
from ezscale.services.accounts.view import AccountProfile, account_profile
from ezscale.services.core.mail import list_outbox
from ezscale.services.tenancy.tenants import TenantInfo, tenant_session

PASSWORD = "correct horse battery"
BASE = "http://acme.localhost:3000"
CLIENT = Client(ip="203.0.113.7", user_agent="pytest")


@pytest.fixture
def acme(make_tenant, clock) -> TenantInfo:
    return TenantInfo.of(make_tenant("acme", name="Acme Hosting"))


def _link(tenant, to: str) -> str:
    return list_outbox(tenant=tenant, to=to)[0].links[0]


def _token(link: str) -> str:
    return link.split("token=", 1)[1]


def _verified_user(tenant, email="ann@example.com") -> User:
    with tenant_session(tenant) as db:
        auth.sign_up(db, tenant=tenant, email=email, password=PASSWORD, name="Ann", client=CLIENT)
        auth.verify_email(db, token=_token(_link(tenant, email)))
        return db.exec(select(User).where(User.email == email)).one()


def test_argon2_for_new_hashes_and_bcrypt_hashes_verify_and_upgrade():
    assert hash_password(PASSWORD).startswith("$argon2id$")
    legacy = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    ok, upgraded = verify_password(PASSWORD, legacy)
    assert ok and upgraded.startswith("$argon2id$")
    assert verify_password("wrong password!!", legacy) == (False, None)
    assert verify_password(PASSWORD, upgraded) == (True, None)


def test_a_bcrypt_user_signs_in_and_is_rehashed(acme, clock):
    legacy = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    with tenant_session(acme) as db:
        db.add(
            User(
                email="old@whmcs.test",
                password_hash=legacy,
                email_verified_at=clock.now(),
                created_at=clock.now(),
            )
        )
        db.commit()
        signed_in = auth.authenticate(db, email="OLD@whmcs.test", password=PASSWORD, client=CLIENT)
        assert signed_in.password_hash.startswith("$argon2id$")


def test_sign_up_verify_and_sign_in(acme, clock):
    with tenant_session(acme) as db:
        auth.sign_up(db, tenant=acme, email="Ann@Example.com", password=PASSWORD, name="Ann", client=CLIENT)
        with pytest.raises(DomainError, match="confirm your email"):
            auth.authenticate(db, email="ann@example.com", password=PASSWORD, client=CLIENT)
        [mail] = list_outbox(tenant=acme, to="ann@example.com")
        assert mail.subject == "Confirm your email for Acme Hosting"
        assert mail.links[0].startswith(f"{BASE}/verify-email?token=")
        user, message = auth.follow_link(db, token=_token(mail.links[0]))
        assert user.email_verified_at == clock.now() and "confirmed" in message
        with pytest.raises(DomainError, match="invalid or has expired"):
            auth.verify_email(db, token=_token(mail.links[0]))  # single use
        assert auth.authenticate(db, email="ann@example.com", password=PASSWORD, client=CLIENT).id == user.id
        assert user.role is Role.CUSTOMER


def test_short_passwords_and_duplicate_sign_ups(acme):
    _verified_user(acme)
    with tenant_session(acme) as db:
        with pytest.raises(DomainError, match="at least 12 characters"):
            auth.sign_up(
                db, tenant=acme, email="bob@example.com", password="short pass", name="Bob", client=CLIENT
            )
        # Same answer for an existing address (no enumeration); its owner gets a notice instead.
        auth.sign_up(db, tenant=acme, email="ann@example.com", password=PASSWORD, name="x", client=CLIENT)
        assert list_outbox(tenant=acme, to="ann@example.com")[0].kind == "signup_existing"
        assert len(db.exec(select(User)).all()) == 1


@pytest.mark.parametrize(
    ("form", "message"),
    [
        (
            {"name": "", "email": "", "password": "", "confirm": ""},
            "Please enter your name, your email, a password and the password again.",
        ),
        ({"name": "   ", "email": "a@example.com", "password": PASSWORD, "confirm": PASSWORD}, "only spaces"),
        (
            {"name": "N" * 121, "email": "a@example.com", "password": PASSWORD, "confirm": PASSWORD},
            "Your name is too long: at most 120 characters.",
        ),
        (
            {"name": "Al", "email": "a" * 250 + "@example.com", "password": PASSWORD, "confirm": PASSWORD},
            "That email address is too long: at most 254 characters.",
        ),
        (
            {"name": "Al", "email": "a@example.com", "password": "p" * 1025, "confirm": "p" * 1025},
            "That password is too long: at most 1024 characters.",
        ),
        (
            {"name": "", "email": "not-an-address", "password": PASSWORD, "confirm": PASSWORD + "x"},
            "Please enter your name. Please enter a valid email address. The two passwords do not match.",
        ),
    ],
)
def test_sign_up_names_every_problem_and_cuts_nothing(acme, form, message):
    with tenant_session(acme) as db:
        with pytest.raises(DomainError, match=re.escape(message)):
            auth.sign_up(db, tenant=acme, client=CLIENT, **form)
        assert db.exec(select(User)).all() == []
    assert list_outbox(tenant=acme) == []


def test_a_name_of_the_longest_length_is_kept_whole(acme):
    with tenant_session(acme) as db:
        auth.sign_up(
            db, tenant=acme, email="al@example.com", password=PASSWORD, name=" " + "N" * 120, client=CLIENT
        )
        assert db.exec(select(User.name)).one() == "N" * 120


def test_wrong_password_and_unknown_account_give_the_same_error(acme):
    _verified_user(acme)
    with tenant_session(acme) as db:
        for email in ("ann@example.com", "nobody@example.com"):
            with pytest.raises(DomainError) as error:
                auth.authenticate(db, email=email, password="not the password", client=CLIENT)
            assert str(error.value) == "Invalid email or password."
        events = db.exec(select(LoginEvent).order_by(LoginEvent.id)).all()
        assert [(e.email, e.success, e.ip) for e in events] == [
            ("ann@example.com", False, CLIENT.ip),
            ("nobody@example.com", False, CLIENT.ip),
        ]


def test_after_five_failures_each_attempt_waits_twice_as_long(acme, clock):
    _verified_user(acme)
    with tenant_session(acme) as db:
        for _ in range(5):
            with pytest.raises(DomainError, match="Invalid email"):
                auth.authenticate(db, email="ann@example.com", password="wrong password!", client=CLIENT)
            clock.advance(timedelta(seconds=10))
        # 30 s after the fifth failure, of which 10 have passed; the right password waits too.
        with pytest.raises(LockedOut, match="wait 20 seconds"):
            auth.authenticate(db, email="ann@example.com", password=PASSWORD, client=CLIENT)
        # Another IP waits as well: the delay is on the account.
        with pytest.raises(LockedOut):
            auth.authenticate(
                db, email="ann@example.com", password=PASSWORD, client=Client(ip="198.51.100.1")
            )
        clock.advance(timedelta(seconds=20))
        with pytest.raises(DomainError, match="Invalid email"):  # one more guess, then twice as long
            auth.authenticate(db, email="ann@example.com", password="wrong password!", client=CLIENT)
        with pytest.raises(LockedOut, match="wait 60 seconds"):
            auth.authenticate(db, email="ann@example.com", password=PASSWORD, client=CLIENT)
        clock.advance(timedelta(seconds=60))
        assert auth.authenticate(db, email="ann@example.com", password=PASSWORD, client=CLIENT)


def test_ip_lockout_across_accounts(acme, clock):
    with tenant_session(acme) as db:
        for n in range(20):
            with pytest.raises(DomainError, match="Invalid email"):
                auth.authenticate(db, email=f"u{n}@example.com", password="whatever12345", client=CLIENT)
        with pytest.raises(LockedOut, match="Too many failed sign-in attempts"):
            auth.authenticate(db, email="fresh@example.com", password="whatever12345", client=CLIENT)
        with pytest.raises(DomainError, match="Invalid email"):
            auth.authenticate(db, email="fresh@example.com", password="x" * 12, client=Client(ip="10.0.0.9"))


def test_password_reset_link_is_single_use_expires_and_ends_sessions(acme, clock):
    user = _verified_user(acme)
    with tenant_session(acme) as db:
        token = sessions.create_user_session(db, user=user, method="password")
        auth.request_password_reset(db, tenant=acme, email="nobody@example.com", client=CLIENT)  # silent
        auth.request_password_reset(db, tenant=acme, email="ann@example.com", client=CLIENT)
        link = _link(acme, "ann@example.com")
        assert "/reset-password?token=" in link
        auth.reset_password(db, token=_token(link), new_password="a brand new password")
        assert sessions.user_for_token(db, tenant=acme, token=token) is None
        with pytest.raises(DomainError, match="invalid or has expired"):
            auth.reset_password(db, token=_token(link), new_password="another new password")
        auth.request_password_reset(db, tenant=acme, email="ann@example.com", client=CLIENT)
        clock.advance(timedelta(hours=1, seconds=1))
        with pytest.raises(DomainError, match="invalid or has expired"):
            auth.reset_password(db, token=_token(_link(acme, "ann@example.com")), new_password="x" * 14)
        assert auth.authenticate(db, email="ann@example.com", password="a brand new password", client=CLIENT)


def test_change_password_keeps_this_session_and_ends_the_others(acme):
    user = _verified_user(acme)
    with tenant_session(acme) as db:
        mine = sessions.create_user_session(db, user=user, method="password")
        other = sessions.create_user_session(db, user=user, method="password")
        with pytest.raises(DomainError, match="current password"):
            auth.change_password(
                db, user_id=user.id, current="wrong password!", new="x" * 12, keep_token=mine
            )
        assert auth.change_password(db, user_id=user.id, current=PASSWORD, new="y" * 12, keep_token=mine) == 1
        assert sessions.user_for_token(db, tenant=acme, token=mine).id == user.id
        assert sessions.user_for_token(db, tenant=acme, token=other) is None


def test_change_email_needs_the_link_sent_to_the_new_address(acme):
    user = _verified_user(acme)
    _verified_user(acme, "taken@example.com")
    with tenant_session(acme) as db:
        with pytest.raises(DomainError, match="cannot be used"):
            auth.request_email_change(
                db,
                tenant=acme,
                user_id=user.id,
                new_email="taken@example.com",
                password=PASSWORD,
            )
        auth.request_email_change(
            db, tenant=acme, user_id=user.id, new_email="ann@new.example", password=PASSWORD
        )
        assert db.get(User, user.id).email == "ann@example.com"
        changed, _ = auth.follow_link(db, token=_token(_link(acme, "ann@new.example")))
        assert changed.email == "ann@new.example"


def test_profile_update_validates(acme):
    user = _verified_user(acme)
    with tenant_session(acme) as db:
        auth.update_profile(db, user_id=user.id, name="Ann A", company="Ann Co", country="de", tax_id="DE123")
        assert (db.get(User, user.id).country, db.get(User, user.id).company) == ("DE", "Ann Co")
        with pytest.raises(DomainError, match="two-letter"):
            auth.update_profile(db, user_id=user.id, country="D1")
        shown = account_profile(db, user_id=user.id)  # what the account page prefills
    assert shown == AccountProfile("ann@example.com", "Ann A", "Ann Co", "", "DE", "DE123")


def test_sessions_expire_and_log_out_everywhere(acme, clock):
    user = _verified_user(acme)
    with tenant_session(acme) as db:
        first = sessions.create_user_session(db, user=user, method="password")
        second = sessions.create_user_session(db, user=user, method="password")
        assert sessions.user_for_token(db, tenant=acme, token=first).email == "ann@example.com"
        clock.advance(timedelta(hours=24 * 14 + 1))
        assert sessions.user_for_token(db, tenant=acme, token=first) is None
        third = sessions.create_user_session(db, user=user, method="password")
        assert sessions.revoke_user_sessions(db, user_id=user.id) == 3
        assert sessions.user_for_token(db, tenant=acme, token=third) is None
        assert sessions.user_for_token(db, tenant=acme, token=second) is None
        # Only the hash is stored.
        from ezscale.models.auth import UserSession

        assert all(s.token_hash != third for s in db.exec(select(UserSession)))


def test_a_session_of_tenant_a_is_unknown_on_tenant_b(acme, make_tenant):
    beta = TenantInfo.of(make_tenant("beta"))
    user = _verified_user(acme)
    with tenant_session(acme) as db:
        token = sessions.create_user_session(db, user=user, method="password")
    assert sessions.current_user(tenant=acme, token=token).id == user.id
    assert sessions.current_user(tenant=beta, token=token) is None
    with tenant_session(beta) as db, pytest.raises(DomainError, match="Invalid email or password"):
        auth.authenticate(db, email="ann@example.com", password=PASSWORD, client=CLIENT)


def test_signing_up_again_before_confirming_sends_a_fresh_link(acme):
    with tenant_session(acme) as db:
        auth.sign_up(db, tenant=acme, email="cat@example.com", password=PASSWORD, name="Cat", client=CLIENT)
        auth.sign_up(db, tenant=acme, email="cat@example.com", password=PASSWORD, name="Cat", client=CLIENT)
        mails = list_outbox(tenant=acme, to="cat@example.com")
        assert [m.kind for m in mails] == ["verify_email", "verify_email"]
        auth.verify_email(db, token=_token(mails[0].links[0]))


def test_failed_passkey_sign_ins_are_recorded_and_count_towards_the_ip_limit(acme):
    with tenant_session(acme) as db:
        for _ in range(20):
            with pytest.raises(DomainError, match="not registered here"):
                auth.passkey_sign_in(
                    db,
                    rp_id="acme.localhost",
                    origin="http://acme.localhost:3000",
                    credential_json='{"id": "unknown"}',
                    challenge="abc",
                    client=CLIENT,
                )
        with pytest.raises(LockedOut):
            auth.passkey_sign_in(
                db,
                rp_id="acme.localhost",
                origin="http://acme.localhost:3000",
                credential_json='{"id": "unknown"}',
                challenge="abc",
                client=CLIENT,
            )
        failures = db.exec(select(LoginEvent).where(LoginEvent.method == "passkey")).all()
        assert len(failures) == 20 and {f.reason for f in failures} == {"bad_passkey"}


def test_own_sign_in_history_is_the_customers_own_newest_first(acme, clock):
    with tenant_session(acme) as db:
        ann, bob = (User(email=e, password_hash="x", created_at=clock.now()) for e in ("ann@x", "bob@x"))
        db.add_all([ann, bob])
        db.commit()
        for user, ip, ok in ((ann, "10.0.0.1", True), (bob, "10.0.0.2", True), (ann, "10.0.0.3", False)):
            login_guard.record_login(
                db,
                LoginEvent,
                email=user.email,
                success=ok,
                method="password",
                account_id=user.id,
                ip=ip,
                user_agent="A" * 80,
            )
            clock.advance(timedelta(minutes=1))
        rows = login_guard.own_history(db, user_id=ann.id)
    assert [(r.ip, r.result, len(r.agent)) for r in rows] == [
        ("10.0.0.3", "failed", 60),
        ("10.0.0.1", "success", 60),
    ]
