"""Reseller → Customers: the reseller's own customers only (search, and one customer's record
with the actions the staff member's role allows). The tenant is always the signed-in reseller's
own: an id from another tenant only ever names a customer of this one."""

import reflex as rx

from ezscale.db import central_session
from ezscale.services.accounts.sessions import AuthUser
from ezscale.services.customers.directory import search_customers
from ezscale.services.customers.view import SearchResultRow, reseller_record_link, search_result_rows
from ezscale.services.tenancy.tenants import TenantInfo
from ezscale.state.customer_record import CustomerRecordMixin
from ezscale.state.reseller import ResellerState


class ResellerCustomersState(ResellerState):
    query: str = ""
    results: list[SearchResultRow] = []
    searched_for: str = ""

    def _search(self, tenant: TenantInfo) -> None:
        with central_session() as central:
            rows = search_customers(central, query=self.query, tenant_id=tenant.id)
        self.searched_for = self.query.strip()
        self.results = search_result_rows(rows, link=reseller_record_link)

    @rx.event
    def load(self):
        redirect, tenant = self._guard()
        if tenant is not None:
            self._search(tenant)
        return redirect

    @rx.event
    def set_query(self, value: str):
        self.query = value[:100]

    @rx.event
    def search(self):
        if (staff := self._owner()) is not None:
            self._search(staff[1])


class ResellerCustomerState(CustomerRecordMixin, ResellerState):
    def _who(self) -> tuple[AuthUser, TenantInfo] | None:
        return self._owner()

    @rx.event
    def load(self):
        redirect, tenant = self._guard()
        if tenant is None:
            return redirect
        self._open(self.router.url.query_parameters.get("user", ""))
        return None
