"""Every route of the app, in one place."""

from urllib.parse import quote

HOME = "/"
CLIENT = "/client"
CLIENT_WORKSPACES = "/client/workspaces"
CLIENT_WORKSPACES_LAUNCH = "/client/workspaces/launch/[plan_code]"  # Launch from the storefront
CLIENT_BILLING = "/client/billing"
CLIENT_SERVICE = "/client/services/[service_id]"  # one service: status, access, power, plan
ORDER = "/order/[plan_code]"  # the plan code is the route argument `plan_code`
RESELLER = "/reseller"
RESELLER_BRANDING = "/reseller/branding"
RESELLER_DOMAINS = "/reseller/domains"
RESELLER_PLANS = "/reseller/plans"
RESELLER_STAFF = "/reseller/staff"
RESELLER_CUSTOMERS = "/reseller/customers"
RESELLER_CUSTOMER = "/reseller/customer"
RESELLER_USAGE = "/reseller/usage"
RESELLER_WORKSPACES = "/reseller/workspaces"
RESELLER_PAYMENT_REPORT = "/reseller/payment-report"
RESELLER_PAYMENT_REPORT_CSV = "/reseller/payment-report.csv"
ADMIN = "/admin"
ADMIN_RESELLERS = "/admin/resellers"
ADMIN_ANALYTICS = "/admin/analytics"
ADMIN_REPORTS = "/admin/reports"
ADMIN_CUSTOMERS = "/admin/customers"
ADMIN_CUSTOMER = "/admin/customer"
ADMIN_ALERTS = "/admin/alerts"
ADMIN_GATEWAYS = "/admin/gateways"
ADMIN_PAYMENTS = "/admin/payments"  # ?tenant=<id>: the payments report of one tenant
ADMIN_PAYMENTS_CSV = "/admin/payments.csv"
ADMIN_PLANS = "/admin/plans"
ADMIN_WORKSPACES = "/admin/workspaces"
ADMIN_PANELS = "/admin/panels"  # provisioning panels and plan mappings
ADMIN_CAPACITY = "/admin/capacity"
ADMIN_SERVICE = "/admin/service"  # ?tenant=<id>&service=<id>: provisioning log, retry, sync
IMPERSONATE = "/impersonate"
# HTTP responses that set and clear the HttpOnly session cookie.
SESSION_HANDOFF = "/auth/handoff"
SIGN_OUT = "/auth/sign-out"

# Accounts and security
LOGIN = "/login"
SIGNUP = "/signup"
VERIFY_EMAIL = "/verify-email"
FORGOT_PASSWORD = "/forgot-password"
RESET_PASSWORD = "/reset-password"
ACCOUNT = "/account"
ACCOUNT_SECURITY = "/account/security"
ADMIN_LOGIN = "/admin/login"
ADMIN_AUDIT = "/admin/audit"
ADMIN_LOGINS = "/admin/logins"
RESELLER_AUDIT = "/reseller/audit"
DEV_OUTBOX = "/dev/outbox"

THEME_CSS = "/tenant-theme.css"
FAVICON = "/tenant-favicon.svg"
CADDY_ASK = "/internal/tls/ask"
STRIPE_WEBHOOK = "/webhooks/stripe"
GATEWAY_WEBHOOK = "/webhooks/{gateway}/{tenant_id:int}"  # PayPal and BTCPay, per tenant
GATEWAY_RETURN = "/payments/{gateway}/return"


def order_path(plan_code: str) -> str:
    """The order page of one plan."""
    return ORDER.replace("[plan_code]", quote(plan_code, safe=""))


def gateway_webhook_path(gateway: str, tenant_id: int) -> str:
    """Where a gateway posts one tenant's webhooks."""
    return f"/webhooks/{gateway}/{tenant_id}"


def invoice_path(invoice_id: int) -> str:
    """The customer's billing page with one invoice open."""
    return f"{CLIENT_BILLING}?invoice={invoice_id}"


def workspaces_path(plan_code: str) -> str:
    """The workspaces page with one workspace type chosen in its order form (a path, not a query,
    so it survives the detour through sign-in, whose `next` keeps only the path)."""
    return CLIENT_WORKSPACES_LAUNCH.replace("[plan_code]", quote(plan_code, safe=""))


def service_path(service_id: int) -> str:
    """The customer's page of one service."""
    return CLIENT_SERVICE.replace("[service_id]", str(service_id))


def admin_service_path(tenant_id: int, service_id: int) -> str:
    """The admin's provisioning page of one service of one tenant."""
    return f"{ADMIN_SERVICE}?tenant={tenant_id}&service={service_id}"
