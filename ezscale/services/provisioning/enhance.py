"""Web hosting on Enhance: the provisioning module.

Plan mapping: `package` is the Enhance plan id; option `server_group_id` places the website.

Panel config: `base_url` is the panel (`/api` is added unless given); credential `access_token`
(master org, or a reseller org's Owner); option `reseller_org_id` (the org whose plans are sold;
required) and `force_delete` = "1" (terminate wipes data instead of a soft delete).

Handles: Enhance has no external-id fields. The customer org is named with a `[ezs-<customer
id>]` tag and the subscription's `friendlyName` is `ezscale-service-<service id>`, so `find` and
a repeated `create` adopt what an earlier, timed-out create made; the ids are also returned
(`customer_external_id` = org uuid, `external_id` = subscription id) for the caller to keep.
There is no capacity API: a plan that exists is in stock (`Stock(None)`); a refusal for lack of
resources at create is OutOfStock.
"""

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import ClassVar

from ezscale.services.provisioning.enhance_client import (
    PRODUCT,
    EnhanceClient,
    EnhanceLogin,
    EnhanceOrg,
    EnhanceSubscription,
    EnhanceWebsite,
)
from ezscale.services.provisioning.module import (
    BuildState,
    Capability,
    Customer,
    GoneFromPanel,
    OsChoice,
    OutOfStock,
    PanelConfig,
    PanelRejected,
    PanelUnavailable,
    PlanMapping,
    PowerAction,
    ServiceDetails,
    ServiceRef,
    Stock,
    UsageMetric,
)
from ezscale.services.provisioning.panel_http import PanelRefused, client_options, together

# Checked before anything is made for a new website, so a refused domain leaves no subscription behind.
DOMAIN_TAKEN = frozenset({"inUseAnotherOrg", "prohibited"})
BYTE_RESOURCES = frozenset({"diskspace", "transfer", "bandwidth"})
# Enhance documents no error bodies: a refusal naming any of these is read as "no resources left".
NO_RESOURCES_WORDS = ("insufficient", "quota", "resources", "limit reached", "no capacity")


def _tag(customer: Customer) -> str:
    return f"[ezs-{customer.id}]"


def _friendly_name(service: ServiceRef) -> str:
    return f"ezscale-service-{service.service_id}"


def _plan_id(plan: PlanMapping) -> int:
    if not plan.package.strip().isdigit():
        raise PanelRejected(f"The plan's {PRODUCT} package must be the plan id, not {plan.package!r}.")
    return int(plan.package)


def _no_resources(error: PanelRefused) -> bool:
    text = f"{error.code} {error.detail}".lower()
    return error.status in (400, 403, 422) and any(word in text for word in NO_RESOURCES_WORDS)


def _live_site(sites: list[EnhanceWebsite]) -> EnhanceWebsite | None:
    return next((s for s in sites if s.status != "deleted"), None)


def _details(
    org_id: str,
    sub: EnhanceSubscription,
    site: EnhanceWebsite | None,
    *,
    member_id: str = "",
    login: str = "",
    password: str = "",
) -> ServiceDetails:
    if sub.suspended_by:
        state = BuildState.SUSPENDED
    elif site is None or not site.server_ips:
        # The website set-up status is not in the reference: no server IP yet is read as building.
        state = BuildState.BUILDING
    else:
        state = BuildState.READY
    extra = {"org_id": org_id} | ({"website_id": site.id} if site else {})
    return ServiceDetails(
        external_id=str(sub.id),
        customer_external_id=org_id,
        state=state,
        hostname=site.domain if site else "",
        ips=site.server_ips if site else (),
        username=login if password else "",
        password=password,
        extra=extra | ({"member_id": member_id} if member_id else {}),
    )


