"""A thin httpx client of the Enhance control panel API (orchd, `https://<panel>/api`).

Bearer access token of the master org (or a reseller org's Owner). Creates answer 201
`{"id": ...}`, PATCH/DELETE 204, lists `{"items": [...], "total": N}`. The spec names error
statuses without bodies: error bodies are read tolerantly (`{"code", "message"}` or `detail`
or plain text), and the SSO reply may be a JSON string or text/plain (both accepted).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ezscale.services.provisioning.module import GoneFromPanel, PanelUnavailable
from ezscale.services.provisioning.panel_http import (
    DEFAULT_BACKOFF,
    CreatesOnce,
    PanelHttp,
    PanelRefused,
    Reply,
    as_int,
    is_json,
    json_object,
)

PRODUCT = "Enhance"


@dataclass(frozen=True, slots=True)
class EnhanceOrg:
    """An org (the MO, a reseller or a customer)."""

    id: str
    name: str
    status: str
    owner_email: str


@dataclass(frozen=True, slots=True)
class EnhanceLogin:
    """A login (an e-mail in a realm)."""

    id: str
    email: str


@dataclass(frozen=True, slots=True)
class EnhanceMember:
    """A login's membership of an org, with its roles."""

    id: str
    login_id: str
    roles: tuple[str, ...]
    active: bool


@dataclass(frozen=True, slots=True)
class EnhancePlan:
    """A hosting plan the reseller sells."""

    id: int
    name: str
    server_group_id: str


@dataclass(frozen=True, slots=True)
class EnhanceResource:
    """One subscription resource: usage of total (None = unlimited)."""

    name: str
    usage: int
    total: int | None


@dataclass(frozen=True, slots=True)
class EnhanceSubscription:
    """A customer's subscription to a plan (suspension shows as `suspended_by`)."""

    id: int
    plan_id: int
    status: str
    suspended_by: str
    friendly_name: str
    resources: tuple[EnhanceResource, ...]


@dataclass(frozen=True, slots=True)
class EnhanceWebsite:
    """A website of a subscription."""

    id: str
    domain: str
    status: str
    subscription_id: int
    server_ips: tuple[str, ...]


def _error_text(body: Any, text: str) -> tuple[str, str]:  # noqa: ANN401 (a parsed body)
    """(code, message) from `{"code", "message"}` or `detail` (bodies are unspecified)."""
    if is_json(body) and isinstance(body, dict):
        return str(body.get("code") or ""), str(body.get("message") or body.get("detail") or "")
    return "", "" if text.lstrip().startswith("<") else text.strip()[:200]


def _rows(reply: Reply) -> list[dict[str, Any]]:
    items = json_object(reply, product=PRODUCT).get("items")
    if not isinstance(items, list):
        raise PanelUnavailable(f"{PRODUCT} sent a list we could not read.")
    return [row for row in items if isinstance(row, dict)]


def _created_id(reply: Reply) -> Any:  # noqa: ANN401 (a uuid or an integer)
    value = json_object(reply, product=PRODUCT).get("id")
    if value in (None, ""):
        raise PanelUnavailable(f"{PRODUCT} sent a reply we could not read (no id).")
    return value


def _text(row: Mapping[str, Any], key: str) -> str:
    value = row.get(key)
    return "" if value is None else str(value)


def _subscription(row: Mapping[str, Any]) -> EnhanceSubscription:
    resources = []
    for r in row.get("resources") or []:
        if isinstance(r, dict) and r.get("name"):
            total = r.get("total")
            resources.append(
                EnhanceResource(
                    name=str(r["name"]),
                    usage=as_int(r.get("usage") or 0, product=PRODUCT, field="resources.usage"),
                    total=None if total is None else as_int(total, product=PRODUCT, field="resources.total"),
                )
            )
    return EnhanceSubscription(
        id=as_int(row.get("id"), product=PRODUCT, field="subscription.id"),
        plan_id=as_int(row.get("planId"), product=PRODUCT, field="subscription.planId"),
        status=_text(row, "status") or "active",
        suspended_by=_text(row, "suspendedBy"),
        friendly_name=_text(row, "friendlyName"),
        resources=tuple(resources),
    )


