"""The Reflex app: pages, host-aware head links and the extra HTTP routes."""

import reflex as rx

from ezscale import routes
from ezscale.api import api
from ezscale.components.layout import tab_title
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

app = rx.App(
    api_transformer=[api, refuse_foreign_origins],
    head_components=[
        rx.el.link(rel="stylesheet", href=routes.THEME_CSS),
        rx.el.link(rel="icon", href=routes.FAVICON, type="image/svg+xml"),
    ],
)
_add_page = app.add_page


def _add_branded_page(component=None, route=None, title=None, **kwargs):
    """Every page's tab title names the tenant: "<company name> · <page name>"."""
    return _add_page(component, route, tab_title(title) if isinstance(title, str) else title, **kwargs)


app.add_page = _add_branded_page
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
