"""Each tenant's gateway accounts: which gateways it takes payments with, their credentials
(encrypted at rest, never shown back), a connection test, and the adapter built from them.

Stripe is on unless switched off (its keys are the platform's, from the environment); PayPal
and BTCPay are off until configured and switched on.
"""

import ipaddress
import json
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlmodel import Session, select

from ezscale import clock, routes
from ezscale.db import central_session
from ezscale.errors import DomainError
from ezscale.models.payments import GatewayAccount
from ezscale.services.accounts.sessions import AuthUser
from ezscale.services.core.audit import record_audit
from ezscale.services.payments.btcpay import BTCPayGateway
from ezscale.services.payments.btcpay_client import BTCPayClient
from ezscale.services.payments.btcpay_client import Credentials as BTCPayCredentials
from ezscale.services.payments.gateway import LABELS, Gateway, GatewayName
from ezscale.services.payments.paypal import PayPalGateway
from ezscale.services.payments.paypal_client import Credentials as PayPalCredentials
from ezscale.services.payments.paypal_client import PayPalClient
from ezscale.services.tenancy.tenants import TenantInfo, site_url
from ezscale.settings import get_settings

# The credential fields of each gateway; the secret ones are never shown back.
FIELDS: dict[str, tuple[str, ...]] = {
    GatewayName.STRIPE: (),
    GatewayName.PAYPAL: ("client_id", "secret", "webhook_id"),
    GatewayName.BTCPAY: ("api_key", "store_id", "webhook_secret"),
}
SECRET_FIELDS = {"secret", "api_key", "webhook_secret"}
FIELD_LABELS = {
    "client_id": "Client ID",
    "secret": "Secret",
    "webhook_id": "Webhook ID",
    "api_key": "API key",
    "store_id": "Store ID",
    "webhook_secret": "Webhook secret",
}
# How long a gateway call may take before it counts as lost (and is retried with its key).
TIMEOUT_SECONDS = 10.0


def webhook_url(gateway: str, tenant_id: int) -> str:
    """The address to give the gateway for this tenant's webhooks (on the platform's own host)."""
    return site_url(get_settings().platform_domain) + routes.gateway_webhook_path(gateway, tenant_id)


DEFAULT_BASES = {GatewayName.PAYPAL: "https://api-m.sandbox.paypal.com", GatewayName.BTCPAY: ""}


@dataclass(frozen=True, slots=True)
class AccountView:
    """One gateway as the admin page shows it: no secrets, only whether they are set."""

    gateway: str
    label: str
    enabled: bool
    api_base: str
    public: dict[str, str]
    secrets_set: list[str]


def gateway_name(text: str) -> GatewayName:
    """The gateway named `text`, or a DomainError."""
    try:
        return GatewayName(text)
    except ValueError:
        raise DomainError(f"No such payment gateway: {text!r}.") from None


def _row(session: Session, tenant_id: int, gateway: GatewayName) -> GatewayAccount | None:
    return session.exec(
        select(GatewayAccount).where(
            GatewayAccount.tenant_id == tenant_id, GatewayAccount.gateway == gateway.value
        )
    ).first()


def _credentials(row: GatewayAccount | None) -> dict[str, str]:
    return json.loads(row.credentials) if row is not None and row.credentials else {}


def _allowlist() -> set[str]:
    return {h.strip().lower() for h in get_settings().gateway_host_allowlist.split(",") if h.strip()}


