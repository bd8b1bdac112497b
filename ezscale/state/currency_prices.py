"""A storefront's currencies (enabled, rounding rule) and its plans' fixed prices in them, shared by
the admin area (the house site) and the reseller area (the owner's own site) as a Reflex state
mixin: each area's state says who changes which tenant's currencies (`_who`); the services check
what that actor may do."""

from dataclasses import replace
from typing import TYPE_CHECKING

import reflex as rx

from ezscale.models.fx import RoundingRule
from ezscale.services.accounts.sessions import AuthUser
from ezscale.services.catalogue.plans import set_currency_price
from ezscale.services.catalogue.view import CurrencyPriceRow, currency_price_rows
from ezscale.services.fx.currencies import tenant_currencies, update_currencies
from ezscale.services.tenancy.tenants import TenantInfo, tenant_session
from ezscale.state.messages import attempt, parse_id

ROUNDING_RULES = [r.value for r in RoundingRule]


class CurrencyPricesMixin(rx.State, mixin=True):
    base: str = ""
    enabled: str = ""
    rounding: str = RoundingRule.MINOR.value
    # One row per plan and other currency: its price now, and a draft fixed price.
    prices: list[CurrencyPriceRow] = []
    if TYPE_CHECKING:
        error: str  # the area state's (the reseller area's one message, shown on the page)

    def _who(self) -> tuple[AuthUser, TenantInfo] | None:
        """Who changes which tenant's currencies (None, with `error` saying why: not allowed)."""
        raise NotImplementedError

    def _refresh(self, tenant: TenantInfo) -> None:
        with tenant_session(tenant) as session:
            settings = tenant_currencies(session)
            self.base, self.enabled = settings.base, " ".join(settings.enabled)
            self.rounding = settings.rounding.value
            self.prices = currency_price_rows(session)

    @rx.event
    def set_enabled(self, value: str):
        self.enabled = value[:200]

    @rx.event
    def set_rounding(self, value: str):
        self.rounding = value[:20]

    @rx.event
    def set_draft(self, key: str, value: str):
        self.prices = [replace(r, draft=value[:20]) if r.key == key else r for r in self.prices]

    @rx.event
    def save_settings(self):
        if (who := self._who()) is None:
            return None
        actor, tenant = who
        enabled, rounding, ip = self.enabled, self.rounding, self.router.session.client_ip or ""

        def run() -> None:
            with tenant_session(tenant) as session:
                update_currencies(
                    session, actor=actor, tenant=tenant, enabled=enabled, rounding=rounding, ip=ip
                )

        _, self.error = attempt(run)
        if self.error:
            return None
        self._refresh(tenant)
        return rx.toast.success("Currencies saved.")

    @rx.event
    def save_price(self, key: str):
        if (who := self._who()) is None:
            return None
        actor, tenant = who
        row = next((r for r in self.prices if r.key == key), None)
        if row is None:
            return None
        plan_id, _, currency = key.partition(":")
        ip = self.router.session.client_ip or ""

        def run() -> None:
            with tenant_session(tenant) as session:
                set_currency_price(
                    session,
                    actor=actor,
                    tenant=tenant,
                    plan_id=parse_id(plan_id, "plan"),
                    currency=currency,
                    price=row.draft,
                    ip=ip,
                )

        _, self.error = attempt(run)
        if self.error:
            return None
        self._refresh(tenant)
        return rx.toast.success(f"{row.plan}: {currency} price saved.")
