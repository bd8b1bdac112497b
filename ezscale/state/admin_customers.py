"""Platform admin → Customers: search across tenants (state of the list page)."""

import reflex as rx

from ezscale.db import central_session
from ezscale.services.customers.directory import search_customers
from ezscale.services.customers.view import SearchResultRow, search_result_rows
from ezscale.state.admin import AdminState


class AdminCustomersState(AdminState):
    query: str = ""
    results: list[SearchResultRow] = []
    searched_for: str = ""

    def _search(self) -> None:
        if self._admin() is None:
            self.denied, self.results = True, []
            return
        with central_session() as central:
            rows = search_customers(central, query=self.query)
        self.searched_for = self.query.strip()
        self.results = search_result_rows(rows)

    @rx.event
    def load(self):
        redirect, allowed = self._admin_guard()
        if allowed:
            self._search()
        return redirect

    @rx.event
    def set_query(self, value: str):
        self.query = value[:100]

    @rx.event
    def search(self):
        self._search()