class EnhanceModule:
    """Web hosting on one Enhance installation."""

    name: ClassVar[str] = "enhance"
    label: ClassVar[str] = "Enhance (web hosting)"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.CHANGE_PACKAGE, Capability.SSO, Capability.USAGE}
    )
    power_actions: ClassVar[tuple[PowerAction, ...]] = ()

    def __init__(self, config: PanelConfig) -> None:
        """A module for one configured panel."""
        self.config = config

    @property
    def _reseller(self) -> str:
        org = str(self.config.options.get("reseller_org_id") or "")
        if not org:
            raise PanelRejected(f"No {PRODUCT} reseller org id is configured for this panel.")
        return org

    @contextmanager
    def _client(self) -> Iterator[EnhanceClient]:
        token = self.config.credentials.get("access_token", "")
        if not token:
            raise PanelRejected(f"No {PRODUCT} access token is configured for this panel.")
        with EnhanceClient(
            base_url=self.config.base_url,
            token=token,
            **client_options(self.config, PRODUCT),
        ) as client:
            yield client

    def _check_plan(self, client: EnhanceClient, plan: PlanMapping) -> int:
        plan_id = _plan_id(plan)
        if not any(p.id == plan_id for p in client.plans(self._reseller)):
            raise PanelRejected(f"{PRODUCT} has no plan {plan_id} for the configured reseller org.")
        return plan_id

    def _find_org(
        self, client: EnhanceClient, customer: Customer, *, tagged: bool = False
    ) -> EnhanceOrg | None:
        """The customer's org: tagged with our id, else (unless `tagged`) owned by their e-mail."""
        orgs = [o for o in client.customers(self._reseller) if o.status != "deleted"]
        found = next((o for o in orgs if _tag(customer) in o.name), None)
        if found is not None or tagged:
            return found
        return next((o for o in orgs if o.owner_email.lower() == customer.email.lower()), None)

    def _locate(
        self, client: EnhanceClient, service: ServiceRef, customer: Customer | None = None
    ) -> tuple[str, EnhanceSubscription]:
        """Our service's customer org and live subscription; GoneFromPanel when there is none."""
        org_id = service.customer_external_id or service.extra.get("org_id", "")
        if not org_id and customer is not None:
            org = self._find_org(client, customer)
            org_id = org.id if org else ""
        elif not org_id:
            org_id = self._org_holding(client, service)
        if not org_id:
            raise GoneFromPanel(f"The hosting account is not on {PRODUCT}.")
        sub: EnhanceSubscription | None
        if service.external_id and service.external_id.isdigit():
            sub = client.subscription(org_id, int(service.external_id))
        else:
            subs = client.subscriptions(self._reseller, org_id)
            sub = next(
                (s for s in subs if s.friendly_name == _friendly_name(service) and s.status != "deleted"),
                None,
            )
            if sub is None:
                raise GoneFromPanel(f"The hosting subscription is not on {PRODUCT}.")
        if sub.status == "deleted":
            raise GoneFromPanel(f"The hosting subscription was deleted on {PRODUCT}.")
        return org_id, sub

    def _org_holding(self, client: EnhanceClient, service: ServiceRef) -> str:
        """Slow path for a caller that never got the org id (a create that failed part-way): the
        tagged customer org whose subscriptions include our service's friendly name, or ""."""
        for org in client.customers(self._reseller):
            if "[ezs-" in org.name and org.status != "deleted":
                subs = client.subscriptions(self._reseller, org.id)
                if any(s.friendly_name == _friendly_name(service) for s in subs):
                    return org.id
        return ""

    def _located_id(self, client: EnhanceClient, service: ServiceRef) -> int | None:
        """The id of the service's live subscription, or None."""
        try:
            return self._locate(client, service)[1].id
        except GoneFromPanel:
            return None

    def _site(self, client: EnhanceClient, org_id: str, sub: EnhanceSubscription) -> EnhanceWebsite | None:
        return _live_site(client.websites(org_id, subscription_id=sub.id))

    def test_connection(self) -> str:
        """Read the reseller org."""
        with self._client() as client:
            try:
                org = client.org(self._reseller)
            except GoneFromPanel:
                raise PanelRejected(f"{PRODUCT} has no org {self._reseller} (the reseller org id).") from None
        return f"{PRODUCT} answered: org {org.name or org.id}."

    def check_capacity(self, plan: PlanMapping) -> Stock:
        """No capacity API: the plan existing is all that is checked."""
        with self._client() as client:
            plan_id = self._check_plan(client, plan)
        return Stock(available=None, detail=f"plan {plan_id} exists; {PRODUCT} has no capacity API")

    def find(self, customer: Customer, service: ServiceRef) -> ServiceDetails | None:
        """The subscription tagged with our service id (or the stored ids), or None."""
        with self._client() as client:
            try:
                org_id, sub = self._locate(client, service, customer)
            except GoneFromPanel:
                return None
            return _details(org_id, sub, self._site(client, org_id, sub))

    def _login_of(self, client: EnhanceClient, customer: Customer) -> EnhanceLogin | None:
        """The login with the customer's e-mail, or None."""
        return next(
            (x for x in client.logins(self._reseller) if x.email.lower() == customer.email.lower()), None
        )

    def _owner(
        self, client: EnhanceClient, org_id: str, customer: Customer, *, new_org: bool = False
    ) -> tuple[str, str]:
        """The org's Owner member, made from a new login (or the e-mail's existing one):
        (member id, the new login's password or ""). An org this call made has no members yet."""
        members = [] if new_org else client.members(org_id)
        owner = next((m for m in members if "Owner" in m.roles), None)
        if owner is not None:
            return owner.id, ""
        made_password = secrets.token_urlsafe(15)
        try:
            # Adopted while late: no password handed back (a login with the e-mail may be older).
            login_id, password = client.create_once(
                lambda: (
                    client.create_login(
                        org_id, email=customer.email, name=customer.name, password=made_password
                    ),
                    made_password,
                ),
                lambda: None if (found := self._login_of(client, customer)) is None else (found.id, ""),
            )
        except (PanelRefused, PanelUnavailable) as error:
            if isinstance(error, PanelRefused) and error.status != 409:
                raise
            login = self._login_of(client, customer)
            if login is None:
                raise
            login_id, password = login.id, ""
        try:
            member_id = client.create_once(
                lambda: client.add_member(org_id, login_id=login_id, roles=["Owner"]),
                lambda: next((m.id for m in client.members(org_id) if m.login_id == login_id), None),
            )
            return member_id, password
        except (PanelRefused, PanelUnavailable) as error:
            if isinstance(error, PanelRefused) and error.status != 409:
                raise
            member = next((m for m in client.members(org_id) if m.login_id == login_id), None)
            if member is None:
                raise
            return member.id, password

    def _org(self, client: EnhanceClient, customer: Customer, found: EnhanceOrg | None) -> tuple[str, bool]:
        """The customer's org (`found` by `_find_org`, else made now): (its id, whether made now)."""
        if found is not None:
            return found.id, False
        try:
            name = f"{customer.name} {_tag(customer)}".strip()
            made = client.create_once(
                lambda: client.create_customer(self._reseller, name=name),
                lambda: getattr(self._find_org(client, customer, tagged=True), "id", None),
            )
            return made, True
        except PanelUnavailable:
            org = self._find_org(client, customer)  # made after all
            if org is None:
                raise
            return org.id, False

    def _subscription(
        self, client: EnhanceClient, org_id: str, service: ServiceRef, plan_id: int
    ) -> tuple[EnhanceSubscription, bool]:
        """Find-or-create the service's subscription: (it, whether this call made it)."""
        ref = ServiceRef(service.service_id, service.external_id, org_id)
        if not service.fresh:  # a first attempt has made nothing to find
            try:
                return self._locate(client, ref)[1], False
            except GoneFromPanel:
                pass
        unsaved = ServiceRef(service.service_id, None, org_id)
        try:
            sub_id = client.create_once(
                lambda: client.create_subscription(
                    self._reseller, org_id, plan_id=plan_id, friendly_name=_friendly_name(service)
                ),
                lambda: self._located_id(client, unsaved),
            )
        except PanelUnavailable:
            try:  # the create may have happened: adopt it by its friendly name
                return self._locate(client, unsaved)[1], True
            except GoneFromPanel:
                raise PanelUnavailable(f"{PRODUCT} did not confirm the subscription; try again.") from None
        except PanelRefused as error:
            if _no_resources(error):
                raise OutOfStock(f"{PRODUCT} has no resources left for this plan.") from error
            raise
        # Just made: active, not suspended, nothing used yet (no need to read it back).
        return EnhanceSubscription(sub_id, plan_id, "active", "", _friendly_name(service), ()), True

    def _website(
        self,
        client: EnhanceClient,
        org_id: str,
        sub: EnhanceSubscription,
        domain: str,
        group: str,
        *,
        new_sub: bool = False,
    ) -> EnhanceWebsite:
        site = None if new_sub else self._site(client, org_id, sub)  # a new subscription has none
        if site is not None:
            return site
        try:
            site_id = client.create_once(
                lambda: client.create_website(
                    org_id, domain=domain, subscription_id=sub.id, server_group_id=group
                ),
                lambda: getattr(self._site(client, org_id, sub), "id", None),
            )
            # Just made: no server address yet (building), so no need to read it back.
            return EnhanceWebsite(site_id, domain, "active", sub.id, ())
        except PanelUnavailable:
            pass  # looked up below: made after all, or left for the next attempt
        except PanelRefused as error:
            if _no_resources(error):
                raise OutOfStock(f"{PRODUCT} has no room for the website right now.") from error
            if error.status == 409 and self._site(client, org_id, sub) is None:
                raise PanelRejected(f"The domain {domain} is already hosted on {PRODUCT}.") from error
            if error.status != 409:
                raise
        site = self._site(client, org_id, sub)
        if site is None:
            raise PanelUnavailable(f"{PRODUCT} did not confirm the website; it will be looked up again.")
        return site

    def create(
        self, customer: Customer, service: ServiceRef, plan: PlanMapping, *, hostname: str
    ) -> ServiceDetails:
        """Find-or-create the customer org, then at once its Owner login and, after a domain
        check, the subscription and the website (independent calls go out together)."""
        if not hostname:
            raise PanelRejected("A web hosting service needs a domain name.")
        domain, group = hostname.lower(), str(plan.options.get("server_group_id") or "")
        with self._client() as client:
            stored = service.customer_external_id or service.extra.get("org_id", "")
            plan_id, found = together(
                lambda: self._check_plan(client, plan),
                lambda: None if stored else self._find_org(client, customer),
            )
            org_id, new_org = (stored, False) if stored else self._org(client, customer, found)
            (sub, site), (member_id, password) = together(
                lambda: self._hosting(client, org_id, service, plan_id, domain, group),
                lambda: self._owner(client, org_id, customer, new_org=new_org),
            )
            return _details(org_id, sub, site, member_id=member_id, login=customer.email, password=password)

    def _hosting(
        self, client: EnhanceClient, org_id: str, service: ServiceRef, plan_id: int, domain: str, group: str
    ) -> tuple[EnhanceSubscription, EnhanceWebsite]:
        """The subscription (made while the domain is checked) and its website; a domain that
        cannot be hosted leaves no subscription this call made behind."""
        status, (sub, made) = together(
            lambda: client.domain_status(org_id, domain),
            lambda: self._subscription(client, org_id, service, plan_id),
        )
        try:
            if status in DOMAIN_TAKEN:
                raise PanelRejected(
                    f"The domain {domain} cannot be hosted here: it is in use or not allowed."
                )
            return sub, self._website(client, org_id, sub, domain, group, new_sub=made)
        except (OutOfStock, PanelRejected):
            if made:  # no website will come: leave no subscription behind
                client.delete_subscription(org_id, sub.id)
            raise

    def status(self, service: ServiceRef) -> ServiceDetails:
        """Subscription and website: suspended, building (no server IP yet) or ready. With the
        stored ids both are read at once."""
        org_id = service.customer_external_id or service.extra.get("org_id", "")
        with self._client() as client:
            if not (org_id and service.external_id and service.external_id.isdigit()):
                org_id, sub = self._locate(client, service)
                return _details(org_id, sub, self._site(client, org_id, sub))
            sub_id = int(service.external_id)
            sub, sites = together(
                lambda: client.subscription(org_id, sub_id),
                lambda: client.websites(org_id, subscription_id=sub_id),
            )
            if sub.status == "deleted":
                raise GoneFromPanel(f"The hosting subscription was deleted on {PRODUCT}.")
            return _details(org_id, sub, _live_site(sites))

    def suspend(self, service: ServiceRef, *, reason: str) -> None:
        """Suspend the subscription (its websites go with it)."""
        with self._client() as client:
            org_id, sub = self._locate(client, service)
            client.update_subscription(org_id, sub.id, isSuspended=True)

    def unsuspend(self, service: ServiceRef) -> None:
        """Lift the subscription's suspension."""
        with self._client() as client:
            org_id, sub = self._locate(client, service)
            client.update_subscription(org_id, sub.id, isSuspended=False)

    def terminate(self, service: ServiceRef) -> None:
        """Delete the subscription (soft unless `force_delete`); the org stays for other services."""
        with self._client() as client:
            org_id, sub = self._locate(client, service)
            client.delete_subscription(org_id, sub.id, force=self.config.options.get("force_delete") == "1")

    def change_package(self, service: ServiceRef, plan: PlanMapping) -> None:
        """Move the subscription to another plan."""
        with self._client() as client:
            plan_id = self._check_plan(client, plan)
            org_id, sub = self._locate(client, service)
            client.update_subscription(org_id, sub.id, planId=plan_id)

    def sso_url(self, customer: Customer, service: ServiceRef) -> str:
        """A one-time login URL for the org's Owner (generate per click)."""
        with self._client() as client:
            org_id, _ = self._locate(client, service, customer)
            member_id = service.extra.get("member_id") or next(
                (m.id for m in client.members(org_id) if "Owner" in m.roles and m.active), ""
            )
            if not member_id:
                raise PanelRejected(f"The hosting account on {PRODUCT} has no active owner to sign in as.")
            return client.sso_url(org_id, member_id)

    def usage(self, service: ServiceRef) -> tuple[UsageMetric, ...]:
        """The subscription's resources (disk, transfer, websites, mailboxes…) and this month's bandwidth."""
        with self._client() as client:
            org_id, sub = self._locate(client, service)
            bandwidth = client.bandwidth(org_id, sub.id)
        metrics = []
        for r in sub.resources:
            name = r.name.replace("mysqlDbs", "databases")
            unit = "bytes" if r.name in BYTE_RESOURCES else name  # counts: "3 of 5 websites"
            metrics.append(UsageMetric(name.capitalize(), r.usage, r.total or 0, unit))
        return (*metrics, UsageMetric("Bandwidth this month", bandwidth, 0, "bytes"))

    def power(self, service: ServiceRef, action: PowerAction) -> None:
        """Not offered (no Capability.POWER): web hosting has no power actions."""
        raise PanelRejected(f"{PRODUCT} web hosting has no power actions.")

    def os_choices(self, service: ServiceRef) -> tuple[OsChoice, ...]:
        """Not offered (no Capability.REINSTALL)."""
        return ()

    def reinstall(self, service: ServiceRef, os_id: str) -> ServiceDetails:
        """Not offered (no Capability.REINSTALL)."""
        raise PanelRejected(f"{PRODUCT} web hosting cannot be reinstalled.")
