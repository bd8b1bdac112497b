"""Platform admin → one customer's record (any tenant's): see `components/customer_record.py`."""

import reflex as rx

from ezscale import routes
from ezscale.components.customer_record import customer_record
from ezscale.components.layout import Area, area_page
from ezscale.state.admin_customer import AdminCustomerState as C


@area_page(Area.ADMIN, route=routes.ADMIN_CUSTOMER, title="Customer", on_load=C.load, denied=C.denied)
def customer_page() -> rx.Component:
    return customer_record(C)
