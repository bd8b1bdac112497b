"""Workspace templates: platform admins edit the house catalogue at /admin/workspaces.

`TemplateEditor` holds the table, the form and their events; each page state that mixes it in
says whose catalogue it edits (`_editor`) and defines its own guarded `load`.
"""

import reflex as rx

from ezscale.models.kasm import TemplateStatus
from ezscale.services.accounts.sessions import AuthUser
from ezscale.services.kasm.templates import (
    CATEGORIES,
    TemplateForm,
    TemplateRow,
    create_template,
    list_templates,
    update_template,
)
from ezscale.services.tenancy.tenants import TenantInfo, tenant_session
from ezscale.state.admin import AdminState
from ezscale.state.messages import attempt, parse_id

STATUSES = [s.value for s in TemplateStatus]
_TEXT_FIELDS = (
    "name",
    "description",
    "category",
    "image_id",
    "icon",
    "cores",
    "memory_gb",
    "apps",
    "status",
    "sort_order",
)
_NEW = {f: "" for f in _TEXT_FIELDS} | {
    "category": CATEGORIES[0],
    "icon": "monitor",
    "cores": "2",
    "memory_gb": "4",
    "status": TemplateStatus.ACTIVE.value,
}


class TemplateEditor(rx.State, mixin=True):
    """The tenant's templates in a table and one form, for a new template or the one being edited.
    The page state provides `error` and `_editor()`."""

    templates: list[TemplateRow] = []
    form: dict[str, str] = dict(_NEW)
    form_persistent: bool = False
    editing: str = ""  # id of the template in the form; "" for a new one

    def _editor(self) -> tuple[AuthUser, TenantInfo] | None:
        """Who edits which tenant's catalogue, or None (and `error` set) when not allowed."""
        raise NotImplementedError

    def _refresh(self, tenant: TenantInfo) -> None:
        with tenant_session(tenant) as session:
            self.templates = list_templates(session)

    def _clear(self) -> None:
        self.form, self.form_persistent, self.editing, self.error = dict(_NEW), False, "", ""

    @rx.event
    def set_field(self, field: str, value: str):
        if field in _TEXT_FIELDS:
            self.form = {**self.form, field: value}

    @rx.event
    def set_form_persistent(self, value: bool):
        self.form_persistent = value

    @rx.event
    def edit(self, template_id: int):
        if self._editor() is None:
            return
        row = next((t for t in self.templates if t.id == template_id), None)
        if row is not None:
            self.form = {f: str(getattr(row, f)) for f in _TEXT_FIELDS}
            self.form_persistent, self.editing, self.error = row.persistent, str(template_id), ""

    @rx.event
    def new_template(self):
        if self._editor() is not None:
            self._clear()

    @rx.event
    def save(self):
        if (found := self._editor()) is None:
            return None
        actor, tenant = found
        form = TemplateForm(
            **{f: self.form.get(f, "") for f in _TEXT_FIELDS}, persistent=self.form_persistent
        )
        ip = self.router.session.client_ip or ""
        editing = self.editing

        def run() -> str:
            with tenant_session(tenant) as session:
                if editing:
                    template_id = parse_id(editing, "template")
                    return update_template(
                        session, actor=actor, tenant=tenant, template_id=template_id, form=form, ip=ip
                    ).name
                return create_template(session, actor=actor, tenant=tenant, form=form, ip=ip).name

        name, self.error = attempt(run)
        if self.error:
            return None
        self._clear()
        self._refresh(tenant)
        return rx.toast.success(f"{name}: saved.")


class AdminTemplatesState(TemplateEditor, AdminState):
    """The house tenant's workspace templates."""

    error: str = ""

    def _editor(self) -> tuple[AuthUser, TenantInfo] | None:
        return self._house()

    @rx.event
    def load(self):
        redirect, allowed = self._admin_guard()
        if allowed and (found := self._editor()):
            self._refresh(found[1])
        return redirect
