"""Every event handler of every admin and reseller state, and every admin and reseller page's
on_load, refuses a customer's session: no data in the state, no change in the databases."""

import inspect

import pytest
from sqlmodel import func, select

import ezscale.app
from ezscale.db import central_session
from ezscale.models.auth import AuditEntry
from ezscale.models.tenant import User
from ezscale.services.accounts.passwords import hash_password
from ezscale.services.accounts.sessions import create_user_session
from ezscale.services.tenancy.tenants import TenantInfo, tenant_session
from ezscale.state.admin import AdminState
from ezscale.state.auth import AuthState
from ezscale.state.reseller import ResellerState
from tests.loops import run_on_own_loop
from tests.state_harness import page_state

ALLOWED_CHANGES = ("denied", "error", "message", "notice", "status")
# Pages of these areas that must work without a session.
PUBLIC = {"admin/login"}


def _area_routes():
    for route, page in ezscale.app.app._unevaluated_pages.items():
        if route.startswith(("admin", "reseller")) and route not in PUBLIC:
            yield route, page


def _area_state_classes() -> list[type[AuthState]]:
    """Every state of the admin and reseller areas: the subclasses of their guard bases."""
    classes, pending = [], list(AuthState.get_substates())
    while pending:
        cls = pending.pop()
        pending.extend(cls.get_substates())
        if issubclass(cls, (AdminState, ResellerState)):
            classes.append(cls)
    return sorted(set(classes), key=lambda c: c.__name__)


def _dummy(parameter: inspect.Parameter):
    annotation = parameter.annotation
    if annotation is int:
        return 1
    if annotation in (dict, "dict") or getattr(annotation, "__origin__", None) is dict:
        return {"id": "1", "email": "x@example.com", "amount": "10", "reason": "x", "name": "x"}
    if annotation is list or getattr(annotation, "__origin__", None) is list:
        return []
    if annotation is bool:
        return True
    return "1"


def _call(state, handler) -> object:
    fn = handler.fn
    params = list(inspect.signature(fn).parameters.values())[1:]
    result = fn(state, *[_dummy(p) for p in params if p.default is inspect.Parameter.empty])
    if inspect.isawaitable(result):
        return run_on_own_loop(result)
    if inspect.isgenerator(result):
        return list(result)
    if inspect.isasyncgen(result):

        async def drain():
            return [item async for item in result]

        return run_on_own_loop(drain())
    return result


def _public_data(state) -> dict:
    own = set(type(state).base_vars) - set(AuthState.base_vars)
    return {k: getattr(state, k) for k in own if not k.startswith("_") and not k.endswith(ALLOWED_CHANGES)}


def _customer_token(tenant: TenantInfo) -> str:
    with tenant_session(tenant) as db:
        user = User(
            email="casey@example.com",
            password_hash=hash_password("customer password"),
            email_verified_at=ezscale.clock.now(),
            created_at=ezscale.clock.now(),
        )
        db.add(user)
        db.commit()
        return create_user_session(db, user=user, method="password")


def _audit_rows() -> int:
    with central_session() as session:
        return session.exec(select(func.count()).select_from(AuditEntry)).one()


@pytest.mark.parametrize("host", ["localhost", "acme.localhost"])
def test_every_admin_and_reseller_handler_refuses_a_customer(make_tenant, clock, host):
    house = TenantInfo.of(make_tenant("ezscale", is_house=True, primary_domain="localhost"))
    acme = TenantInfo.of(make_tenant("acme"))
    token = _customer_token(house if host == "localhost" else acme)
    classes = _area_state_classes()
    assert {c.__name__ for c in classes} >= {"AuditState", "AdminResellersState", "ResellerOverviewState"}
    assert any(r.startswith("admin") for r, _ in _area_routes())
    assert any(r.startswith("reseller") for r, _ in _area_routes())
    audit_before = _audit_rows()
    checked = []
    for cls in classes:
        state = page_state(cls, host=f"{host}:3000", token=token, path="/admin")
        own_handlers = {n: h for n, h in cls.event_handlers.items() if n not in AuthState.event_handlers}
        for name, handler in own_handlers.items():
            if name.startswith("set_") and name not in ("set_status",):
                continue  # plain setters of form fields (no data, no side effects)
            before = _public_data(state)
            _call(state, handler)
            assert state.signed_in and state.role == "customer", f"{cls.__name__}.{name}"
            assert _public_data(state) == before, f"{cls.__name__}.{name} changed data for a customer"
            checked.append(f"{cls.__name__}.{name}")
    assert _audit_rows() == audit_before
    assert len(checked) >= 60, checked  # 60 handlers of 17 states when this test found them by module


def test_every_admin_and_reseller_page_guards_its_on_load():
    for route, page in _area_routes():
        handlers = page.on_load if isinstance(page.on_load, list) else [page.on_load]
        assert handlers and all(h is not None for h in handlers), f"/{route} has no on_load guard"
