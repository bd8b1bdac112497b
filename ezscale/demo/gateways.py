"""The demo's PayPal and BTCPay: the house site takes both, through the loopback simulators,
with their webhooks pointed at this app (the simulators keep no state across restarts, so this
runs at every `ezscale run`)."""

import secrets

from sqlmodel import select

from ezscale import routes
from ezscale.db import central_session
from ezscale.models.types import row_id
from ezscale.services.accounts.sessions import AuthUser
from ezscale.services.core.audit import operator
from ezscale.services.payments import accounts
from ezscale.services.payments.btcpay_client import BTCPayClient
from ezscale.services.payments.btcpay_client import Credentials as BTCPayCredentials
from ezscale.services.payments.paypal import EVENT_TYPES
from ezscale.services.payments.paypal_client import Credentials as PayPalCredentials
from ezscale.services.payments.paypal_client import PayPalClient
from ezscale.services.tenancy.tenants import list_tenants
from ezscale.simulators import btcpay, paypal


def connect_house(*, paypal_base: str, btcpay_base: str, app_base: str) -> None:
    """Register the app's webhooks at both simulators and switch them on for the house site."""
    with central_session() as central:
        house_id = next(row_id(t) for t, _ in list_tenants(central) if t.is_house)
    client = PayPalClient(paypal_base, PayPalCredentials(paypal.DEMO_CLIENT_ID, paypal.DEMO_SECRET))
    paypal_hook = app_base + routes.gateway_webhook_path("paypal", house_id)
    webhook_id = client.create_webhook(paypal_hook, EVENT_TYPES)
    secret = secrets.token_urlsafe(24)
    BTCPayClient(btcpay_base, BTCPayCredentials(btcpay.DEMO_API_KEY, btcpay.DEMO_STORE)).create_webhook(
        app_base + routes.gateway_webhook_path("btcpay", house_id), secret
    )
    switch_on(
        house_id,
        paypal_base=paypal_base,
        paypal_webhook_id=webhook_id,
        btcpay_base=btcpay_base,
        btcpay_webhook_secret=secret,
        actor=operator("cli:demo"),
    )


def switch_on(
    tenant_id: int,
    *,
    paypal_base: str,
    paypal_webhook_id: str,
    btcpay_base: str,
    btcpay_webhook_secret: str,
    actor: AuthUser,
) -> None:
    """Switch PayPal and BTCPay on for the tenant, with the simulators' demo credentials."""
    with central_session() as central:
        accounts.configure(
            central,
            tenant_id=tenant_id,
            gateway="paypal",
            enabled=True,
            api_base=paypal_base,
            credentials={
                "client_id": paypal.DEMO_CLIENT_ID,
                "secret": paypal.DEMO_SECRET,
                "webhook_id": paypal_webhook_id,
            },
            actor=actor,
        )
        accounts.configure(
            central,
            tenant_id=tenant_id,
            gateway="btcpay",
            enabled=True,
            api_base=btcpay_base,
            credentials={
                "api_key": btcpay.DEMO_API_KEY,
                "store_id": btcpay.DEMO_STORE,
                "webhook_secret": btcpay_webhook_secret,
            },
            actor=actor,
        )


def connect_reseller_stripe(api_base: str, slug: str = "acme") -> str:
    """The demo reseller's own Stripe account, connected and onboarded in the Stripe simulator
    (again when the simulator's saved state no longer has it); returns its account id."""
    from ezscale.errors import DomainError
    from ezscale.models.payments import ConnectedAccount
    from ezscale.services.billing.stripe_gateway import StripeGateway, _default_client
    from ezscale.services.payments import connect
    from ezscale.services.tenancy.tenants import TenantInfo
    from ezscale.settings import get_settings
    from ezscale.simulators.stripe_connect import complete_onboarding

    gw = StripeGateway(_default_client(get_settings().stripe_secret_key, api_base))
    with central_session() as central:
        tenant = next(TenantInfo.of(t) for t, _ in list_tenants(central) if t.slug == slug)
        try:
            status = connect.refresh(central, tenant=tenant, gw=gw)
        except DomainError:  # the simulator forgot the account: connect a new one
            for row in central.exec(select(ConnectedAccount).where(ConnectedAccount.tenant_id == tenant.id)):
                central.delete(row)
            central.commit()
            status = connect.status(central, tenant=tenant)
        if status.can_charge:
            return status.account_id
        complete_onboarding(
            connect.start_onboarding(central, tenant=tenant, actor=operator("cli:demo"), gw=gw)
        )
        return connect.refresh(central, tenant=tenant, gw=gw).account_id
