"""Reseller area → customers: search the reseller's own customers, and one customer's record."""

import reflex as rx

from ezscale import routes
from ezscale.components.customer_record import customer_record
from ezscale.components.customer_search import customer_search
from ezscale.components.layout import Area, area_page
from ezscale.state.reseller_customers import ResellerCustomersState as S
from ezscale.state.reseller_customers import ResellerCustomerState as C


@area_page(Area.RESELLER, route=routes.RESELLER_CUSTOMERS, title="Customers", on_load=S.load, denied=S.denied)
def customers_page() -> rx.Component:
    return customer_search(
        S,
        tenant_column=False,
        nobody_yet="No customers yet: they appear here once they sign up on your storefront.",
    )


@area_page(Area.RESELLER, route=routes.RESELLER_CUSTOMER, title="Customer", on_load=C.load, denied=C.denied)
def customer_page() -> rx.Component:
    return rx.vstack(
        rx.link("← Customers", href=routes.RESELLER_CUSTOMERS, size="2"),
        customer_record(C),
        width="100%",
    )
