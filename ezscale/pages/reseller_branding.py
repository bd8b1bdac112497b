"""Reseller → Branding: edit with a live preview; saving re-themes every open storefront tab."""

import reflex as rx

from ezscale import routes
from ezscale.components.layout import Area, area_page
from ezscale.services.tenancy.branding import brand_variables
from ezscale.state.reseller_branding import BrandingEditorState as S

IMAGE_TYPES = {
    "image/png": [".png"],
    "image/jpeg": [".jpg", ".jpeg"],
    "image/gif": [".gif"],
    "image/webp": [".webp"],
}


def _field(label: str, field: str, value, **props) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="2", weight="medium"),
        rx.input(
            value=value, on_change=lambda v: S.set_draft(field, v), id=f"brand-{field}", width="100%", **props
        ),
        spacing="1",
        width="100%",
    )


def _colour(label: str, field: str, value) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="2", weight="medium"),
        rx.hstack(
            rx.el.input(
                type="color",
                value=value,
                on_change=lambda v: S.set_draft(field, v),
                style={"width": "44px", "height": "32px", "border": "none", "background": "none"},
            ),
            rx.input(
                value=value, on_change=lambda v: S.set_draft(field, v), id=f"brand-{field}", width="120px"
            ),
        ),
        spacing="1",
    )


def _upload(label: str, upload_id: str, handler, accept: dict) -> rx.Component:
    return rx.upload(
        rx.button(label, variant="soft", type="button"),
        id=upload_id,
        accept=accept,
        max_files=1,
        on_drop=handler(rx.upload_files(upload_id=upload_id)),
        border="1px dashed var(--gray-6)",
        padding="8px",
    )


def _preview() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text("Live preview", size="1", color_scheme="gray"),
            rx.box(
                rx.hstack(
                    rx.cond(S.logo_url != "", rx.image(src=S.logo_url, height="24px")),
                    rx.heading(S.company_name, size="4", color="white", id="preview-name"),
                ),
                background="var(--brand-secondary)",
                border_bottom="4px solid var(--brand-primary)",
                padding="12px",
                border_radius="6px",
            ),
            rx.button("Order now", id="preview-button"),
            rx.text("Support: ", S.support_email, size="2"),
            style=brand_variables(S.primary_color, S.secondary_color),
            id="brand-preview",
            spacing="3",
        ),
        width="100%",
    )


def _editor() -> rx.Component:
    return rx.grid(
        rx.vstack(
            _field("Company name", "company_name", S.company_name),
            rx.hstack(
                _colour("Primary colour", "primary_color", S.primary_color),
                _colour("Secondary colour", "secondary_color", S.secondary_color),
                spacing="5",
                wrap="wrap",
            ),
            _field("Support email", "support_email", S.support_email),
            _field("Support phone", "support_phone", S.support_phone),
            _field("Emails from (name)", "from_name", S.from_name),
            _field("Emails from (address)", "from_email", S.from_email),
            rx.vstack(
                rx.text(
                    "Custom CSS (no @import, no url() to other hosts, max 20 kB)", size="2", weight="medium"
                ),
                rx.text_area(
                    value=S.custom_css,
                    on_change=lambda v: S.set_draft("custom_css", v),
                    rows="6",
                    width="100%",
                    id="brand-custom_css",
                    font_family="monospace",
                ),
                width="100%",
            ),
            rx.hstack(
                _upload("Upload logo", "logo-upload", S.upload_logo, IMAGE_TYPES),
                _upload(
                    "Upload favicon",
                    "favicon-upload",
                    S.upload_favicon,
                    {**IMAGE_TYPES, "image/x-icon": [".ico"]},
                ),
            ),
            rx.cond(
                S.error != "",
                rx.callout(S.error, color_scheme="red", icon="triangle_alert", id="brand-error"),
            ),
            rx.button("Save branding", on_click=S.save, id="brand-save"),
            spacing="3",
            width="100%",
        ),
        rx.box(_preview()),
        columns=rx.breakpoints(initial="1", md="2"),
        spacing="6",
        width="100%",
    )


@area_page(Area.RESELLER, route=routes.RESELLER_BRANDING, title="Branding", on_load=S.load, denied=S.denied)
def page() -> rx.Component:
    return _editor()