def check_public_url(url: str, *, label: str = "gateway") -> str:
    """A reseller-entered API address the platform may call (no SSRF): https to a host whose
    every address is public, or a host on EZSCALE_GATEWAY_HOST_ALLOWLIST (the loopback
    simulators of the demo and tests). DomainError saying what is wrong otherwise."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    if host and host in _allowlist() and parts.scheme in ("http", "https"):
        return url.strip()
    if parts.scheme != "https" or not host:
        raise DomainError(f"Enter the {label} address as https://…")
    if parts.username or parts.password:
        raise DomainError(f"The {label} address may not contain a user name or password.")
    try:
        port = parts.port or 443
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (OSError, ValueError):
        raise DomainError(f"The {label} host {host!r} could not be found.") from None
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if not address.is_global:
            raise DomainError(f"The {label} host {host!r} is not a public address.")
    return url.strip()


def list_accounts(session: Session, *, tenant_id: int) -> list[AccountView]:
    """Every gateway with its state for the tenant, Stripe first."""
    views = []
    for gateway in GatewayName:
        row = _row(session, tenant_id, gateway)
        creds = _credentials(row)
        views.append(
            AccountView(
                gateway=gateway.value,
                label=LABELS[gateway],
                enabled=(row.enabled if row else gateway is GatewayName.STRIPE),
                api_base=(row.api_base if row else DEFAULT_BASES.get(gateway, "")),
                public={k: creds.get(k, "") for k in FIELDS[gateway] if k not in SECRET_FIELDS},
                secrets_set=[k for k in FIELDS[gateway] if k in SECRET_FIELDS and creds.get(k)],
            )
        )
    return views


def configure(
    session: Session,
    *,
    tenant_id: int,
    gateway: str,
    enabled: bool,
    api_base: str = "",
    credentials: dict[str, str] | None = None,
    actor: AuthUser,
    ip: str = "",
    public_only: bool = False,
) -> AccountView:
    """Switch a gateway on or off and store its credentials; a blank secret keeps the stored one.

    A gateway is switched on only with every credential set and an http(s) API base; with
    `public_only` (a reseller's entry) only an https address of a public host is taken."""
    name = gateway_name(gateway)
    row = _row(session, tenant_id, name)
    before = {"enabled": row.enabled, "api_base": row.api_base} if row else None
    creds = _credentials(row)
    for key, value in (credentials or {}).items():
        if key not in FIELDS[name]:
            raise DomainError(f"{LABELS[name]} has no setting {key!r}.")
        value = (value or "").strip()
        if value or key not in SECRET_FIELDS:
            creds[key] = value
    api_base = (api_base or (row.api_base if row else "") or DEFAULT_BASES.get(name, "")).strip().rstrip("/")
    if name is not GatewayName.STRIPE:
        url = urlsplit(api_base)
        if url.scheme not in ("http", "https") or not url.netloc:
            raise DomainError(f"Enter the {LABELS[name]} API address, such as https://…")
        if public_only:
            check_public_url(api_base, label=LABELS[name])
        missing = [k.replace("_", " ") for k in FIELDS[name] if not creds.get(k)]
        if enabled and missing:
            raise DomainError(f"{LABELS[name]} needs {', '.join(missing)} before it can be switched on.")
    if row is None:
        row = GatewayAccount(tenant_id=tenant_id, gateway=name.value, updated_at=clock.now())
    row.enabled, row.api_base, row.credentials = enabled, api_base, json.dumps(creds)
    row.updated_at = clock.now()
    session.add(row)
    record_audit(
        actor=actor,
        action="payments.gateway_configured",
        target=f"tenant:{tenant_id}:{name.value}",
        before=before,
        after={"enabled": enabled, "api_base": api_base, "credentials": sorted(creds)},
        ip=ip,
        session=session,
    )
    session.commit()
    return next(v for v in list_accounts(session, tenant_id=tenant_id) if v.gateway == name.value)


def configure_reseller(
    session: Session,
    *,
    tenant: TenantInfo,
    gateway: str,
    enabled: bool,
    api_base: str = "",
    credentials: dict[str, str] | None = None,
    actor: AuthUser,
    ip: str = "",
) -> AccountView:
    """A reseller owner's own PayPal or BTCPay account (Stripe is connected, not configured)."""
    from ezscale.services.resellers.roles import require_owner

    require_owner(actor, tenant.id, "set up payment accounts")
    if gateway_name(gateway) is GatewayName.STRIPE:
        raise DomainError("Connect your Stripe account with the Connect button.")
    return configure(
        session,
        tenant_id=tenant.id,
        gateway=gateway,
        enabled=enabled,
        api_base=api_base,
        credentials=credentials,
        actor=actor,
        ip=ip,
        public_only=True,
    )


def enabled_gateways(tenant_id: int) -> list[GatewayName]:
    """The gateways the tenant's customers can pay with, Stripe first (a reseller's Stripe only
    once its own account is connected and can charge)."""
    from ezscale.services.payments import connect
    from ezscale.services.tenancy.tenants import tenant_info

    with central_session() as session:
        names = [GatewayName(v.gateway) for v in list_accounts(session, tenant_id=tenant_id) if v.enabled]
    if GatewayName.STRIPE in names and not connect.can_take_payments(tenant_info(tenant_id)):
        names.remove(GatewayName.STRIPE)
    return names


def adapter(tenant: TenantInfo, gateway: str, *, require_enabled: bool = True) -> Gateway:
    """The tenant's gateway, built from its stored account (DomainError when not usable)."""
    name = gateway_name(gateway)
    if name is GatewayName.STRIPE:
        from ezscale.services.billing.payments import stripe_for
        from ezscale.services.payments.stripe import StripeAdapter

        return StripeAdapter(stripe_for(tenant))
    with central_session() as session:
        row = _row(session, tenant.id, name)
        creds, api_base = _credentials(row), row.api_base if row else ""
        enabled = bool(row and row.enabled)
    if row is None or (require_enabled and not enabled):
        raise DomainError(f"{LABELS[name]} is not available here.")
    if not tenant.is_house:
        check_public_url(api_base, label=LABELS[name])  # again at use: a name may now resolve inward
    if name is GatewayName.PAYPAL:
        client = PayPalClient(
            api_base,
            PayPalCredentials(
                creds.get("client_id", ""), creds.get("secret", ""), creds.get("webhook_id", "")
            ),
            timeout=TIMEOUT_SECONDS,
        )
        return PayPalGateway(client, brand_name=tenant.name)
    return BTCPayGateway(
        BTCPayClient(
            api_base,
            BTCPayCredentials(
                creds.get("api_key", ""), creds.get("store_id", ""), creds.get("webhook_secret", "")
            ),
            timeout=TIMEOUT_SECONDS,
        )
    )


def test_connection(tenant: TenantInfo, gateway: str) -> str:
    """Try the stored credentials against the gateway; a message saying it works, or a DomainError."""
    gw = adapter(tenant, gateway, require_enabled=False)
    gw.test_connection()
    return f"{LABELS[gw.name]} answered: the credentials work."
