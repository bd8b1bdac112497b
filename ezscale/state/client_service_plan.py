"""The service page's plan change (with its prorated quote) and cancellation (with the credit
rule), beside the page's main state."""

import reflex as rx

from ezscale.services.provisioning import plan_changes
from ezscale.services.provisioning.plan_change_view import (
    PlanChangeRow,
    PlanChoiceRow,
    plan_change_row,
    plan_choice_rows,
)
from ezscale.state.client_service import ServiceState
from ezscale.state.messages import parse_id


class ServicePlanState(ServiceState):
    plans: list[PlanChoiceRow] = []
    plan_choice: str = ""
    quote: PlanChangeRow | None = None
    cancel_rule: str = ""

    def _load_plans(self) -> None:
        self.plan_choice, self.quote = "", None
        found = self._in(
            lambda db, t, u, sid: (
                plan_changes.plan_options(db, user_id=u.id, service_id=sid)
                if self.page is not None and self.page.cancellable
                else []
            )
        )
        self.plans = plan_choice_rows(found or [])
        end = self.page.period_end if self.page is not None else ""
        self.cancel_rule = plan_changes.CANCEL_RULE.format(end=end or "the period end")

    @rx.event
    def load_plans(self):
        """After the page's own load: the plans it can move to, and the cancellation rule."""
        if self.page is not None:
            self._load_plans()

    @rx.event
    def choose_plan(self, value: str):
        self.plan_choice, self.quote, self.message = value[:20], None, ""
        plan_id = parse_id(value, "plan") if value.isdigit() else 0
        found = self._in(
            lambda db, t, u, sid: plan_changes.quote(db, user_id=u.id, service_id=sid, plan_id=plan_id)
        )
        self.quote = plan_change_row(found) if found else None

    @rx.event(background=True)
    async def change_plan(self):
        async with self:
            plan_id = self.quote.plan_id if self.quote is not None else 0
        await self._panel(
            lambda db, t, u, sid, ip: plan_changes.change_plan(
                db, tenant=t, actor=u, service_id=sid, plan_id=plan_id, ip=ip
            ),
            self._said,
        )
        async with self:
            self._load_plans()

    @rx.event
    def cancel(self, immediately: bool):
        ip = self.router.session.client_ip
        found = self._in(
            lambda db, t, u, sid: plan_changes.cancel(
                db, actor=u, service_id=sid, immediately=immediately, ip=ip
            )
        )
        self._refresh()
        terminated = self.page is not None and self.page.status == "terminated"
        self.message = found if found and not terminated else ""  # the status note says it once
        self._load_plans()
