"""Every route of the app, in one place."""

HOME = "/"
CLIENT = "/client"
RESELLER = "/reseller"
ADMIN = "/admin"

THEME_CSS = "/tenant-theme.css"
FAVICON = "/tenant-favicon.svg"
