"""`ezscale run`'s PayPal and BTCPay: both simulators start as processes and the house site
takes both, with webhooks registered at each."""

import pytest

from ezscale.demo.gateways import connect_house
from ezscale.services.payments import accounts
from ezscale.services.payments.gateway import GatewayName
from ezscale.services.tenancy.tenants import TenantInfo
from ezscale.simulators.launch import start
from ezscale.simulators.stripe import free_port


@pytest.mark.slow
def test_simulators_start_and_the_house_site_takes_both(make_tenant):
    house = TenantInfo.of(make_tenant("ezscale", is_house=True, primary_domain="localhost"))
    ports = free_port(), free_port()
    processes = [start("paypal", ports[0], probe="/checkoutnow"), start("btcpay", ports[1], probe="/i/none")]
    try:
        connect_house(
            paypal_base=f"http://127.0.0.1:{ports[0]}",
            btcpay_base=f"http://127.0.0.1:{ports[1]}",
            app_base="http://127.0.0.1:3000",
        )
        assert accounts.enabled_gateways(house.id) == list(GatewayName)
        assert accounts.test_connection(house, "paypal").startswith("PayPal")
        assert accounts.test_connection(house, "btcpay").startswith("Bitcoin")
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)
