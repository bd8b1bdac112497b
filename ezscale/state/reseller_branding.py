"""The reseller's branding editor: a draft with live preview; saving re-themes every open tab."""

import reflex as rx

from ezscale.db import central_session
from ezscale.errors import DomainError
from ezscale.services.core.audit import record_audit
from ezscale.services.tenancy.brand_assets import store_asset
from ezscale.services.tenancy.branding import BrandingUpdate, get_branding, update_branding
from ezscale.services.tenancy.tenants import BrandingInfo, TenantInfo
from ezscale.state.brand import BrandState
from ezscale.state.reseller import ResellerState

_FIELDS = (
    "company_name",
    "primary_color",
    "secondary_color",
    "support_email",
    "support_phone",
    "from_name",
    "from_email",
    "custom_css",
)


class BrandingEditorState(ResellerState):
    company_name: str = ""
    primary_color: str = "#3B82F6"
    secondary_color: str = "#1E293B"
    support_email: str = ""
    support_phone: str = ""
    from_name: str = ""
    from_email: str = ""
    custom_css: str = ""
    logo_url: str = ""

    @rx.event
    def load(self):
        redirect, tenant = self._guard()
        if tenant is None:
            return redirect
        with central_session() as session:
            row = get_branding(session, tenant_id=tenant.id)
        for name in _FIELDS:
            setattr(self, name, getattr(row, name) or "")
        self.logo_url = row.logo_url or ""
        return None

    @rx.event
    def set_draft(self, field: str, value: str):
        """Typing updates the draft (and so the preview) only; nothing is saved."""
        if field in _FIELDS and self._owner() is not None:
            setattr(self, field, value)

    async def _broadcast(self, tenant: TenantInfo, info: BrandingInfo) -> None:
        brand = await self.get_state(BrandState)
        await brand._publish(tenant.id, info)

    @rx.event
    async def save(self):
        owner = self._owner()
        if owner is None:
            return None
        user, tenant = owner
        update = BrandingUpdate(**{name: getattr(self, name) for name in _FIELDS})
        try:
            with central_session() as session:
                before = {name: getattr(get_branding(session, tenant_id=tenant.id), name) for name in _FIELDS}
                row = update_branding(session, actor=user, tenant_id=tenant.id, update=update)
                info = BrandingInfo.of(row)
        except DomainError as error:
            self.error = str(error)
            return None
        self.error = ""
        self.custom_css = row.custom_css or ""
        record_audit(
            actor=user,
            action="branding.update",
            target=f"tenant:{tenant.slug}",
            before=before,
            after={name: getattr(row, name) for name in _FIELDS},
            ip=self.router.session.client_ip,
        )
        await self._broadcast(tenant, info)
        return rx.toast.success("Branding saved: every open page now shows it.")

    async def _store(self, kind: str, files: list[rx.UploadFile]):
        owner = self._owner()
        if owner is None or not files:
            return None
        user, tenant = owner
        data = await files[0].read()
        try:
            with central_session() as session:
                url = store_asset(session, actor=user, tenant=tenant, kind=kind, data=data)
                info = BrandingInfo.of(get_branding(session, tenant_id=tenant.id))
        except DomainError as error:
            self.error = str(error)
            return None
        self.error = ""
        if kind == "logo":
            self.logo_url = url
        self._audit(user, f"branding.{kind}", f"tenant:{tenant.slug}", url=url)
        await self._broadcast(tenant, info)
        return rx.toast.success(f"{kind.title()} uploaded.")

    @rx.event
    async def upload_logo(self, files: list[rx.UploadFile]):
        return await self._store("logo", files)

    @rx.event
    async def upload_favicon(self, files: list[rx.UploadFile]):
        return await self._store("favicon", files)
