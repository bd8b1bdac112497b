"""Platform admin → Workspaces: the house tenant's Kasm workspace templates."""

import reflex as rx

from ezscale import routes
from ezscale.components.layout import Area, area_page
from ezscale.components.template_editor import template_editor
from ezscale.state.admin_templates import AdminTemplatesState as S


@area_page(
    Area.ADMIN, route=routes.ADMIN_WORKSPACES, title="Workspace templates", on_load=S.load, denied=S.denied
)
def page() -> rx.Component:
    return rx.vstack(
        rx.cond(S.error != "", rx.callout(S.error, color_scheme="red", id="templates-error")),
        template_editor(S),
        width="100%",
        spacing="4",
    )
