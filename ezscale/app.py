"""The Reflex app: pages, host-aware head links and the extra HTTP routes."""

import reflex as rx

from ezscale import routes
from ezscale.api import api
from ezscale.origin_guard import refuse_foreign_origins
from ezscale.pages import (
    account,
    admin_alerts,
    admin_analytics,
    admin_customers,
    admin_plans,
    admin_resellers,
    admin_templates,
    areas,
    audit,
    auth,
    billing,
    kasm,
    orders,
    outbox,
    reseller,
    reseller_branding,
    storefront,
)
from ezscale.services import kasm_signal

# Workspace changes this backend commits reach live dashboards at once (with Redis).
kasm_signal.install()
app = rx.App(
    api_transformer=[api, refuse_foreign_origins],
    head_components=[
        rx.el.link(rel="stylesheet", href=routes.THEME_CSS),
        rx.el.link(rel="icon", href=routes.FAVICON, type="image/svg+xml"),
    ],
)
storefront.register(app)
areas.register(app)
auth.register(app)
account.register(app)
audit.register(app)
outbox.register(app)
reseller_branding.register(app)
reseller.register(app)
admin_resellers.register(app)
admin_analytics.register(app)
admin_customers.register(app)
admin_plans.register(app)
admin_templates.register(app)
admin_alerts.register(app)
kasm.register(app)
billing.register(app)
orders.register(app)
