"""Tenants share the panels but not their ids: a reseller's customer and service are known to a
panel by keys no other tenant's can have (`handles.panel_key`)."""

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from ezscale.models.provisioning import ServiceHandle
from ezscale.models.tenant import Service
from ezscale.services.provisioning.handles import KEY_SPAN, panel_key
from ezscale.services.provisioning.module import ProvisioningError
from ezscale.services.tenancy.tenants import TenantInfo
from tests.factories import tenant_db
from tests.services.provisioning.support import drive, job_ids, virtfusion
from tests.services.provisioning.test_jobs import _order


@pytest.fixture(autouse=True)
def _now(clock):
    clock.set(datetime(2026, 11, 16, tzinfo=UTC))


def test_two_tenants_customers_with_the_same_ids_get_their_own_panel_user_and_server(
    make_tenant, central, clock
):
    house = TenantInfo.of(make_tenant("house", is_house=True))
    shop = TenantInfo.of(make_tenant("shop"))
    with virtfusion(central, build_seconds=0) as (sim, _):
        services = {t.slug: _order(t, f"pat@{t.slug}.test") for t in (house, shop)}
        users = {}
        for tenant in (house, shop):
            with tenant_db(tenant) as db:
                users[tenant.slug] = db.get(Service, services[tenant.slug]).user_id
            assert drive(tenant, job_ids(tenant)[0], clock) == "done"
        assert services["house"] == services["shop"] and users["house"] == users["shop"]

        owners = {server.owner_id: server for server in sim.live_servers()}
        assert len(owners) == 2, "each customer's server is on a panel user of their own"
        by_email = {sim.users[owner]["email"]: sim.users[owner]["extRelationId"] for owner in owners}
        local = users["house"]
        assert by_email == {"pat@house.test": local, "pat@shop.test": shop.id * KEY_SPAN + local}
    handles = []
    for tenant in (house, shop):
        with tenant_db(tenant) as db:
            handles.append(db.exec(select(ServiceHandle)).one().external_id)
    assert len(set(handles)) == 2


def test_an_id_beyond_the_panels_keys_is_refused(make_tenant):
    shop = TenantInfo.of(make_tenant("shop"))
    with tenant_db(shop) as db:
        assert panel_key(db, KEY_SPAN - 1) == (shop.id + 1) * KEY_SPAN - 1
        with pytest.raises(ProvisioningError, match="#1000000 has no panel key"):
            panel_key(db, KEY_SPAN)
