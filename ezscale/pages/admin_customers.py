"""Platform admin → Customers: search customers across every tenant."""

import reflex as rx

from ezscale import routes
from ezscale.components.customer_search import customer_search
from ezscale.components.layout import Area, area_page
from ezscale.state.admin_customers import AdminCustomersState as S


@area_page(Area.ADMIN, route=routes.ADMIN_CUSTOMERS, title="Customers", on_load=S.load, denied=S.denied)
def search_page() -> rx.Component:
    return customer_search(
        S,
        tenant_column=True,
        nobody_yet="No customers yet: they appear here once they sign up on any storefront.",
    )
