"""Sign-up, the email links (verify, change email) and the password reset pages."""

import reflex as rx

from ezscale.services import auth
from ezscale.services.errors import DomainError
from ezscale.services.tenancy import tenant_session
from ezscale.state.auth import AuthState


class SignupState(AuthState):
    error: str = ""
    message: str = ""
    done: bool = False

    @rx.event
    def load_form(self):
        self.error, self.message, self.done = "", "", False
        self._user()

    @rx.event
    def submit_signup(self, form: dict):
        tenant = self._resolve()
        if tenant is None:
            return
        if form.get("password", "") != form.get("confirm", ""):
            self.error = "The two passwords do not match."
            return
        try:
            with tenant_session(tenant) as session:
                auth.sign_up(
                    session,
                    tenant=tenant,
                    email=form.get("email", ""),
                    password=form.get("password", ""),
                    name=form.get("name", ""),
                    base_url=self._origin(),
                )
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
        with tenant_session(tenant) as session:
            auth.request_password_reset(
                session, tenant=tenant, email=form.get("email", ""), base_url=self._origin()
            )
        self.done = True
        self.message = "If an account exists for that address, we sent it a link to choose a new password."

    @rx.event
    def submit_reset(self, form: dict):
        tenant = self._resolve()
        if tenant is None:
            return
        if form.get("password", "") != form.get("confirm", ""):
            self.error = "The two passwords do not match."
            return
        try:
            with tenant_session(tenant) as session:
                auth.reset_password(
                    session,
                    token=self.router.url.query_parameters.get("token", ""),
                    new_password=form.get("password", ""),
                )
        except DomainError as error:
            self.error = str(error)
            return
        self.error, self.done = "", True
        self.message = "Your password was changed and every session was signed out. Please sign in."
