"""Helpers shared by the billing tests: a tenant database with customers and plans."""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlmodel import Session, select

from ezscale import clock
from ezscale.models.tenant import Plan, User
from ezscale.services.tenancy import TenantInfo, tenant_session


def add_customer(session: Session, email: str = "customer@example.test", **fields) -> User:
    user = User(
        email=email, password_hash="-", name=fields.pop("name", "Pat Customer"), created_at=clock.now()
    )
    for key, value in fields.items():
        setattr(user, key, value)
    session.add(user)
    session.commit()
    return user


def plan(session: Session, code: str) -> Plan:
    return session.exec(select(Plan).where(Plan.code == code)).one()


@contextmanager
def tenant_db(tenant) -> Iterator[Session]:
    with tenant_session(TenantInfo.of(tenant)) as session:
        yield session