def _website(row: Mapping[str, Any]) -> EnhanceWebsite:
    domain = row.get("domain")
    return EnhanceWebsite(
        id=_text(row, "id"),
        domain=str(domain.get("domain") or "") if isinstance(domain, dict) else str(domain or ""),
        status=_text(row, "status"),
        subscription_id=as_int(
            row.get("subscriptionId") or 0, product=PRODUCT, field="website.subscriptionId"
        ),
        server_ips=tuple(str(ip) for ip in row.get("serverIps") or [] if ip),
    )


class EnhanceClient(CreatesOnce):
    """One Enhance installation. Use as a context manager, or call `close()`."""

    def __init__(
        self,
        *,
        base_url: str,
        token: str,
        timeout: float = 30.0,
        create_timeout: float = 120.0,
        retries: int = 2,
        backoff: float = DEFAULT_BACKOFF,
    ) -> None:
        """`base_url` is the panel (`https://<panel>`) or its API root (`…/api`)."""
        root = base_url.strip().rstrip("/")
        self._http = PanelHttp(
            product=PRODUCT,
            base_url=root if root.endswith("/api") else f"{root}/api",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            timeout=timeout,
            create_timeout=create_timeout,
            retries=retries,
            backoff=backoff,
            error_text=_error_text,
        )

    def __enter__(self) -> "EnhanceClient":
        """Use as a context manager so the HTTP connections are closed."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Close the HTTP connections when the block ends."""
        self.close()

    def close(self) -> None:
        """Close the HTTP connections."""
        self._http.close()

    def _get(self, path: str, params: Mapping[str, Any] | None = None) -> Reply:
        return self._http.request("GET", path, params=params, safe=True)

    def _create(self, path: str, body: dict[str, Any], params: Mapping[str, Any] | None = None) -> Any:  # noqa: ANN401
        return _created_id(
            self._http.request("POST", path, body=body, params=params, safe=False, create=True)
        )

    # --- orgs, logins, members --------------------------------------------------------------

    def org(self, org_id: str) -> EnhanceOrg:
        """An org; GoneFromPanel when it does not exist."""
        try:
            row = json_object(self._get(f"/orgs/{org_id}"), product=PRODUCT)
        except PanelRefused as error:
            if error.status == 404:
                raise GoneFromPanel(f"The customer account is no longer on {PRODUCT}.") from error
            raise
        return EnhanceOrg(
            _text(row, "id"), _text(row, "name"), _text(row, "status"), _text(row, "ownerEmail")
        )

    def customers(self, reseller_id: str) -> list[EnhanceOrg]:
        """The reseller's customer orgs (one page of up to 1000)."""
        rows = _rows(self._get(f"/orgs/{reseller_id}/customers", {"limit": 1000}))
        return [
            EnhanceOrg(_text(r, "id"), _text(r, "name"), _text(r, "status"), _text(r, "ownerEmail"))
            for r in rows
        ]

    def create_customer(self, reseller_id: str, *, name: str) -> str:
        """A new customer org; its uuid."""
        return str(self._create(f"/orgs/{reseller_id}/customers", {"name": name}))

    def create_login(self, org_id: str, *, email: str, name: str, password: str) -> str:
        """A login in the org's realm; 409 (PanelRefused) when the e-mail is taken there."""
        body = {"email": email, "name": name, "password": password}
        return str(self._create("/logins", body, {"orgId": org_id}))

    def logins(self, reseller_id: str) -> list[EnhanceLogin]:
        """Logins of the reseller's customers (which listing holds a realm's logins is unverified)."""
        rows = _rows(self._get(f"/v2/orgs/{reseller_id}/customers/logins", {"limit": 1000}))
        return [EnhanceLogin(_text(r, "id"), _text(r, "email")) for r in rows]

    def add_member(self, org_id: str, *, login_id: str, roles: list[str]) -> str:
        """Make a login a member of an org; 409 (PanelRefused) when it already is."""
        return str(self._create(f"/orgs/{org_id}/members", {"loginId": login_id, "roles": roles}))

    def members(self, org_id: str) -> list[EnhanceMember]:
        """An org's members."""
        rows = _rows(self._get(f"/orgs/{org_id}/members"))
        return [
            EnhanceMember(
                _text(r, "id"),
                _text(r, "loginId"),
                tuple(str(x) for x in r.get("roles") or []),
                r.get("isActive") is not False,
            )
            for r in rows
        ]

    def sso_url(self, org_id: str, member_id: str) -> str:
        """A one-time login URL (201 with a JSON string; text/plain seen too: both accepted)."""
        reply = self._get(f"/orgs/{org_id}/members/{member_id}/sso")
        url = reply.body if isinstance(reply.body, str) else reply.text.strip().strip('"')
        if not url.startswith("http"):
            raise PanelUnavailable(f"{PRODUCT} sent a sign-in link we could not read.")
        return url

    # --- plans, subscriptions, websites -----------------------------------------------------

    def plans(self, reseller_id: str) -> list[EnhancePlan]:
        """The reseller's plans."""
        rows = _rows(self._get(f"/orgs/{reseller_id}/plans", {"limit": 1000}))
        return [
            EnhancePlan(
                as_int(r.get("id"), product=PRODUCT, field="plan.id"),
                _text(r, "name"),
                _text(r, "serverGroupId"),
            )
            for r in rows
        ]

    def create_subscription(
        self, reseller_id: str, customer_id: str, *, plan_id: int, friendly_name: str
    ) -> int:
        """Subscribe a customer to a plan; the new subscription id."""
        value = self._create(
            f"/orgs/{reseller_id}/customers/{customer_id}/subscriptions",
            {"planId": plan_id, "friendlyName": friendly_name},
        )
        return as_int(value, product=PRODUCT, field="id")

    def subscriptions(self, reseller_id: str, customer_id: str) -> list[EnhanceSubscription]:
        """A customer's subscriptions from this reseller."""
        rows = _rows(self._get(f"/orgs/{reseller_id}/customers/{customer_id}/subscriptions", {"limit": 1000}))
        return [_subscription(r) for r in rows]

    def _on_subscription(self, method: str, path: str, body: Any = None, params: Any = None) -> Reply:  # noqa: ANN401
        try:
            return self._http.request(method, path, body=body, params=params, safe=True)
        except PanelRefused as error:
            if error.status == 404:
                raise GoneFromPanel(f"The hosting subscription is no longer on {PRODUCT}.") from error
            raise

    def subscription(self, customer_id: str, subscription_id: int) -> EnhanceSubscription:
        """One subscription; GoneFromPanel when it does not exist."""
        reply = self._on_subscription("GET", f"/orgs/{customer_id}/subscriptions/{subscription_id}")
        return _subscription(json_object(reply, product=PRODUCT))

    def update_subscription(self, customer_id: str, subscription_id: int, **fields: Any) -> None:  # noqa: ANN401
        """PATCH `isSuspended`, `planId` or `friendlyName` (idempotent, so retried)."""
        self._on_subscription("PATCH", f"/orgs/{customer_id}/subscriptions/{subscription_id}", fields)

    def delete_subscription(self, customer_id: str, subscription_id: int, *, force: bool = False) -> None:
        """Delete (soft by default; cascades to its websites)."""
        params = {"force": "true"} if force else None
        self._on_subscription("DELETE", f"/orgs/{customer_id}/subscriptions/{subscription_id}", params=params)

    def bandwidth(self, customer_id: str, subscription_id: int) -> int:
        """Bytes transferred this month."""
        reply = self._on_subscription("GET", f"/orgs/{customer_id}/subscriptions/{subscription_id}/bandwidth")
        value = reply.body if is_json(reply.body) else reply.text
        return as_int(value, product=PRODUCT, field="bandwidth")

    def create_website(
        self, customer_id: str, *, domain: str, subscription_id: int, server_group_id: str = ""
    ) -> str:
        """A website on the subscription; 409 (PanelRefused) when the domain exists."""
        body: dict[str, Any] = {"domain": domain, "subscriptionId": subscription_id}
        if server_group_id:
            body["serverGroupId"] = server_group_id
        return str(self._create(f"/orgs/{customer_id}/websites", body, {"kind": "normal"}))

    def domain_status(self, customer_id: str, domain: str) -> str:
        """`notInUse`, `inUseCurrentOrg`, `inUseAnotherOrg`, `prohibited`, … (as the panel says)."""
        reply = self._http.request(
            "POST", f"/orgs/{customer_id}/domains/check", body={"domain": domain}, safe=True
        )
        return _text(json_object(reply, product=PRODUCT), "status")

    def websites(self, customer_id: str, *, subscription_id: int) -> list[EnhanceWebsite]:
        """The subscription's websites."""
        reply = self._get(f"/orgs/{customer_id}/websites", {"subscriptionId": subscription_id, "limit": 1000})
        return [_website(r) for r in _rows(reply)]
