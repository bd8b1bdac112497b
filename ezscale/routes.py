"""Every route of the app, in one place."""

HOME = "/"
CLIENT = "/client"
RESELLER = "/reseller"
ADMIN = "/admin"

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
