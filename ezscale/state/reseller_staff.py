"""Reseller → Staff: invite staff accounts, disable or re-enable them."""

import reflex as rx

from ezscale.services.accounts.invitations import StaffRow, invite_staff, set_staff_active, staff_rows
from ezscale.services.resellers.roles import RoleRow, role_rows
from ezscale.services.tenancy.tenants import TenantInfo, tenant_session
from ezscale.state.messages import attempt, parse_id
from ezscale.state.reseller import ResellerState


class ResellerStaffState(ResellerState):
    staff: list[StaffRow] = []
    invite_email: str = ""
    invite_name: str = ""
    invite_role: str = "reseller_staff"
    roles: list[RoleRow] = role_rows()

    def _refresh(self, tenant: TenantInfo) -> None:
        with tenant_session(tenant) as db:
            self.staff = staff_rows(db)

    @rx.event
    def load(self):
        redirect, tenant = self._guard()
        if tenant is not None:
            self._refresh(tenant)
        return redirect

    @rx.event
    def set_invite(self, field: str, value: str):
        if field == "email":
            self.invite_email = value
        elif field == "name":
            self.invite_name = value
        elif field == "role":
            self.invite_role = value

    @rx.event
    def invite(self):
        if (owner := self._owner()) is None:
            return None
        user, tenant = owner
        email, name, role = self.invite_email, self.invite_name, self.invite_role

        def run():
            with tenant_session(tenant) as db:
                return invite_staff(
                    db, actor=user, tenant=tenant, email=email, name=name, role=role, ip=self._ip()
                )

        invited, self.error = attempt(run)
        if self.error:
            return None
        self.invite_email = self.invite_name = ""
        self._refresh(tenant)
        return rx.toast.success(f"Invitation sent to {invited.email}.")

    @rx.event
    def set_active(self, user_id: int | str, active: bool):
        if (owner := self._owner()) is None:
            return
        user, tenant = owner

        def run() -> None:
            with tenant_session(tenant) as db:
                staff_id = parse_id(user_id, "staff account")
                set_staff_active(
                    db, actor=user, tenant=tenant, user_id=staff_id, active=active, ip=self._ip()
                )

        _, self.error = attempt(run)
        if not self.error:
            self._refresh(tenant)
