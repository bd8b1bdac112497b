"""Sign-up, the email links (verify, change email) and the password reset pages. Hashing runs
off the event loop (ezscale.blocking)."""

import reflex as rx

from ezscale.blocking import run_blocking
from ezscale.errors import DomainError
from ezscale.services.accounts import auth
from ezscale.services.fx.currencies import tenant_currencies, visitor_currency
from ezscale.services.tenancy.tenants import TenantInfo, tenant_session
from ezscale.state.auth import AuthState


def _sign_up(tenant: TenantInfo, form: dict, client: auth.Client) -> None:
    with tenant_session(tenant) as session:
        auth.sign_up(
            session,
            tenant=tenant,
            email=form.get("email", ""),
            password=form.get("password", ""),
            name=form.get("name", ""),
            client=client,
            confirm=form.get("confirm", ""),
            currency=form.get("currency", ""),
        )


def _reset(tenant: TenantInfo, token: str, password: str) -> None:
    with tenant_session(tenant) as session:
        auth.reset_password(session, token=token, new_password=password)


class SignupState(AuthState):
    error: str = ""
    message: str = ""
    done: bool = False
    # The currencies a new customer may choose (the base first); one: no choice is shown.
    currencies: list[str] = []

    @rx.event
    def load_form(self):
        self.error, self.message, self.done = "", "", False
        tenant = self._resolve()
        if tenant is not None:
            with tenant_session(tenant) as session:
                self.currencies = list(tenant_currencies(session).enabled)
                # The one the visitor picked on the storefront first, so it is preselected.
                chosen = visitor_currency(session, self.visitor_currency)
                self.currencies = [chosen, *(c for c in self.currencies if c != chosen)]
        self._user()

    @rx.event
    async def submit_signup(self, form: dict):
        tenant = self._resolve()
        if tenant is None:
            return
        try:
            await run_blocking(_sign_up, tenant, form, self._client())
        except DomainError as error:
            self.error = str(error)
            return
        self.error, self.done = "", True
        self.message = "Check your inbox: we sent you a link to confirm your email address."

    @rx.event
    def load_verify(self):
        """The verify-email link: confirms a new account or a changed address."""
        self.error, self.message, self.done = "", "", False
        tenant = self._resolve()
        if tenant is None:
            return
        try:
            with tenant_session(tenant) as session:
                _, self.message = auth.follow_link(
                    session, token=self.router.url.query_parameters.get("token", "")
                )
            self.done = True
        except DomainError as error:
            self.error = str(error)
        self._user()

    @rx.event
    def submit_forgot(self, form: dict):
        tenant = self._resolve()
        if tenant is None:
            return
        try:
            with tenant_session(tenant) as session:
                auth.request_password_reset(
                    session, tenant=tenant, email=form.get("email", ""), client=self._client()
                )
        except DomainError as error:
            self.error = str(error)
            return
        self.error, self.done = "", True
        self.message = "If an account exists for that address, we sent it a link to choose a new password."

    @rx.event
    async def submit_reset(self, form: dict):
        tenant = self._resolve()
        if tenant is None:
            return
        if form.get("password", "") != form.get("confirm", ""):
            self.error = "The two passwords do not match."
            return
        try:
            await run_blocking(
                _reset, tenant, self.router.url.query_parameters.get("token", ""), form.get("password", "")
            )
        except DomainError as error:
            self.error = str(error)
            return
        self.error, self.done = "", True
        self.message = "Your password was changed and every session was signed out. Please sign in."
