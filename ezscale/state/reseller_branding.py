"""The reseller's branding editor: a draft with live preview; saving re-themes every open tab."""

import reflex as rx

from ezscale.db import central_session
from ezscale.services.tenancy.brand_assets import store_asset
from ezscale.services.tenancy.branding import AUDITED_FIELDS, BrandingUpdate, get_branding, update_branding
from ezscale.services.tenancy.tenants import BrandingInfo, TenantInfo
from ezscale.state.brand import BrandState
from ezscale.state.messages import attempt
from ezscale.state.reseller import ResellerState

_FIELDS = AUDITED_FIELDS


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

        def run() -> BrandingInfo:
            with central_session() as session:
                return BrandingInfo.of(
                    update_branding(session, actor=user, tenant_id=tenant.id, update=update, ip=self._ip())
                )

        info, self.error = attempt(run)
        if info is None:
            return None
        self.custom_css = info.custom_css or ""
        await self._broadcast(tenant, info)
        return rx.toast.success("Branding saved: every open page now shows it.")

    async def _store(self, kind: str, files: list[rx.UploadFile]):
        owner = self._owner()
        if owner is None or not files:
            return None
        user, tenant = owner
        data = await files[0].read()

        def run() -> tuple[str, BrandingInfo]:
            with central_session() as session:
                url = store_asset(session, actor=user, tenant=tenant, kind=kind, data=data, ip=self._ip())
                return url, BrandingInfo.of(get_branding(session, tenant_id=tenant.id))

        stored, self.error = attempt(run)
        if stored is None:
            return None
        url, info = stored
        if kind == "logo":
            self.logo_url = url
        await self._broadcast(tenant, info)
        return rx.toast.success(f"{kind.title()} uploaded.")

    @rx.event
    async def upload_logo(self, files: list[rx.UploadFile]):
        return await self._store("logo", files)

    @rx.event
    async def upload_favicon(self, files: list[rx.UploadFile]):
        return await self._store("favicon", files)
