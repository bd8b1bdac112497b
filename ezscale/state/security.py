"""Second factors of the signed-in user: TOTP (QR, confirm, recovery codes) and passkeys."""

import json

import reflex as rx

from ezscale import routes
from ezscale.blocking import run_blocking
from ezscale.errors import DomainError
from ezscale.services.accounts import auth, passkeys, two_factor
from ezscale.services.tenancy.tenants import tenant_session
from ezscale.state.auth import AuthState
from ezscale.state.messages import attempt

# Runs in the browser: create a credential for these options and hand back its JSON.
PASSKEY_CREATE_JS = """(async () => {
  try {
    const options = PublicKeyCredential.parseCreationOptionsFromJSON(%s);
    const credential = await navigator.credentials.create({publicKey: options});
    return JSON.stringify(credential.toJSON());
  } catch (e) { return "error:" + e.name; }
})()"""


class SecurityState(AuthState):
    totp_on: bool = False
    qr: str = ""  # data: URI of the enrolment QR code (the user's own secret, shown once)
    secret: str = ""
    recovery_codes: list[str] = []
    codes_left: int = 0
    keys: list[passkeys.PasskeyRow] = []
    passkey_name: str = ""
    error: str = ""
    message: str = ""
    _challenge: str = ""

    def _me(self):
        user = self._user()
        return (user, self._tenant()) if user and not user.is_admin else (None, None)

    def _refresh(self, session, user_id: int) -> None:
        me = auth.get_user(session, user_id=user_id)
        self.totp_on = me.totp_enabled_at is not None
        self.codes_left = two_factor.remaining_recovery_codes(session, user_id=user_id)
        self.keys = passkeys.passkey_rows(session, user_id=user_id)

    def _run(self, action, success: str = ""):
        user, tenant = self._me()
        if user is None:
            return rx.redirect(f"{routes.LOGIN}?next={routes.ACCOUNT_SECURITY}")

        def run() -> None:
            with tenant_session(tenant) as session:
                action(session, auth.get_user(session, user_id=user.id), tenant)
                self._refresh(session, user.id)

        _, self.error = attempt(run)
        self.message = "" if self.error else success
        return None

    @rx.event
    def load(self):
        self.qr = self.secret = ""
        self.recovery_codes = []
        return self._run(lambda s, u, t: None)

    @rx.event
    def start_totp(self):
        def begin(session, me, tenant):
            enrolment = two_factor.begin(session, account=me, issuer=tenant.name)
            self.qr, self.secret = enrolment.qr, enrolment.secret

        return self._run(begin)

    @rx.event
    def confirm_totp(self, form: dict):
        def confirm(session, me, tenant):
            self.recovery_codes = two_factor.confirm(session, account=me, code=form.get("code", ""))
            self.qr = self.secret = ""

        return self._run(confirm, "Two-factor authentication is on. Keep your recovery codes safe.")

    @rx.event
    def new_recovery_codes(self):
        def regenerate(session, me, tenant):
            if me.totp_enabled_at is None:
                raise DomainError("Turn on two-factor authentication first.")
            self.recovery_codes = two_factor.regenerate_recovery_codes(session, user=me)

        return self._run(regenerate, "New recovery codes; the old ones no longer work.")

    @rx.event
    async def disable_totp(self, form: dict):
        """Checks the password (argon2) off the event loop."""
        user, tenant = self._me()
        if user is None:
            return rx.redirect(f"{routes.LOGIN}?next={routes.ACCOUNT_SECURITY}")

        def disable() -> None:
            with tenant_session(tenant) as session:
                me = auth.get_user(session, user_id=user.id)
                two_factor.disable(session, account=me, password=form.get("password", ""))

        try:
            await run_blocking(disable)
        except DomainError as error:
            self.error, self.message = str(error), ""
            return None
        return self._run(lambda s, me, t: None, "Two-factor authentication is off.")

    @rx.event
    def set_passkey_name(self, name: str):
        self.passkey_name = name[:60]

    @rx.event
    def start_passkey(self):
        user, tenant = self._me()
        if user is None:
            return rx.redirect(routes.LOGIN)
        try:
            with tenant_session(tenant) as session:
                challenge = passkeys.registration_options(
                    session, user_id=user.id, rp_id=self.host, rp_name=tenant.name
                )
        except DomainError as error:
            self.error = str(error)
            return None
        self._challenge = challenge.challenge
        return rx.call_script(
            PASSKEY_CREATE_JS % json.dumps(json.loads(challenge.options_json)),
            callback=SecurityState.finish_passkey,
        )

    @rx.event
    def finish_passkey(self, result: str):
        challenge, self._challenge = self._challenge, ""
        if not isinstance(result, str) or result.startswith("error:"):
            self.error = "Adding the passkey was cancelled."
            return None
        return self._run(
            lambda s, me, t: passkeys.finish_registration(
                s,
                user_id=me.id,
                rp_id=self.host,
                origin=self._origin(),
                credential_json=result,
                challenge=challenge,
                name=self.passkey_name,
            ),
            "Passkey added.",
        )

    @rx.event
    def rename_passkey(self, form: dict):
        return self._run(
            lambda s, me, t: passkeys.rename_passkey(
                s, user_id=me.id, passkey_id=int(form.get("id", 0) or 0), name=form.get("name", "")
            ),
            "Passkey renamed.",
        )

    @rx.event
    def remove_passkey(self, passkey_id: str):
        return self._run(
            lambda s, me, t: passkeys.remove_passkey(s, user_id=me.id, passkey_id=int(passkey_id or 0)),
            "Passkey removed.",
        )
