"""The Reflex app: pages, host-aware head links and the extra HTTP routes."""

import reflex as rx
from starlette.types import ASGIApp

from ezscale import routes
from ezscale.components.layout import tab_title
from ezscale.http.app import api
from ezscale.http.body_limit import cap_request_body
from ezscale.http.edge import secure_edge
from ezscale.http.origin_guard import refuse_foreign_origins
from ezscale.http.stripe_webhook import check_webhook_secret
from ezscale.pages import PAGES
from ezscale.services.kasm import signal as kasm_signal
from ezscale.state.kasm_live import live_updates

# Workspace changes this backend commits reach live dashboards at once (with Redis).
kasm_signal.install()


class EzscaleApp(rx.App):
    """The Reflex app with the HTTP edge outermost: Reflex wraps api_transformer results in its
    own permissive CORS layer, so the edge must sit outside the finished ASGI app."""

    def __call__(self) -> ASGIApp:
        check_webhook_secret()
        return secure_edge(super().__call__())

    def add_page(self, component=None, route=None, title=None, **kwargs):
        """Every page's tab title names the tenant: "<company name> · <page name>"."""
        return super().add_page(
            component, route, tab_title(title) if isinstance(title, str) else title, **kwargs
        )


app = EzscaleApp(
    api_transformer=[api, refuse_foreign_origins, cap_request_body],
    head_components=[
        rx.el.link(rel="stylesheet", href=routes.THEME_CSS),
        rx.el.link(rel="icon", href=routes.FAVICON, type="image/svg+xml"),
    ],
)
for page in PAGES:
    app.add_page(page.view, route=page.route, title=page.title, on_load=page.on_load)
# Pushes workspace changes to open customer dashboards (ezscale/pages/kasm.py).
app.register_lifespan_task(live_updates)
